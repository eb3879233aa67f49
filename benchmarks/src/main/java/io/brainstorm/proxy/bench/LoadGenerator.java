package io.brainstorm.proxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Closed-loop HTTP/1.1 load generator for the end-to-end benchmark ({@code benchmarks/load/run.sh}).
 *
 * <p>Opens {@code --connections} keep-alive connections; each sends the same POST back to back, the
 * next as soon as the previous answer has been read completely. Requests that start after the
 * warm-up and finish before the end of the measured window are recorded (microseconds, into an
 * {@link Histogram} per connection, merged at the end). Answers other than 2xx count as errors,
 * and so do connections that break; a broken connection is reopened.
 *
 * <p>Modes: {@code plain} measures the whole exchange (request written → last byte of the
 * answer); {@code stream} sends the body as given (it should say {@code "stream":true}) and
 * records time to first byte of the body (the first SSE bytes) as well as the whole stream.
 *
 * <p>Output: a human-readable summary on stderr and one {@code RESULT key=value ...} line on
 * stdout for scripts.
 *
 * <p><b>Threading.</b> Each connection's state lives on its event loop; the main thread only
 * reads the histograms after the event loops have terminated.
 */
public final class LoadGenerator {
    private static final long HIGHEST_US = TimeUnit.SECONDS.toMicros(60);

    private final URI url;
    private final @Nullable String authorization;
    private final byte[] body;
    private final boolean streamMode;
    private final long warmupEndNanos;
    private final long endNanos;
    private final List<Conn> conns = new ArrayList<>();

    private LoadGenerator(
            URI url,
            @Nullable String authorization,
            byte[] body,
            boolean streamMode,
            long warmupEndNanos,
            long endNanos) {
        this.url = url;
        this.authorization = authorization;
        this.body = body;
        this.streamMode = streamMode;
        this.warmupEndNanos = warmupEndNanos;
        this.endNanos = endNanos;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args);
        URI url = URI.create(require(o, "url"));
        String key = o.getOrDefault("key", "");
        byte[] body = o.containsKey("body-file")
                ? Files.readAllBytes(Path.of(o.get("body-file")))
                : require(o, "body").getBytes(StandardCharsets.UTF_8);
        int connections = positive(o, "connections", 1);
        int threads = positive(o, "threads", 1);
        double warmup = Double.parseDouble(o.getOrDefault("warmup", "5"));
        double duration = Double.parseDouble(o.getOrDefault("duration", "10"));
        if (!(duration > 0) || warmup < 0 || duration > 3600 || warmup > 3600) {
            throw new IllegalArgumentException("--duration " + duration + " --warmup " + warmup
                    + " (expected: 0 < duration <= 3600, 0 <= warmup <= 3600)");
        }
        String mode = o.getOrDefault("mode", "plain");
        if (!mode.equals("plain") && !mode.equals("stream")) {
            throw new IllegalArgumentException("--mode: " + mode + " (expected: plain or stream)");
        }
        String label = o.getOrDefault("label", url.getHost() + ":" + url.getPort());

        long t0 = System.nanoTime();
        long warmupEnd = t0 + (long) (warmup * 1e9);
        long end = warmupEnd + (long) (duration * 1e9);
        LoadGenerator gen = new LoadGenerator(
                url, key.isEmpty() ? null : "Bearer " + key, body, mode.equals("stream"), warmupEnd, end);
        gen.run(connections, threads);

