package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ClientCloseWatchTest {
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger readCompletes = new AtomicInteger();
    private final ClientCloseWatch watch = new ClientCloseWatch();

    private EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAutoRead(false);
        // counts the reads the watch asks of the socket
        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
            }
        });
        ch.pipeline().addLast(watch);
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                readCompletes.incrementAndGet();
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.fireChannelRead(msg);
            }
        });
        return ch;
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void passesEverythingOnWhenNotWatching() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(text("GET / HTTP/1.1\r\n"));
        ByteBuf in = ch.readInbound();
        assertEquals("GET / HTTP/1.1\r\n", in.toString(StandardCharsets.US_ASCII));
        in.release();
        assertEquals(1, readCompletes.get());
        assertFalse(ch.finish());
    }

    @Test
    void readsOnWhileWatchingAndPassesWhatCameOnInOrderWhenTheWatchEnds() {
        EmbeddedChannel ch = channel();
        watch.watch();
        assertEquals(1, reads.get(), "watching asks the socket for a read although auto-read is off");
        ch.writeInbound(text("POST /v1/a"));
        ch.writeInbound(text(" HTTP/1.1\r\n"));
        assertNull(ch.readInbound(), "held while the request is served");
        assertEquals(0, readCompletes.get());
        assertTrue(reads.get() >= 3, "each read batch asks for the next: " + reads);
        watch.unwatch();
        ByteBuf in = ch.readInbound();
        assertEquals("POST /v1/a HTTP/1.1\r\n", in.toString(StandardCharsets.US_ASCII));
        in.release();
        assertEquals(1, readCompletes.get());
        assertFalse(ch.finish());
    }

    @Test
    void stopsReadingWhenItHoldsEnoughAndReleasesWhatItHeldWhenTheClientLeaves() {
        EmbeddedChannel ch = channel();
        watch.watch();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[ClientCloseWatch.MAX_HELD_BYTES]));
        int readsSoFar = reads.get();
        ch.writeInbound(text("more"));
        assertEquals(readsSoFar, reads.get(), "no further reads once the hold is full");
        // the client's FIN: the channel closes, the held bytes are released (the leak check would see them)
        ch.close();
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }
}
