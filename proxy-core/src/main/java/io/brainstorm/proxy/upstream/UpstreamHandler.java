package io.brainstorm.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Last handler of an upstream connection's pipeline: hands what the connection reads to the
 * {@link UpstreamListener} of the request it currently serves. A pooled connection has no
 * listener; anything it reads then (the server closing, stray bytes) closes it. The pool's own
 * notes on the connection are a channel attribute ({@link UpstreamClient}): this handler is gone
 * from the pipeline once the channel closed.
 *
 * <p><b>Threading:</b> its one field is only touched on the connection's event loop, which is
 * also the client channel's (connections are opened on it), so it needs no {@code volatile}.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private @Nullable UpstreamListener listener;

    void attach(UpstreamListener listener) {
        this.listener = listener;
    }

    void detach() {
        this.listener = null;
    }

    boolean attached() {
        return listener != null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamListener l = listener;
        if (l == null || !(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        l.onUpstreamRead((HttpObject) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamListener l = listener;
        listener = null;
        ctx.close();
        if (l != null) {
            l.onUpstreamError(cause);
        }
    }
}