        Histogram total = new Histogram(HIGHEST_US, 3);
        Histogram ttfb = new Histogram(HIGHEST_US, 3);
        long errors = 0;
        long connectFailures = 0;
        for (Conn c : gen.conns) {
            total.add(c.total);
            ttfb.add(c.ttfb);
            errors += c.errors;
            connectFailures += c.connectFailures;
        }
        long ok = total.getTotalCount();
        double rps = ok / duration;
        Histogram h = gen.streamMode ? ttfb : total;
        String what = gen.streamMode ? "ttfb" : "latency";
        System.err.printf(
                Locale.ROOT,
                "%s: %s c=%d %.0f req/s ok=%d errors=%d %s p50=%d p90=%d p99=%d p99.9=%d" + " max=%d us%s%n",
                label,
                mode,
                connections,
                rps,
                ok,
                errors,
                what,
                h.getValueAtPercentile(50),
                h.getValueAtPercentile(90),
                h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9),
                h.getMaxValue(),
                gen.streamMode
                        ? String.format(
                                Locale.ROOT,
                                " (whole stream p50=%d p99=%d us)",
                                total.getValueAtPercentile(50),
                                total.getValueAtPercentile(99))
                        : "");
        System.out.printf(
                Locale.ROOT,
                "RESULT label=%s mode=%s connections=%d duration=%.1f ok=%d errors=%d"
                        + " connect_failures=%d rps=%.1f p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f"
                        + " total_p50=%d total_p99=%d%n",
                label,
                mode,
                connections,
                duration,
                ok,
                errors,
                connectFailures,
                rps,
                h.getValueAtPercentile(50),
                h.getValueAtPercentile(90),
                h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9),
                h.getMaxValue(),
                h.getMean(),
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99));
        // A run where nothing succeeded is a broken setup, not a measurement.
        System.exit(ok > 0 ? 0 : 2);
    }

    private void run(int connections, int threads) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends SocketChannel> channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("load", true), io);
        try {
            ByteBuf template =
                    PooledByteBufAllocator.DEFAULT.directBuffer(body.length).writeBytes(body);
            HttpHeaders headers = new DefaultHttpHeaders();
            headers.set(HttpHeaderNames.HOST, url.getHost() + ":" + url.getPort());
            headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            headers.set(HttpHeaderNames.ACCEPT, streamMode ? "text/event-stream" : "application/json");
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (authorization != null) {
                headers.set(HttpHeaderNames.AUTHORIZATION, authorization);
            }
            String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
            Bootstrap b = new Bootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000);
            for (int i = 0; i < connections; i++) {
                Conn c = new Conn(b, template, headers, path);
                conns.add(c);
                c.connect();
            }
            long waitMs = TimeUnit.NANOSECONDS.toMillis(endNanos - System.nanoTime());
            if (waitMs > 0) {
                Thread.sleep(waitMs);
            }
            // Answers still in flight at the end are not counted; give them a moment, then close.
            Thread.sleep(200);
            for (Conn c : conns) {
                c.stop();
            }
            template.release();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** One keep-alive connection sending requests back to back. State confined to its event loop. */
    private final class Conn extends SimpleChannelInboundHandler<HttpObject> {
        final Histogram total = new Histogram(HIGHEST_US, 3);
        final Histogram ttfb = new Histogram(HIGHEST_US, 3);
        long errors;
        long connectFailures;
        private final Bootstrap bootstrap;
        private final ByteBuf template;
        private final HttpHeaders headers;
        private final String path;
        private volatile @Nullable Channel channel;
        private volatile boolean stopped;
        private long sentAt;
        private long firstByteAt;
        private boolean failed;
        private boolean inFlight;
        private boolean keepAlive;

        Conn(Bootstrap bootstrap, ByteBuf template, HttpHeaders headers, String path) {
            this.bootstrap = bootstrap.clone();
            this.template = template;
            this.headers = headers;
            this.path = path;
        }

        void connect() {
            if (stopped || System.nanoTime() >= endNanos) {
                return;
            }
            bootstrap.handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new HttpClientCodec(4096, 16384, 65536), Conn.this);
                }
            });
            bootstrap.connect(url.getHost(), url.getPort()).addListener(f -> {
                if (!f.isSuccess()) {
                    connectFailures++;
                    if (!stopped && System.nanoTime() < endNanos) {
                        // retry after a short pause, bounded by the run's end
                        bootstrap.config().group().next().schedule(this::connect, 100, TimeUnit.MILLISECONDS);
                    }
                    return;
                }
                channel = ((io.netty.channel.ChannelFuture) f).channel();
                send();
            });
        }

        void stop() {
            stopped = true;
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        private void send() {
            Channel ch = channel;
            if (stopped || System.nanoTime() >= endNanos || ch == null || !ch.isActive()) {
                if (ch != null) {
                    ch.close();
                }
                return;
            }
            FullHttpRequest req = new DefaultFullHttpRequest(
                    HttpVersion.HTTP_1_1, HttpMethod.POST, path, template.retainedDuplicate());
            req.headers().set(headers);
            failed = false;
            firstByteAt = 0;
            inFlight = true;
            sentAt = System.nanoTime();
            ch.writeAndFlush(req, ch.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse res) {
                int status = res.status().code();
                failed = status < 200 || status > 299;
                keepAlive = HttpUtil.isKeepAlive(res);
            }
            if (msg instanceof HttpContent content
                    && firstByteAt == 0
                    && content.content().isReadable()) {
                firstByteAt = System.nanoTime();
            }
            if (msg instanceof LastHttpContent) {
                long now = System.nanoTime();
                inFlight = false;
                if (sentAt >= warmupEndNanos && now <= endNanos) {
                    if (failed) {
                        errors++;
                    } else {
                        total.recordValue(Math.min(HIGHEST_US, (now - sentAt) / 1000));
                        long fb = firstByteAt == 0 ? now : firstByteAt;
                        ttfb.recordValue(Math.min(HIGHEST_US, (fb - sentAt) / 1000));
                    }
                }
                if (keepAlive) {
                    send();
                } else {
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (inFlight && sentAt >= warmupEndNanos && System.nanoTime() <= endNanos && !stopped) {
                errors++;
            }
            inFlight = false;
            channel = null;
            if (!stopped && System.nanoTime() < endNanos) {
                connect();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public boolean isSharable() {
            // re-added to each new channel after a reconnect; only ever in one pipeline at a time
            return true;
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " (expected: --name value; see the class doc)");
            }
            o.put(a.substring(2), args[++i]);
        }
        return o;
    }

    private static String require(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + ": missing (expected: a value)");
        }
        return v;
    }

    private static int positive(Map<String, String> o, String name, int fallback) {
        int v = Integer.parseInt(o.getOrDefault(name, String.valueOf(fallback)));
        if (v < 1 || v > 100_000) {
            throw new IllegalArgumentException("--" + name + ": " + v + " (expected: 1..100000)");
        }
        return v;
    }
}
