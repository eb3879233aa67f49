package io.brainstorm.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * First handler of a client connection: keeps reading the socket while an HTTP/1.1 request is
 * served with auto-read off, so that a client that leaves is noticed at once and its upstream
 * request cancelled. With auto-read off nothing reads the socket, and NIO only learns of a
 * client's FIN by reading (epoll sees it as {@code EPOLLRDHUP}); the upstream request would run
 * on, holding its breaker permit and budget, until it ended by itself.
 *
 * <p>While {@link #watch watching}, what the socket delivers (a pipelined next request) is held
 * here rather than passed on, up to {@link #MAX_HELD_BYTES} (then reading stops, and TCP pushes
 * back on the client); {@link #unwatch} passes it on in order. A FIN or reset closes the channel
 * as usual, and {@link ApiHandler#channelInactive} cancels the exchange.
 *
 * <p><b>Threading:</b> everything runs on the connection's event loop.
 *
 * <p><b>Reference counting:</b> held bytes are passed on by {@link #unwatch}, or released when the
 * channel closes or this handler is removed.
 */
final class ClientCloseWatch extends ChannelInboundHandlerAdapter {
    static final int MAX_HELD_BYTES = 64 * 1024;

    private @Nullable ChannelHandlerContext ctx;
    private boolean watching;
    private @Nullable ByteBuf held;
    /** Something of the current read batch went on to the request handlers: they get its end too. */
    private boolean passedOn;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** A request is being served with auto-read off: read on, holding what comes. */
    void watch() {
        watching = true;
        readIfRoom();
    }

    /** The request was answered: pass on what was read meanwhile. */
    void unwatch() {
        watching = false;
        ByteBuf b = held;
        held = null;
        if (b != null) {
            ChannelHandlerContext c = ctx();
            c.fireChannelRead(b);
            c.fireChannelReadComplete();
        }
    }

    private void readIfRoom() {
        if (held == null || held.readableBytes() < MAX_HELD_BYTES) {
            // from this context, so the read reaches the socket without passing the request handlers
            ctx().read();
        }
    }

    /** This handler's context: set when it was added, before {@link ApiHandler} can find it. */
    private ChannelHandlerContext ctx() {
        return Objects.requireNonNull(ctx, "ctx (set by handlerAdded)");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!watching || !(msg instanceof ByteBuf buf)) {
            passedOn = true;
            ctx.fireChannelRead(msg);
            return;
        }
        held = held == null ? buf : ByteToMessageDecoder.COMPOSITE_CUMULATOR.cumulate(ctx.alloc(), held, buf);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        boolean passed = passedOn;
        passedOn = false;
        if (watching && !ctx.channel().config().isAutoRead()) {
            readIfRoom();
        }
        if (passed || !watching) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseHeld();
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
