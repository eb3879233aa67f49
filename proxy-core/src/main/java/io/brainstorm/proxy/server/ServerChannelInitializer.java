package io.brainstorm.proxy.server;

import io.brainstorm.proxy.config.ServerConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds a client connection's pipeline, with the stages it shares with the admin listener taken
 * from {@link HttpPipeline}. Reads as a table of contents:
 * <pre>
 *   close-watch → limit → idle → idle-close → deadline bytes → h2c (prior knowledge, or HTTP/1.1 with Upgrade: h2c)
 *                                                              → deadline → h1 setup
 *   HTTP/1.1:  deadline bytes → http codec → deadline → keep-alive → aggregator → flow control → api
 *   HTTP/2:    frame codec → multiplex → settings deadline (until the client's SETTINGS)
 *              per stream: frame↔HTTP object codec → deadline (body) → aggregator → api
 * </pre>
 * Both protocols end in the same two handlers ({@link RequestAggregator}, {@link ApiHandler}),
 * so every request takes one path whatever the protocol.
 */
final class ServerChannelInitializer extends ChannelInitializer<Channel> {
    /** Requests being served on a connection; idle connections close only at zero. */
    static final AttributeKey<AtomicInteger> ACTIVE_REQUESTS = AttributeKey.valueOf("br.activeRequests");

    static final String CLOSE_WATCH = "close-watch";
    static final String LIMIT = "limit";
    static final String H2C = "h2c";
    static final String DEADLINE_BYTES = "deadline-bytes";
    static final String DEADLINE = "deadline";
    static final String SETTINGS_DEADLINE = "settings-deadline";
    static final String H1_SETUP = "h1-setup";
    static final String API = "api";

    private final Gateway gateway;
    private final ServerConfig config;
    private final HttpPipeline http;
    private final ConnectionLimitHandler limit;

    ServerChannelInitializer(Gateway gateway, ChannelGroup channels) {
        this.gateway = gateway;
        this.config = gateway.config().server();
        // RFC 9112 §6.3: Content-Length beside Transfer-Encoding is refused (400), not quietly dropped
        this.http = new HttpPipeline(
                8192, config.maxHeaderBytes(), 16384, config.maxBodyBytes(), config.idleTimeout(), true);
        this.limit = new ConnectionLimitHandler(config.maxConnections(), channels);
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.attr(ACTIVE_REQUESTS).set(new AtomicInteger());
        ChannelPipeline p = ch.pipeline();
        addCloseWatch(p);
        addConnectionLimit(p);
        http.addIdleClose(p);
        RequestDeadlineHandler deadline =
                RequestDeadlineHandler.forConnection(config.headerTimeout(), config.bodyTimeout());
        addReadWatch(p, deadline);
        addProtocolDetection(p, deadline);
    }

    private void addCloseWatch(ChannelPipeline p) {
        p.addLast(CLOSE_WATCH, new ClientCloseWatch());
    }

    private void addConnectionLimit(ChannelPipeline p) {
        p.addLast(LIMIT, limit);
    }

    /** Before any decoder, so a request's head has its deadline from its first byte. */
    private static void addReadWatch(ChannelPipeline p, RequestDeadlineHandler deadline) {
        p.addLast(DEADLINE_BYTES, deadline.byteWatch());
    }

    private void addProtocolDetection(ChannelPipeline p, RequestDeadlineHandler deadline) {
        HttpServerCodec http1 = http.codec();
        // the Upgrade path buffers the whole first request, so its limit is the 413 limit (docs/architecture.md §12)
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(
                http1,
                protocol -> AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new Http2ServerUpgradeCodec(newFrameCodec(), newMultiplexHandler())
                        : null,
                config.maxBodyBytes());
        p.addLast(H2C, new CleartextHttp2ServerUpgradeHandler(http1, upgrade, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(newFrameCodec(), newMultiplexHandler());
            }
        }));
        p.addLast(DEADLINE, deadline);
        p.addLast(H1_SETUP, new Http1Setup());
    }

    private Http2FrameCodec newFrameCodec() {
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxHeaderListSize(config.maxHeaderBytes())
                        .maxConcurrentStreams(1000))
                .gracefulShutdownTimeoutMillis(config.shutdownGrace().toMillis())
                .validateHeaders(true)
                .build();
    }

    private Http2MultiplexHandler newMultiplexHandler() {
        return new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                ChannelPipeline p = stream.pipeline();
                p.addLast(new Http2StreamFrameToHttpObjectCodec(true));
                p.addLast(DEADLINE, RequestDeadlineHandler.forStream(config.bodyTimeout()));
                addRequestHandlers(p);
            }
        });
    }

    private void addRequestHandlers(ChannelPipeline p) {
        p.addLast(HttpPipeline.AGGREGATOR, http.aggregator());
        p.addLast(API, new ApiHandler(gateway));
    }

    /**
     * Waits for the first HTTP/1.1 message that did not upgrade, then puts the HTTP/1.1 request
     * handlers in its place. After an upgrade to HTTP/2 it swaps the HTTP/1.1 deadlines for the
     * wait for the client's SETTINGS, and goes.
     */
    private final class Http1Setup extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpMessage) {
                ChannelPipeline p = ctx.pipeline();
                // pipelined requests decoded from one read wait in flow control until the api handler
                // turns auto-read back on
                http.addRequestStages(p, ctx.name());
                p.addAfter(HttpPipeline.FLOW_CONTROL, API, new ApiHandler(gateway));
                p.remove(this);
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent
                    || evt instanceof CleartextHttp2ServerUpgradeHandler.PriorKnowledgeUpgradeEvent) {
                ChannelPipeline p = ctx.pipeline();
                p.remove(DEADLINE_BYTES);
                p.remove(DEADLINE);
                // last: behind the multiplexer, where the connection's frames arrive (the HTTP/2
                // handlers are appended at the end on prior knowledge, so a replace in place would not do)
                p.addLast(SETTINGS_DEADLINE, new Http2SettingsDeadlineHandler(config.h2SettingsTimeout()));
                p.remove(this);
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
