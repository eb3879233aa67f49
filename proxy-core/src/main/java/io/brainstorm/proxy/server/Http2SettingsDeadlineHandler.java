package io.brainstorm.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Closes an HTTP/2 connection whose client sent the preface but not, within the deadline, the
 * SETTINGS frame that must follow it (RFC 9113 §3.4): a GOAWAY ({@code SETTINGS_TIMEOUT}), then
 * the close. Without it such a connection holds a slot until the idle timer, and the idle timer
 * waits minutes. Once the client's SETTINGS arrive it removes itself.
 *
 * <p><b>Where it sits.</b> After the HTTP/2 frame codec and the stream multiplexer, where the
 * connection's own frames arrive, and where its GOAWAY passes the frame codec; it is put there
 * when the connection turns to HTTP/2 (prior knowledge or {@code Upgrade: h2c}), and starts its one
 * timer then.
 *
 * <p><b>Threading.</b> Event loop only, the timer included. <b>Ownership.</b> Every message passes on.
 */
final class Http2SettingsDeadlineHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger log = System.getLogger(Http2SettingsDeadlineHandler.class.getName());

    private final long timeoutNanos;
    private @Nullable ScheduledFuture<?> timer;

    Http2SettingsDeadlineHandler(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (settingsReceived(ctx)) {
            ctx.pipeline().remove(this);
            return;
        }
        timer = ctx.executor()
                .schedule(
                        () -> {
                            timer = null;
                            if (settingsReceived(ctx)) {
                                ctx.pipeline().remove(this);
                                return;
                            }
                            log.log(
                                    System.Logger.Level.DEBUG,
                                    "HTTP/2 client {0} sent no SETTINGS within {1} ms; closing",
                                    ctx.channel().remoteAddress(),
                                    TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
                            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.SETTINGS_TIMEOUT));
                            ctx.close();
                        },
                        timeoutNanos,
                        TimeUnit.NANOSECONDS);
    }

    /**
     * Whether the codec has read the client's SETTINGS. With prior knowledge they usually arrive in
     * the preface's own read and pass by before this handler is in place, so the codec is asked.
     */
    private static boolean settingsReceived(ChannelHandlerContext ctx) {
        Http2ConnectionHandler codec = ctx.pipeline().get(Http2ConnectionHandler.class);
        return codec != null && codec.decoder().prefaceReceived();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2SettingsFrame) {
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
