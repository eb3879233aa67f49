package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdleCloseHandlerTest {

    private static EmbeddedChannel channel(int activeRequests, io.netty.channel.ChannelHandler... handlers) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(ServerChannelInitializer.ACTIVE_REQUESTS).set(new AtomicInteger(activeRequests));
        ch.pipeline().addLast(handlers);
        return ch;
    }

    @Test
    void idleConnectionWithoutRequestsIsClosed() {
        EmbeddedChannel ch = channel(0, IdleCloseHandler.INSTANCE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void idleConnectionServingARequestStaysOpen() {
        EmbeddedChannel ch = channel(1, IdleCloseHandler.INSTANCE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertTrue(ch.isOpen(), "a slow model's first byte may take minutes");

        ch.attr(ServerChannelInitializer.ACTIVE_REQUESTS).get().decrementAndGet();
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertFalse(ch.isOpen(), "closed at the next idle event once the request is done");
        assertFalse(ch.finish());
    }

    @Test
    void idleConnectionThatCountsNoRequestsIsClosed() {
        // an admin connection: its answers take milliseconds, so nothing counts them
        EmbeddedChannel ch = new EmbeddedChannel(IdleCloseHandler.INSTANCE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void otherEventsPassOnAndIdleEventsDoNot() {
        List<Object> seen = new ArrayList<>();
        EmbeddedChannel ch = channel(1, IdleCloseHandler.INSTANCE, new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                seen.add(evt);
            }
        });
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        ch.pipeline().fireUserEventTriggered("custom");
        assertEquals(List.of("custom"), seen);
        assertFalse(ch.finish());
    }

    @Test
    void withIdleStateHandlerTheTimeoutClosesAQuietConnection() {
        EmbeddedChannel ch = channel(0, new IdleStateHandler(0, 0, 30, TimeUnit.SECONDS), IdleCloseHandler.INSTANCE);
        ch.advanceTimeBy(29, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen(), "not idle for long enough yet");
        ch.advanceTimeBy(2, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }
}
