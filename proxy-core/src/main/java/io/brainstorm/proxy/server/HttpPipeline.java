package io.brainstorm.proxy.server;

import io.brainstorm.proxy.api.ApiError;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.ContentLengthNotAllowedException;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The one way the gateway's two HTTP listeners are built: the client listener
 * ({@link ServerChannelInitializer}) and the admin listener ({@code admin.AdminServer}) take the
 * stages they share from here, under the same names, with their own limits:
 * <pre>
 *   bootstrap:  SO_REUSEADDR, TCP_NODELAY on each connection
 *   connection: http codec (limits) … idle → idle-close
 *   HTTP/1.1:   keep-alive → aggregator (413 past max body) → flow control → the listener's handlers
 * </pre>
 * and answer alike what the HTTP decoder refused ({@link #malformed}) and an error on a connection
 * ({@link #closeOnError}). Each listener adds its own stages around these (the client listener's
 * deadlines and HTTP/2; the admin listener's dashboard).
 *
 * @param maxInitialLineBytes     longest request line; a longer one is answered 400
 * @param maxHeaderBytes          largest request head; a larger one is answered 431
 * @param maxChunkBytes           largest piece of a body the decoder passes on at once
 * @param maxBodyBytes            largest request body; a larger one is answered 413
 * @param idleTimeout             how long a connection may carry no traffic before it is closed
 * @param rfc9112TransferEncoding whether Content-Length beside Transfer-Encoding is refused (400, RFC 9112
 *                                §6.3) rather than dropped, as Netty does by default
 */
public record HttpPipeline(
        int maxInitialLineBytes,
        int maxHeaderBytes,
        int maxChunkBytes,
        int maxBodyBytes,
        Duration idleTimeout,
        boolean rfc9112TransferEncoding) {
    public static final String IDLE = "idle";
    public static final String IDLE_CLOSE = "idle-close";
    public static final String KEEP_ALIVE = "keep-alive";
    public static final String AGGREGATOR = "aggregator";
    public static final String FLOW_CONTROL = "flow-control";

    public HttpPipeline {
        positive("maxInitialLineBytes", maxInitialLineBytes);
        positive("maxHeaderBytes", maxHeaderBytes);
        positive("maxChunkBytes", maxChunkBytes);
        positive("maxBodyBytes", maxBodyBytes);
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: > 0)");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }

    /**
     * A listener's bootstrap on {@code boss} and {@code workers}; the caller binds it.
     *
     * @param channelClass the listener channel class of the transport the groups were made for
     * @param connections  each accepted connection's initializer
     */
    public static ServerBootstrap bootstrap(
            EventLoopGroup boss,
            EventLoopGroup workers,
            Class<? extends ServerChannel> channelClass,
            ChannelHandler connections) {
        return new ServerBootstrap()
                .group(boss, workers)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(connections);
    }

    /** A connection's HTTP/1.1 codec, bounded by these limits. */
    public HttpServerCodec codec() {
        return new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(maxChunkBytes)
                .setUseRfc9112TransferEncoding(rfc9112TransferEncoding));
    }

    /**
     * Closes a connection with no traffic in either direction for {@link #idleTimeout}, unless a
     * request on it is still being served ({@link IdleCloseHandler}).
     */
    public void addIdleClose(ChannelPipeline p) {
        p.addLast(IDLE, new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
        p.addLast(IDLE_CLOSE, IdleCloseHandler.INSTANCE);
    }

    /**
     * The HTTP/1.1 request stages after the stage named {@code after}: keep-alive, the aggregator
     * ({@link #aggregator()}), and flow control, where requests decoded from one read wait while the
     * listener's handler has auto-read off. The listener's handlers go after {@link #FLOW_CONTROL}.
     */
    public void addRequestStages(ChannelPipeline p, String after) {
        p.addAfter(after, KEEP_ALIVE, new HttpServerKeepAliveHandler());
        p.addAfter(KEEP_ALIVE, AGGREGATOR, aggregator());
        p.addAfter(AGGREGATOR, FLOW_CONTROL, new FlowControlHandler());
    }

    /** Whole requests of at most {@link #maxBodyBytes}, a larger one answered 413 ({@link RequestAggregator}). */
    public RequestAggregator aggregator() {
        return new RequestAggregator(maxBodyBytes);
    }

    /**
     * What a client sees for a request the HTTP decoder refused ({@code cause}): a head over
     * {@code maxHeaderBytes} is a 431, a request line too long or a malformed request a 400.
     */
    public static ApiError malformed(Throwable cause, int maxHeaderBytes) {
        return cause instanceof TooLongHttpHeaderException
                ? ApiError.headersTooLarge(maxHeaderBytes)
                : cause instanceof TooLongFrameException
                        ? ApiError.invalidRequest(null, "The request line is too long.")
                        : cause instanceof ContentLengthNotAllowedException
                                ? ApiError.invalidRequest(
                                        null, "Malformed HTTP request: Content-Length beside Transfer-Encoding.")
                                : ApiError.invalidRequest(null, "Malformed HTTP request.");
    }

    /**
     * A listener's last word on an error no handler dealt with: logged to {@code log} (quietly when
     * the peer went away in the middle of a request), and the connection closed.
     *
     * @param listener the listener's name in the log: {@code client} or {@code admin}
     */
    public static void closeOnError(ChannelHandlerContext ctx, Throwable cause, System.Logger log, String listener) {
        if (cause instanceof IOException || cause instanceof PrematureChannelClosureException) {
            log.log(System.Logger.Level.DEBUG, "{0} connection error: {1}", listener, cause.toString());
        } else {
            log.log(
                    System.Logger.Level.WARNING,
                    "unexpected error on a connection to the " + listener + " listener",
                    cause);
        }
        ctx.close();
    }
}
