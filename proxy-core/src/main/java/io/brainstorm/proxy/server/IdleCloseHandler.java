package io.brainstorm.proxy.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes a connection that has been idle for the configured time, unless a request on it is still
 * being served (a reasoning model may take minutes before its first byte). Only client connections
 * count their requests ({@link ServerChannelInitializer#ACTIVE_REQUESTS}); an idle admin connection
 * closes at once, since admin answers take milliseconds.
 */
@ChannelHandler.Sharable
final class IdleCloseHandler extends ChannelInboundHandlerAdapter {
    static final IdleCloseHandler INSTANCE = new IdleCloseHandler();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            AtomicInteger active =
                    ctx.channel().attr(ServerChannelInitializer.ACTIVE_REQUESTS).get();
            if (active == null || active.get() == 0) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
