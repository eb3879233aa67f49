package io.brainstorm.proxy.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scripted OpenAI-compatible upstream on a loopback port 0, plain or TLS, for end-to-end tests
 * that need failures the simulated provider cannot give per endpoint. What it does is set with
 * {@link #behave}; it records every request it receives.
 *
 * <p>Its long stream ({@link Behaviour#longStream}) writes only while the connection is writable
 * and counts the bytes the socket accepted, so a test can see whether its reader (the gateway)
 * stopped reading.
 */
final class FakeUpstream implements AutoCloseable {
    /** What to answer. */
    record Behaviour(
            int status,
            String errorBody,
            boolean hang,
            boolean reset,
            int streamEvents,
            int eventBytes,
            boolean stall,
            String retryAfter) {
        static Behaviour ok() {
            return new Behaviour(200, null, false, false, 0, 0, false, null);
        }

        static Behaviour status(int status, String body) {
            return new Behaviour(status, body, false, false, 0, 0, false, null);
        }

        /** 200 with {@code body} as the whole answer. */
        static Behaviour answer(String body) {
            return new Behaviour(200, body, false, false, 0, 0, false, null);
        }

        /** 429 with {@code Retry-After: retryAfter}. */
        static Behaviour rateLimited(String retryAfter) {
            return new Behaviour(429, null, false, false, 0, 0, false, retryAfter);
        }

        static Behaviour hanging() {
            return new Behaviour(0, null, true, false, 0, 0, false, null);
        }

        static Behaviour resetting() {
            return new Behaviour(0, null, false, true, 0, 0, false, null);
        }

        /** A stream of {@code events} content chunks, each about {@code eventBytes} long, with flow control. */
        static Behaviour longStream(int events, int eventBytes) {
            return new Behaviour(200, null, false, false, events, eventBytes, false, null);
        }

        /** A stream that sends its head and one content chunk, then nothing more, keeping the connection. */
        static Behaviour stallingStream() {
            return new Behaviour(200, null, false, false, 0, 0, true, null);
        }

        /** A stream that sends its head and one content chunk, then resets the connection. */
        static Behaviour streamThenReset() {
            return new Behaviour(200, null, false, true, 0, 0, true, null);
        }
    }

    record Recorded(String path, Map<String, String> headers, String body) {}

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final SslContext ssl;
    private volatile Behaviour behaviour = Behaviour.ok();
    final List<Recorded> requests = new CopyOnWriteArrayList<>();
    final AtomicLong streamBytesWritten = new AtomicLong();
    final AtomicInteger openConnections = new AtomicInteger();
    final AtomicInteger streamsFinished = new AtomicInteger();

    FakeUpstream(SslContext ssl) throws InterruptedException {
        this.ssl = ssl;
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        openConnections.incrementAndGet();
                        ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(
                                        new HttpServerCodec(),
                                        new HttpObjectAggregator(8 * 1024 * 1024),
                                        new Handler());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    FakeUpstream() throws InterruptedException {
        this(null);
    }

    FakeUpstream behave(Behaviour b) {
        behaviour = b;
        return this;
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    String baseUrl() {
        return (ssl != null ? "https" : "http") + "://127.0.0.1:" + port() + "/v1";
    }

    Recorded lastRequest() {
        return requests.isEmpty() ? null : requests.get(requests.size() - 1);
    }

    static String completion(String model, String text) {
        return """
                {"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"%s",\
                "choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],\
                "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}""".formatted(model, text);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Map<String, String> headers = new LinkedHashMap<>();
            req.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + ", " + b));
            String body = req.content().toString(StandardCharsets.UTF_8);
            requests.add(new Recorded(req.uri(), headers, body));
            Behaviour b = behaviour;
            if (b.hang()) {
                return;
            }
            if (b.reset() && !b.stall()) {
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
                return;
            }
            if (b.status() != 200 || b.errorBody() != null) {
                String err = b.errorBody() != null
                        ? b.errorBody()
                        : "{\"error\":{\"message\":\"fake says " + b.status()
                                + "\",\"type\":\"api_error\",\"param\":null,\"code\":null}}";
                write(ctx, HttpResponseStatus.valueOf(b.status()), err, b.retryAfter());
                return;
            }
            String model = body.replaceAll("(?s).*\"model\"\\s*:\\s*\"([^\"]*)\".*", "$1");
            if (b.stall()) {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
                HttpUtil.setTransferEncodingChunked(head, true);
                ctx.write(head);
                var sent = ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(
                        "data: {\"object\":\"chat.completion.chunk\"," + "\"model\":\"" + model
                                + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"stall\"}}]}\n\n",
                        StandardCharsets.UTF_8)));
                if (b.reset()) {
                    sent.addListener(f -> {
                        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                        ctx.close();
                    });
                }
                return;
            }
            if (b.streamEvents() > 0) {
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
                HttpUtil.setTransferEncodingChunked(head, true);
                ctx.writeAndFlush(head);
                new LongStream(ctx, model, b.streamEvents(), b.eventBytes()).pump();
                return;
            }
            write(ctx, HttpResponseStatus.OK, completion(model, "hello from the fake upstream"), null);
        }

        private void write(ChannelHandlerContext ctx, HttpResponseStatus status, String json, String retryAfter) {
            FullHttpResponse r = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
            r.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            if (retryAfter != null) {
                r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
            }
            ctx.writeAndFlush(r);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Writes while writable and resumes on the write's completion; counts what the socket took. */
    private final class LongStream {
        private final ChannelHandlerContext ctx;
        private final String chunk;
        private final int events;
        private int sent;

        LongStream(ChannelHandlerContext ctx, String model, int events, int eventBytes) {
            this.ctx = ctx;
            this.events = events;
            String pad = "x".repeat(Math.max(1, eventBytes - 160));
            this.chunk = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                    + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + pad + "\"}}]}\n\n";
        }

        void pump() {
            while (sent < events && ctx.channel().isActive()) {
                ByteBuf buf = ByteBufUtil.writeUtf8(ctx.alloc(), chunk);
                int n = buf.readableBytes();
                sent++;
                var f = ctx.writeAndFlush(new DefaultHttpContent(buf));
                f.addListener(w -> {
                    if (w.isSuccess()) {
                        streamBytesWritten.addAndGet(n);
                    }
                });
                if (!ctx.channel().isWritable()) {
                    f.addListener(w -> {
                        if (w.isSuccess()) {
                            ctx.executor().execute(this::pump);
                        }
                    });
                    return;
                }
            }
            if (sent == events && ctx.channel().isActive()) {
                String usage = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"x\","
                        + "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":" + events
                        + ",\"total_tokens\":" + (events + 3) + "}}\n\ndata: [DONE]\n\n";
                ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(usage, StandardCharsets.UTF_8)));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                        .addListener((ChannelFutureListener) f -> streamsFinished.incrementAndGet());
                sent++;
            }
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
