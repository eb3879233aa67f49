package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.relay.MessagesClient;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Total deadlines for reading a request, which the idle timer cannot give: a client that sends one
 * byte every few seconds resets the idle timer forever. The head must arrive within the header
 * deadline of its first byte, the body within the body deadline of the end of the head; otherwise
 * the client gets a 408 ({@code request_timeout}) and the connection (on HTTP/2: the stream) is
 * closed. Each request on a kept-alive connection has its own deadlines; the time between requests
 * is the idle timer's.
 *
 * <p><b>Where it sits.</b> On HTTP/1.1 right after the HTTP codec (before the aggregator), from the
 * connection's start, with its {@link #byteWatch()} before the codec: a read that brought bytes but
 * decoded no message while no request is open is the start of a head (a read of no bytes, as when
 * auto-read is turned back on, is not). On an HTTP/2 stream after the frame↔HTTP object codec,
 * with the body deadline only (the head arrives as one HEADERS block).
 *
 * <p><b>Cost.</b> One timer per connection at most, armed lazily: nothing is scheduled per byte or
 * per read, a request read whole in one read schedules nothing, and a timer that finds its
 * deadline moved later re-arms itself for the rest instead of being cancelled and rescheduled.
 *
 * <p><b>Threading.</b> Everything runs on the channel's event loop, the timer included; no field
 * needs to be volatile.
 *
 * <p><b>Ownership.</b> Messages pass on untouched, except after a 408: then whatever the decoder
 * still produces before the close is released here, so no late request is served on a connection
 * already answered.
 *
 * <p><b>Errors.</b> While the gateway itself is not reading (HTTP/1.1 auto-read off while an earlier
 * pipelined request is served), the wait is the gateway's, not the client's: an expired deadline
 * then starts over instead of answering 408.
 */
final class RequestDeadlineHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger log = System.getLogger(RequestDeadlineHandler.class.getName());

    private enum State {
        IDLE,
        HEAD,
        BODY,
        EXPIRED
    }

    /** Zero on an HTTP/2 stream: no header deadline there. */
    private final long headerNanos;

    private final long bodyNanos;
    private final boolean closeConnection;

    private State state = State.IDLE;
    /** Whether the request whose body is awaited is to the Messages API (its errors in Anthropic's shape). */
    private boolean messagesApi;

    private long deadlineNanos;
    /** Whether this read produced any message; a read that produced none while idle began a head. */
    private boolean decodedThisRead;
    /** Whether this read brought any bytes, as {@link #byteWatch()} saw them before the codec. */
    private boolean bytesThisRead;

    private final ByteWatch byteWatch = new ByteWatch();
    private @Nullable ScheduledFuture<?> timer;
    private long timerNanos;

    private RequestDeadlineHandler(@Nullable Duration header, Duration body, boolean closeConnection) {
        this.headerNanos = header == null ? 0 : header.toNanos();
        this.bodyNanos = body.toNanos();
        this.closeConnection = closeConnection;
    }

    /** For an HTTP/1.1 connection: header and body deadlines; a 408 closes the connection. */
    static RequestDeadlineHandler forConnection(Duration header, Duration body) {
        return new RequestDeadlineHandler(header, body, true);
    }

    /** For an HTTP/2 stream: the body deadline; a 408 closes (resets) this stream only. */
    static RequestDeadlineHandler forStream(Duration body) {
        return new RequestDeadlineHandler(null, body, false);
    }

    /**
     * The part that sits before the HTTP codec (HTTP/1.1 only) and notes that a read brought bytes;
     * it passes everything on and keeps no state of its own.
     */
    ChannelInboundHandlerAdapter byteWatch() {
        return byteWatch;
    }

    private final class ByteWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                bytesThisRead = true;
            }
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.EXPIRED) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpObject) {
            decodedThisRead = true;
            if (msg instanceof HttpRequest && !(msg instanceof LastHttpContent)) {
                state = State.BODY;
                messagesApi = MessagesClient.isMessagesPath(((HttpRequest) msg).uri());
                deadlineNanos = now(ctx) + bodyNanos;
            } else if (msg instanceof LastHttpContent) {
                state = State.IDLE;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.IDLE && bytesThisRead && !decodedThisRead && headerNanos > 0) {
            state = State.HEAD;
            deadlineNanos = now(ctx) + headerNanos;
        }
        decodedThisRead = false;
        bytesThisRead = false;
        if (state == State.HEAD || state == State.BODY) {
            arm(ctx);
        }
        ctx.fireChannelReadComplete();
    }

    /** Makes sure a timer fires no later than the deadline; an earlier one re-arms itself when it fires. */
    private void arm(ChannelHandlerContext ctx) {
        if (timer != null) {
            if (timerNanos - deadlineNanos <= 0) {
                return;
            }
            timer.cancel(false);
        }
        long delay = Math.max(0, deadlineNanos - now(ctx));
        timerNanos = deadlineNanos;
        timer = ctx.executor().schedule(() -> onTimer(ctx), delay, TimeUnit.NANOSECONDS);
    }

    private void onTimer(ChannelHandlerContext ctx) {
        timer = null;
        if (state != State.HEAD && state != State.BODY || !ctx.channel().isActive()) {
            return;
        }
        long now = now(ctx);
        if (deadlineNanos - now > 0) {
            arm(ctx);
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            // an earlier request is being served and nothing is read meanwhile: not the client's delay
            deadlineNanos = now + (state == State.HEAD ? headerNanos : bodyNanos);
            arm(ctx);
            return;
        }
        expire(ctx);
    }

    private void expire(ChannelHandlerContext ctx) {
        boolean head = state == State.HEAD;
        state = State.EXPIRED;
        ApiError error = ApiError.requestTimeout(
                head
                        ? "The request headers were not received within " + seconds(headerNanos) + " seconds."
                        : "The request body was not received within " + seconds(bodyNanos)
                                + " seconds of its headers.");
        String requestId = RequestIds.next();
        log.log(
                System.Logger.Level.DEBUG,
                "request {0}: {1} deadline passed, answering 408",
                requestId,
                head ? "header" : "body");
        FullHttpResponse response = ApiHandler.error(ctx, error, requestId, !head && messagesApi);
        if (closeConnection) {
            HttpUtil.setKeepAlive(response, false);
        }
        // on HTTP/2 this closes the stream only: a reset after the answer, other streams go on
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** The event loop's clock, the one its timers run on (a test's {@code EmbeddedChannel} moves it). */
    private static long now(ChannelHandlerContext ctx) {
        return ctx.executor() instanceof AbstractScheduledEventExecutor loop
                ? loop.ticker().nanoTime()
                : System.nanoTime();
    }

    private static long seconds(long nanos) {
        return TimeUnit.NANOSECONDS.toSeconds(nanos);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
