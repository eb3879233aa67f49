package io.brainstorm.proxy.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * <p>Its own cost is kept out of the figures: the request (head and body) is encoded once and each
 * send writes a recycled duplicate of it; answers are framed by a {@link Http1Scanner}, which
 * builds no header or content objects. So a steady run allocates nothing per request and the
 * generator, sharing a core with the upstream it drives, adds no collector pauses to the tail.
 *
 * <p>Warm-up curves: {@code --await URL} holds the load until a GET of URL answers 200 (polled every
 * 5 ms, with the {@code --key}; {@code --await-timeout} seconds, 120), after printing
 * {@code AWAITING URL}, so that a script can start the server then and the load begins at the first
 * moment it is ready. {@code --prewarm-url URL} first runs the same load against another server
 * for {@code --prewarm-seconds} (3) with {@code --prewarm-key}, so the generator's own warm-up is
 * over by then. {@code --series} adds one {@code SERIES second=N ok=M} line per second of the run
 * (warm-up included, by completion time).
 *
 * <p>Output: a human-readable summary on stderr and one {@code RESULT key=value ...} line on
 * stdout for scripts; {@code answered} there counts every answer of the run, warm-up included (the
 * figure to divide a server's CPU time by), and {@code self_cpu_us} and {@code self_alloc_bytes}
 * are the generator's own CPU time and heap allocation per request of the measured window.
 *
 * <p><b>Threading.</b> Each connection's state lives on its event loop; the main thread only
 * reads the histograms and counters after the event loops have terminated.
 */
public final class LoadGenerator {
    private static final long HIGHEST_US = TimeUnit.SECONDS.toMicros(60);
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final URI url;
    private final @Nullable String authorization;
    private final byte[] body;
    private final boolean streamMode;
    private final long startNanos;
    private final long warmupEndNanos;
    private final long endNanos;
    private final int seconds;
    private final List<Conn> conns = new ArrayList<>();
    // written and read by the main thread only
    private long selfCpuNanos = -1;
    private long selfAllocatedBytes = -1;

    private LoadGenerator(
            URI url,
            @Nullable String authorization,
            byte[] body,
            boolean streamMode,
            long startNanos,
            long warmupEndNanos,
            long endNanos) {
        this.url = url;
        this.authorization = authorization;
        this.body = body;
        this.streamMode = streamMode;
        this.startNanos = startNanos;
        this.warmupEndNanos = warmupEndNanos;
        this.endNanos = endNanos;
        this.seconds = (int) ((endNanos - startNanos + SECOND_NANOS - 1) / SECOND_NANOS);
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
        boolean series = o.containsKey("series");
        @Nullable String authorization = bearer(key);

        String prewarm = o.get("prewarm-url");
        if (prewarm != null) {
            // the generator's own warm-up (JIT, class loading, pools) against another server, so that
            // a warm-up curve measured next shows the target's warm-up, not the generator's
            String prewarmKey = o.getOrDefault("prewarm-key", key);
            double prewarmSeconds = Double.parseDouble(o.getOrDefault("prewarm-seconds", "3"));
            long p0 = System.nanoTime();
            new LoadGenerator(
                            URI.create(prewarm),
                            bearer(prewarmKey),
                            body,
                            mode.equals("stream"),
                            p0,
                            p0,
                            p0 + (long) (prewarmSeconds * 1e9))
                    .run(connections, threads);
        }
        String await = o.get("await");
        if (await != null) {
            int awaitSeconds = positive(o, "await-timeout", 120);
            // a script starting the server only now sees the generator ready for it
            System.out.println("AWAITING " + await);
            System.out.flush();
            if (!awaitOk(URI.create(await), authorization, TimeUnit.SECONDS.toNanos(awaitSeconds))) {
                System.err.printf(Locale.ROOT, "%s: %s did not answer 200 within %d s%n", label, await, awaitSeconds);
                System.exit(3);
            }
        }

        long t0 = System.nanoTime();
        long warmupEnd = t0 + (long) (warmup * 1e9);
        long end = warmupEnd + (long) (duration * 1e9);
        LoadGenerator gen = new LoadGenerator(url, authorization, body, mode.equals("stream"), t0, warmupEnd, end);
        gen.run(connections, threads);

        Histogram total = new Histogram(HIGHEST_US, 3);
        Histogram ttfb = new Histogram(HIGHEST_US, 3);
        long errors = 0;
        long connectFailures = 0;
        long answered = 0;
        long[] perSecond = new long[gen.seconds];
        for (Conn c : gen.conns) {
            total.add(c.total);
            ttfb.add(c.ttfb);
            errors += c.errors;
            connectFailures += c.connectFailures;
            answered += c.answered;
            for (int i = 0; i < perSecond.length; i++) {
                perSecond[i] += c.perSecond[i];
            }
        }
        long ok = total.getTotalCount();
        double rps = ok / duration;
        // the generator's own cost per measured request: it shares a core with the upstream
        double selfCpuUs = ok > 0 && gen.selfCpuNanos >= 0 ? gen.selfCpuNanos / 1e3 / ok : -1;
        long allocPerRequest = ok > 0 && gen.selfAllocatedBytes >= 0 ? gen.selfAllocatedBytes / ok : -1;
        Histogram h = gen.streamMode ? ttfb : total;
        String what = gen.streamMode ? "ttfb" : "latency";
        System.err.printf(
                Locale.ROOT,
                "%s: %s c=%d %.0f req/s ok=%d errors=%d %s p50=%d p90=%d p99=%d p99.9=%d"
                        + " max=%d us%s; generator: %.1f us CPU and %d bytes allocated per request%n",
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
                        : "",
                selfCpuUs,
                allocPerRequest);
        if (series) {
            for (int i = 0; i < perSecond.length; i++) {
                System.out.printf(Locale.ROOT, "SERIES second=%d ok=%d%n", i + 1, perSecond[i]);
            }
        }
        System.out.printf(
                Locale.ROOT,
                "RESULT label=%s mode=%s connections=%d duration=%.1f ok=%d errors=%d"
                        + " connect_failures=%d rps=%.1f p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f"
                        + " total_p50=%d total_p99=%d answered=%d self_cpu_us=%.2f self_alloc_bytes=%d%n",
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
                total.getValueAtPercentile(99),
                answered,
                selfCpuUs,
                allocPerRequest);
        // A run where nothing succeeded is a broken setup, not a measurement.
        System.exit(ok > 0 ? 0 : 2);
    }

    private static @Nullable String bearer(String key) {
        return key.isEmpty() ? null : "Bearer " + key;
    }

    /** Polls {@code await} with a GET every 5 ms until it answers 200 or {@code timeoutNanos} pass. */
    private static boolean awaitOk(URI await, @Nullable String authorization, long timeoutNanos)
            throws InterruptedException {
        byte[] request = ("GET " + pathOf(await) + " HTTP/1.1\r\nHost: " + await.getHost() + ":" + await.getPort()
                        + "\r\n" + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                        + "Connection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        long deadline = System.nanoTime() + timeoutNanos;
        byte[] status = new byte[12];
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(await.getHost(), await.getPort()), 1000);
                s.setSoTimeout(1000);
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
                InputStream in = s.getInputStream();
                int n = 0;
                for (int r; n < status.length && (r = in.read(status, n, status.length - n)) > 0; ) {
                    n += r;
                }
                // "HTTP/1.1 200"
                if (n == status.length && status[9] == '2' && status[10] == '0' && status[11] == '0') {
                    return true;
                }
            } catch (IOException notYet) {
                // not listening yet, or reset while starting: poll again
            }
            Thread.sleep(5);
        }
        return false;
    }

    private static String pathOf(URI u) {
        return u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    }

    private void run(int connections, int threads) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends SocketChannel> channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("load", true), io);
        try {
            String head = "POST " + pathOf(url) + " HTTP/1.1\r\n"
                    + "Host: " + url.getHost() + ":" + url.getPort() + "\r\n"
                    + "Content-Type: application/json\r\n"
                    + "Accept: " + (streamMode ? "text/event-stream" : "application/json") + "\r\n"
                    + "Content-Length: " + body.length + "\r\n"
                    + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                    + "\r\n";
            byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
            // one request, encoded once; each send writes a recycled duplicate (released by the write)
            ByteBuf template = PooledByteBufAllocator.DEFAULT
                    .directBuffer(headBytes.length + body.length)
                    .writeBytes(headBytes)
                    .writeBytes(body);
            Bootstrap b = new Bootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000);
            for (int i = 0; i < connections; i++) {
                Conn c = new Conn(b, template);
                conns.add(c);
                c.connect();
            }
            sleepUntil(warmupEndNanos);
            long cpu0 = processCpuNanos();
            long allocated0 = allocatedBytes();
            sleepUntil(endNanos);
            selfCpuNanos = processCpuNanos() - cpu0;
            selfAllocatedBytes = allocatedBytes() - allocated0;
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

    private static void sleepUntil(long nanos) throws InterruptedException {
        long waitMs = TimeUnit.NANOSECONDS.toMillis(nanos - System.nanoTime());
        if (waitMs > 0) {
            Thread.sleep(waitMs);
        }
    }

    /** CPU time of this JVM (all threads, the JIT's too), or -1 where the platform does not say. */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : -1;
    }

    /** Heap bytes allocated so far by the live threads (the event loops), or -1 where not measured. */
    private static long allocatedBytes() {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads)
                || !threads.isThreadAllocatedMemorySupported()
                || !threads.isThreadAllocatedMemoryEnabled()) {
            return -1;
        }
        long sum = 0;
        for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, bytes);
        }
        return sum;
    }

    /** One keep-alive connection sending requests back to back. State confined to its event loop. */
    private final class Conn extends ChannelInboundHandlerAdapter implements Http1Scanner.Events {
        final Histogram total = new Histogram(HIGHEST_US, 3);
        final Histogram ttfb = new Histogram(HIGHEST_US, 3);
        final long[] perSecond = new long[seconds];
        long errors;
        long connectFailures;
        long answered;
        private final Bootstrap bootstrap;
        private final ByteBuf template;
        private final Http1Scanner scanner = Http1Scanner.responses();
        private volatile @Nullable Channel channel;
        private volatile boolean stopped;
        private @Nullable ChannelHandlerContext ctx;
        private long sentAt;
        private long firstByteAt;
        private boolean failed;
        private boolean inFlight;

        Conn(Bootstrap bootstrap, ByteBuf template) {
            this.bootstrap = bootstrap.clone();
            this.template = template;
        }

        void connect() {
            if (stopped || System.nanoTime() >= endNanos) {
                return;
            }
            bootstrap.handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(Conn.this);
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
                channel = ((ChannelFuture) f).channel();
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
            failed = false;
            firstByteAt = 0;
            inFlight = true;
            sentAt = System.nanoTime();
            ch.writeAndFlush(template.retainedDuplicate(), ch.voidPromise());
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            scanner.read(msg, this);
        }

        @Override
        public void head(int status) {
            failed = status < 200 || status > 299;
        }

        @Override
        public void bodyStarted() {
            if (firstByteAt == 0) {
                firstByteAt = System.nanoTime();
            }
        }

        @Override
        public void end(boolean keepAlive) {
            long now = System.nanoTime();
            inFlight = false;
            answered++;
            if (!failed) {
                int second = (int) ((now - startNanos) / SECOND_NANOS);
                if (second >= 0 && second < perSecond.length) {
                    perSecond[second]++;
                }
            }
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
            } else if (ctx != null) {
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (inFlight && sentAt >= warmupEndNanos && System.nanoTime() <= endNanos && !stopped) {
                errors++;
            }
            inFlight = false;
            channel = null;
            scanner.reset();
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

    /** {@code --name value} pairs; a {@code --name} followed by another option or nothing is a flag. */
    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException(a + " (expected: --name value or --flag; see the class doc)");
            }
            boolean flag = i + 1 >= args.length || args[i + 1].startsWith("--");
            o.put(a.substring(2), flag ? "true" : args[++i]);
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
