package io.brainstorm.proxy.e2e;

import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.ChildJvm;
import io.brainstorm.proxy.testing.OneCpu;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * A load run against a real gateway started as its own JVM on one CPU ({@code taskset -c N}),
 * with the admin listener (dashboard, stats, {@code /metrics}), the audit trail and a budgeted key
 * on, in front of an {@link InstantUpstream} in this JVM (not pinned). {@code N} keep-alive
 * HTTP/1.1 connections send chat completions in a closed loop, alternating plain and streamed;
 * meanwhile {@code /healthz} is polled every second on a connection of its own,
 * {@code /metrics} is scraped every second and {@code /admin/v1/stats/models} every 100 ms (a few
 * dashboards open), so the readers of the gateway's figures run while the event loops write them,
 * as in production.
 *
 * <p>Prints completed requests per second of the measured run and the 5xx count. Used by
 * {@link OneCpuLoadTest} (the gateway from this build's class path) and, through {@link #main},
 * as a standalone tool ({@code benchmarks/load/onecpu.sh}) against a built jar.
 *
 * <p><b>Threading.</b> One platform thread per connection, plus the health poller and the
 * scraper; the counters are atomics. Every socket has a read timeout, and {@link #run} closes them
 * all at the end, so no thread outlives it.
 */
final class OneCpuLoad {
    /**
     * What to run. {@code jar} null: the gateway's main class from {@code classPath}. {@code launcher}
     * not null: the gateway through that {@code bin/brainstorm-proxy} instead (its JDK from
     * {@code JAVA_HOME}, its flags, its CDS archive or AOT cache), so the run measures what a user
     * starts.
     */
    record Options(
            @Nullable String jar,
            String classPath,
            int cpu,
            int connections,
            int warmupSeconds,
            int seconds,
            int models,
            @Nullable String launcher,
            Store store) {
        /** The files store, no rate limit on the key: what the one-CPU runs in RESULTS.md measured. */
        Options(
                @Nullable String jar,
                String classPath,
                int cpu,
                int connections,
                int warmupSeconds,
                int seconds,
                int models,
                @Nullable String launcher) {
            this(jar, classPath, cpu, connections, warmupSeconds, seconds, models, launcher, Store.FILES_DEFAULT);
        }
    }

    /**
     * Where the gateway keeps its admission counts and what the load's key is limited by: {@code
     * redisUrl} null for {@code state_store: files}, else {@code state_store: redis} on that URL;
     * {@code rpm} > 0 gives the key that rate limit as well as its daily budget, so every request
     * checks a rate window (with Redis: one more round trip). {@code redisPid} > 0: the
     * redis-server's pid, whose CPU time the run reports.
     */
    record Store(@Nullable String redisUrl, int rpm, long redisPid) {
        static final Store FILES_DEFAULT = new Store(null, 0, 0);

        String name() {
            return redisUrl == null ? "files" : "redis";
        }
    }

    /**
     * What a run saw. {@code perSecond[i]}: requests completed (any status) in second i of the
     * measured run; {@code healthzFailures}: polls during the measured run with no 200 within 5 s (a
     * livelocked gateway never answers; the bound leaves room for a busy machine); {@code rssKb}:
     * the gateway's resident memory at the end of the load (0 where {@code /proc} is missing).
     */
    record Result(
            long[] perSecond,
            long ok,
            long fiveXx,
            long otherStatus,
            long brokenStreams,
            long ioErrors,
            int healthzPolls,
            int healthzFailures,
            long healthzWorstMillis,
            int metricsScrapes,
            int statsScrapes,
            int scrapeFailures,
            String lastStats,
            long rssKb,
            Histogram latency,
            long gatewayCpuMillis,
            long redisCpuMillis) {
        /** Requests completed per second over the measured run. */
        double perSecondMean() {
            long total = 0;
            for (long c : perSecond) {
                total += c;
            }
            return total / (double) Math.max(1, perSecond.length);
        }

        /** The gateway's CPU time per completed request of the measured run, µs. */
        double gatewayCpuMicrosPerRequest() {
            return gatewayCpuMillis * 1000.0 / Math.max(1, perSecondMean() * perSecond.length);
        }

        /**
         * The first second (1-based) of the measured run that completed at least 80 % of the steady
         * state, the mean of the last 10 s (of the last third when the run is shorter than 30 s); 0
         * when no second did.
         */
        int secondsToEightyPercent() {
            int tail = perSecond.length >= 30 ? 10 : Math.max(1, perSecond.length / 3);
            long sum = 0;
            for (int i = perSecond.length - tail; i < perSecond.length; i++) {
                sum += perSecond[i];
            }
            for (int i = 0; i < perSecond.length; i++) {
                if (perSecond[i] * 10 * tail >= sum * 8) {
                    return i + 1;
                }
            }
            return 0;
        }

        /** Requests completed in each whole {@code seconds}-long window of the run. */
        long[] windows(int seconds) {
            long[] w = new long[perSecond.length / seconds];
            for (int i = 0; i < w.length * seconds; i++) {
                w[i / seconds] += perSecond[i];
            }
            return w;
        }
    }

    /**
     * The models the load spreads over by default, all served by the instant upstream: each is a cell
     * of its own in the dashboard's stats and a label set in {@code /metrics}.
     */
    static final int MODELS = 16;

    private static final int HEALTHZ_TIMEOUT_MILLIS = 5_000;
    private static final long STATS_EVERY_NANOS = 100_000_000L;
    /** The longest request latency recorded (µs); longer ones count as this. */
    private static final long MAX_LATENCY_MICROS = TimeUnit.SECONDS.toMicros(60);

    private OneCpuLoad() {}

    /**
     * {@code [--jar JAR | --launcher BIN] [--cpu N] [--connections N] [--warmup S] [--seconds S]
     * [--models N]}: without either, the gateway runs from this JVM's class path.
     */
    public static void main(String[] args) throws Exception {
        String jar = null;
        String launcher = null;
        int cpu = 0;
        int connections = 64;
        int warmup = 5;
        int seconds = 30;
        int models = MODELS;
        String stores = "files";
        String redisUrl = null;
        long redisPid = 0;
        int rpm = 0;
        int rounds = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[++i] : null;
            if (v == null) {
                throw new IllegalArgumentException(a + ": (expected: a value after it)");
            }
            switch (a) {
                case "--jar" -> jar = v;
                case "--launcher" -> launcher = v;
                case "--cpu" -> cpu = Integer.parseInt(v);
                case "--connections" -> connections = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--models" -> models = Integer.parseInt(v);
                case "--store" -> stores = v;
                case "--redis-url" -> redisUrl = v;
                case "--redis-pid" -> redisPid = Long.parseLong(v);
                case "--rpm" -> rpm = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                default ->
                    throw new IllegalArgumentException("option: " + a
                            + " (expected: --jar, --launcher, --cpu, --connections, --warmup, --seconds,"
                            + " --models, --store, --redis-url, --redis-pid, --rpm, --rounds)");
            }
        }
        List<String> order = switch (stores) {
            case "files" -> List.of("files");
            case "redis" -> List.of("redis");
            case "both" -> List.of("files", "redis");
            default -> throw new IllegalArgumentException("--store: " + stores + " (expected: files, redis, both)");
        };
        if (order.contains("redis") && redisUrl == null) {
            throw new IllegalArgumentException(
                    "--store " + stores + " without --redis-url (expected: redis://host:port/0)");
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds: " + rounds + " (expected: >= 1)");
        }
        List<Result> files = new ArrayList<>();
        List<Result> redis = new ArrayList<>();
        boolean good = true;
        for (int round = 1; round <= rounds; round++) {
            for (String s : order) {
                boolean isRedis = s.equals("redis");
                Result r = run(
                        new Options(
                                jar,
                                System.getProperty("java.class.path"),
                                cpu,
                                connections,
                                warmup,
                                seconds,
                                models,
                                launcher,
                                new Store(isRedis ? redisUrl : null, rpm, isRedis ? redisPid : 0)),
                        System.out);
                (isRedis ? redis : files).add(r);
                good &= r.fiveXx() == 0 && r.healthzFailures() == 0;
            }
        }
        if (!files.isEmpty() && !redis.isEmpty()) {
            compare(files, redis, System.out);
        }
        System.exit(good ? 0 : 1);
    }

    /** The COMPARE line: each store's runs pooled (req/s the mean, latency from the merged histograms). */
    private static void compare(List<Result> files, List<Result> redis, PrintStream log) {
        double[] rate = new double[2];
        long[] fiveXx = new long[2];
        Histogram[] latency = {new Histogram(3), new Histogram(3)};
        double[] cpu = new double[2];
        List<List<Result>> both = List.of(files, redis);
        for (int i = 0; i < 2; i++) {
            for (Result r : both.get(i)) {
                rate[i] += r.perSecondMean() / both.get(i).size();
                fiveXx[i] += r.fiveXx();
                latency[i].add(r.latency());
                cpu[i] += r.gatewayCpuMicrosPerRequest() / both.get(i).size();
            }
        }
        log.printf(
                Locale.ROOT,
                "COMPARE files: req/s=%.0f p50-us=%d p99-us=%d 5xx=%d gateway-cpu-us/req=%.1f (%d runs) |"
                        + " redis: req/s=%.0f p50-us=%d p99-us=%d 5xx=%d gateway-cpu-us/req=%.1f (%d runs) |"
                        + " redis/files req/s=%.2f%n",
                rate[0],
                latency[0].getValueAtPercentile(50),
                latency[0].getValueAtPercentile(99),
                fiveXx[0],
                cpu[0],
                files.size(),
                rate[1],
                latency[1].getValueAtPercentile(50),
                latency[1].getValueAtPercentile(99),
                fiveXx[1],
                cpu[1],
                redis.size(),
                rate[1] / Math.max(1e-9, rate[0]));
    }

    static Result run(Options o, PrintStream log) throws Exception {
        Path dir = Files.createTempDirectory("br-onecpu");
        String apiKey = ApiKeys.generate();
        String adminToken = ApiKeys.ADMIN_PREFIX + ApiKeys.generate().substring(ApiKeys.PREFIX.length());
        Process gateway = null;
        try (InstantUpstream upstream = new InstantUpstream(2)) {
            int port = freePort();
            int adminPort = freePort();
            StringBuilder catalog = new StringBuilder("models:\n");
            for (int m = 0; m < o.models(); m++) {
                catalog.append("""
                          - id: %s
                            upstream_name: alpha
                            context_length: 128000
                            max_output_tokens: 16384
                            price: {input: 0.50, cached_input: 0.25, output: 1.50}
                            created: 1767225600
                        """.formatted(model(m)));
            }
            Files.writeString(dir.resolve("models.yaml"), catalog);
            Files.writeString(dir.resolve("gateway.yaml"), """
                    server:
                      host: 127.0.0.1
                      port: %d
                      max_connections: 10000
                      idle_timeout_seconds: 300
                      shutdown_grace_seconds: 1
                    admin:
                      enabled: true
                      host: 127.0.0.1
                      port: %d
                    state_dir: %s
                    %s
                    catalog: models.yaml
                    sim:
                      enabled: false
                    audit:
                      enabled: true
                    providers:
                      - name: instant
                        type: openai
                        base_url: %s
                        api_key: instant-key
                    keys:
                      - {name: load, sha256: %s, tenant: default, daily_budget_usd: 1000000%s}
                    """.formatted(
                            port,
                            adminPort,
                            dir.resolve("state"),
                            o.store().redisUrl() == null
                                    ? "state_store: files"
                                    : "state_store: redis\nredis:\n  url: "
                                            + o.store().redisUrl() + "\n  key_prefix: \"" + dir.getFileName() + ":\"",
                            upstream.baseUrl(),
                            ApiKeys.sha256(apiKey),
                            o.store().rpm() > 0 ? ", rpm: " + o.store().rpm() : ""));
            List<String> pin = List.of("taskset", "-c", Integer.toString(o.cpu()));
            String[] serve = {"serve", "--config", dir.resolve("gateway.yaml").toString()};
            ProcessBuilder pb;
            if (o.launcher() != null) {
                // taskset and the launcher exec the JVM, so the process is the gateway's JVM itself
                List<String> cmd = new ArrayList<>(pin);
                cmd.add(o.launcher());
                cmd.addAll(List.of(serve));
                pb = new ProcessBuilder(cmd);
            } else {
                ChildJvm.Command command = o.jar() != null
                        ? ChildJvm.jar(Path.of(o.jar()))
                        : ChildJvm.main("io.brainstorm.proxy.cli.Main").classPath(o.classPath());
                pb = command.prefix(pin).flags(OneCpu.jvmFlags()).args(serve).processBuilder();
            }
            pb.redirectErrorStream(true)
                    .redirectOutput(dir.resolve("gateway.log").toFile());
            pb.environment().put("BR_ADMIN_TOKEN", adminToken);
            log.printf(
                    "one-cpu load: gateway on CPU %d (%s), state_store %s%s, %d connections, %d s warm-up + %d s"
                            + " measured%n",
                    o.cpu(),
                    o.launcher() != null ? o.launcher() : o.jar() != null ? o.jar() : "class path",
                    o.store().name(),
                    o.store().rpm() > 0
                            ? ", key with a daily budget and rpm " + o.store().rpm()
                            : ", budgeted key",
                    o.connections(),
                    o.warmupSeconds(),
                    o.seconds());
            gateway = pb.start();
            awaitReady(gateway, port, dir.resolve("gateway.log"));
            return load(o, gateway.pid(), port, adminPort, apiKey, adminToken, log);
        } finally {
            if (gateway != null) {
                gateway.destroy();
                if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                    gateway.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
            deleteTree(dir);
        }
    }

    private static void awaitReady(Process gateway, int port, Path logFile) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!gateway.isAlive()) {
                throw new IllegalStateException("gateway exited (" + gateway.exitValue() + ") before it was ready:\n"
                        + Files.readString(logFile));
            }
            try (Http c = new Http(port, 1_000)) {
                if (c.get("/readyz", null).status() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("gateway not ready within 60 s:\n" + Files.readString(logFile));
    }

    private static Result load(
            Options o, long pid, int port, int adminPort, String apiKey, String adminToken, PrintStream log)
            throws Exception {
        long start = System.nanoTime();
        long measuredFrom = start + TimeUnit.SECONDS.toNanos(o.warmupSeconds());
        long end = measuredFrom + TimeUnit.SECONDS.toNanos(o.seconds());
        AtomicLongArray perSecond = new AtomicLongArray(o.seconds());
        AtomicLong ok = new AtomicLong();
        AtomicLong fiveXx = new AtomicLong();
        AtomicLong otherStatus = new AtomicLong();
        AtomicLong broken = new AtomicLong();
        AtomicLong ioErrors = new AtomicLong();
        AtomicReference<String> firstProblem = new AtomicReference<>();
        Set<Http> open = ConcurrentHashMap.newKeySet();
        int models = o.models();
        String[] plain = new String[models];
        String[] streamed = new String[models];
        for (int m = 0; m < models; m++) {
            plain[m] = "{\"model\":\"" + model(m) + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
            streamed[m] = plain[m].substring(0, plain[m].length() - 1) + ",\"stream\":true}";
        }
        List<Thread> threads = new ArrayList<>();
        // one per connection, each written by its thread only, merged after the run
        Histogram[] latencies = new Histogram[o.connections()];
        for (int i = 0; i < o.connections(); i++) {
            final int id = i;
            Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
            latencies[i] = latency;
            threads.add(daemon("load-" + i, () -> {
                Http c = null;
                for (long n = id; System.nanoTime() < end; n++) {
                    boolean stream = n / models % 2 == 0;
                    try {
                        if (c == null) {
                            c = new Http(port, 10_000);
                            open.add(c);
                        }
                        long sent = System.nanoTime();
                        Http.Response r =
                                c.post("/v1/chat/completions", apiKey, (stream ? streamed : plain)[(int) (n % models)]);
                        long now = System.nanoTime();
                        boolean measured = now >= measuredFrom && now < end;
                        if (measured) {
                            perSecond.incrementAndGet((int) ((now - measuredFrom) / 1_000_000_000L));
                            latency.recordValue(Math.min(MAX_LATENCY_MICROS, (now - sent) / 1_000));
                        }
                        if (r.status() >= 500) {
                            fiveXx.incrementAndGet();
                            firstProblem.compareAndSet(null, r.status() + " " + r.body());
                        } else if (r.status() != 200) {
                            otherStatus.incrementAndGet();
                            firstProblem.compareAndSet(null, r.status() + " " + r.body());
                        } else if (stream && !r.body().contains("data: [DONE]")) {
                            broken.incrementAndGet();
                            firstProblem.compareAndSet(null, "stream without [DONE]: " + r.body());
                        } else {
                            ok.incrementAndGet();
                        }
                        if (r.closes()) {
                            open.remove(c);
                            c.close();
                            c = null;
                        }
                    } catch (IOException e) {
                        if (System.nanoTime() < end) {
                            ioErrors.incrementAndGet();
                            firstProblem.compareAndSet(null, e.toString());
                        }
                        if (c != null) {
                            open.remove(c);
                            c.close();
                            c = null;
                        }
                    }
                }
                if (c != null) {
                    open.remove(c);
                    c.close();
                }
            }));
        }
        // /healthz every second, on a connection of its own, a fresh one after any failure
        AtomicInteger polls = new AtomicInteger();
        AtomicInteger healthzFailures = new AtomicInteger();
        AtomicLong healthzWorst = new AtomicLong();
        Thread health = daemon("healthz", () -> {
            Http c = null;
            for (long next = System.nanoTime(); System.nanoTime() < end; next += 1_000_000_000L) {
                sleepUntil(next);
                long t0 = System.nanoTime();
                boolean measured = t0 >= measuredFrom && t0 < end;
                boolean good;
                try {
                    if (c == null) {
                        c = new Http(port, HEALTHZ_TIMEOUT_MILLIS);
                        open.add(c);
                    }
                    good = c.get("/healthz", null).status() == 200;
                } catch (IOException e) {
                    good = false;
                    if (c != null) {
                        open.remove(c);
                        c.close();
                        c = null;
                    }
                }
                long millis = (System.nanoTime() - t0) / 1_000_000;
                good &= millis <= HEALTHZ_TIMEOUT_MILLIS;
                if (measured) {
                    polls.incrementAndGet();
                    healthzWorst.accumulateAndGet(millis, Math::max);
                    if (!good) {
                        healthzFailures.incrementAndGet();
                    }
                }
            }
            if (c != null) {
                open.remove(c);
                c.close();
            }
        });
        // the readers of the figures the event loops write: /metrics and the dashboard's stats
        AtomicInteger metricsScrapes = new AtomicInteger();
        AtomicInteger statsScrapes = new AtomicInteger();
        AtomicInteger scrapeFailures = new AtomicInteger();
        AtomicReference<String> lastStats = new AtomicReference<>("");
        Thread scraper = daemon("scraper", () -> {
            // a connection per scrape, as Prometheus does
            for (long next = System.nanoTime(); System.nanoTime() < end; next += 1_000_000_000L) {
                sleepUntil(next);
                try (Http c = new Http(adminPort, 10_000)) {
                    open.add(c);
                    Http.Response m = c.get("/metrics", null);
                    if (m.status() == 200 && m.body().contains("brainstorm_requests_total")) {
                        metricsScrapes.incrementAndGet();
                    } else {
                        scrapeFailures.incrementAndGet();
                        firstProblem.compareAndSet(null, "/metrics: " + m.status() + " " + m.body());
                    }
                    open.remove(c);
                } catch (IOException e) {
                    scrapeFailures.incrementAndGet();
                    firstProblem.compareAndSet(null, "/metrics: " + e);
                }
            }
        });
        Thread dashboard = daemon("dashboard", () -> {
            // dashboards open in several browsers: the stats every 100 ms
            for (long next = System.nanoTime(); System.nanoTime() < end; next += STATS_EVERY_NANOS) {
                sleepUntil(next);
                try (Http c = new Http(adminPort, 10_000)) {
                    open.add(c);
                    Http.Response s = c.get("/admin/v1/stats/models", adminToken);
                    if (s.status() == 200) {
                        statsScrapes.incrementAndGet();
                        lastStats.set(s.body());
                    } else {
                        scrapeFailures.incrementAndGet();
                        firstProblem.compareAndSet(null, "stats: " + s.status() + " " + s.body());
                    }
                    open.remove(c);
                } catch (IOException e) {
                    scrapeFailures.incrementAndGet();
                    firstProblem.compareAndSet(null, "stats: " + e);
                    sleepUntil(System.nanoTime() + 1_000_000_000L);
                }
            }
        });

        // the gateway's (and Redis's) CPU time over the measured run
        sleepUntil(measuredFrom);
        long gatewayCpu0 = cpuMillis(pid);
        long redisCpu0 = o.store().redisPid() > 0 ? cpuMillis(o.store().redisPid()) : 0;
        // report each second as it ends
        int reported = 0;
        while (System.nanoTime() < end) {
            sleepUntil(Math.min(end, measuredFrom + (reported + 1) * 1_000_000_000L));
            long now = System.nanoTime();
            while (reported < o.seconds() && now >= measuredFrom + (reported + 1) * 1_000_000_000L) {
                log.printf(
                        Locale.ROOT,
                        "second %2d: %6d req/s, 5xx so far %d%n",
                        reported + 1,
                        perSecond.get(reported),
                        fiveXx.get());
                reported++;
            }
        }
        long gatewayCpu = cpuMillis(pid) - gatewayCpu0;
        long redisCpu = o.store().redisPid() > 0 ? cpuMillis(o.store().redisPid()) - redisCpu0 : 0;
        long rssKb = rssKb(pid);
        // a thread stuck in a read (a gateway that stopped answering) is released by closing its socket
        long joinBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (Thread t : threads) {
            t.join(Math.max(1, (joinBy - System.nanoTime()) / 1_000_000));
        }
        open.forEach(Http::close);
        for (Thread t : threads) {
            t.join(5_000);
        }
        health.join(5_000);
        scraper.join(5_000);
        dashboard.join(5_000);
        for (; reported < o.seconds(); reported++) {
            log.printf(
                    Locale.ROOT,
                    "second %2d: %6d req/s, 5xx so far %d%n",
                    reported + 1,
                    perSecond.get(reported),
                    fiveXx.get());
        }
        Histogram latency = new Histogram(MAX_LATENCY_MICROS, 3);
        for (Histogram h : latencies) {
            latency.add(h);
        }
        long[] counts = new long[o.seconds()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = perSecond.get(i);
        }
        Result r = new Result(
                counts,
                ok.get(),
                fiveXx.get(),
                otherStatus.get(),
                broken.get(),
                ioErrors.get(),
                polls.get(),
                healthzFailures.get(),
                healthzWorst.get(),
                metricsScrapes.get(),
                statsScrapes.get(),
                scrapeFailures.get(),
                lastStats.get(),
                rssKb,
                latency,
                gatewayCpu,
                redisCpu);
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        StringBuilder windows = new StringBuilder();
        for (long w : r.windows(10)) {
            windows.append(windows.isEmpty() ? "" : ", ").append(w / 10);
        }
        log.printf(
                Locale.ROOT,
                "RESULT req/s=%.0f per-10s-window-req/s=[%s] ok=%d 5xx=%d other-status=%d"
                        + " broken-streams=%d io-errors=%d healthz-failures=%d/%d healthz-worst-ms=%d"
                        + " metrics-scrapes=%d stats-scrapes=%d scrape-failures=%d rss-mb=%d"
                        + " seconds-to-80%%-of-steady=%d store=%s p50-us=%d p99-us=%d gateway-cpu-us/req=%.1f"
                        + " redis-cpu-us/req=%.1f%n",
                total / (double) o.seconds(),
                windows,
                r.ok(),
                r.fiveXx(),
                r.otherStatus(),
                r.brokenStreams(),
                r.ioErrors(),
                r.healthzFailures(),
                r.healthzPolls(),
                r.healthzWorstMillis(),
                r.metricsScrapes(),
                r.statsScrapes(),
                r.scrapeFailures(),
                r.rssKb() / 1024,
                r.secondsToEightyPercent(),
                o.store().name(),
                latency.getValueAtPercentile(50),
                latency.getValueAtPercentile(99),
                r.gatewayCpuMicrosPerRequest(),
                redisCpu * 1000.0 / Math.max(1, total));
        if (firstProblem.get() != null) {
            String p = firstProblem.get();
            log.println("first problem: " + (p.length() > 500 ? p.substring(0, 500) + "…" : p));
        }
        return r;
    }

    /** The catalog id of model {@code m}. */
    static String model(int m) {
        return String.format(Locale.ROOT, "instant/m%02d", m);
    }

    /**
     * The user + system CPU time of process {@code pid} in ms, from {@code /proc/<pid>/stat} (at
     * 100 clock ticks a second, Linux's USER_HZ); 0 where it cannot be read.
     */
    private static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the fields after the command name, which is in parentheses and may hold spaces
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** VmRSS of process {@code pid} in kB, from {@code /proc}; 0 where it cannot be read. */
    private static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process is gone: no figure
        }
        return 0;
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void sleepUntil(long nanoTime) {
        long wait;
        while ((wait = nanoTime - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One keep-alive HTTP/1.1 connection on a plain socket: just enough for this load. */
    static final class Http implements Closeable {
        record Response(int status, String body, boolean closes) {}

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Http(int port, int timeoutMillis) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(timeoutMillis);
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
                in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
                out = socket.getOutputStream();
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }

        Response get(String path, String bearer) throws IOException {
            return exchange("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + (bearer == null ? "" : "Authorization: Bearer " + bearer + "\r\n") + "\r\n");
        }

        Response post(String path, String bearer, String json) throws IOException {
            return exchange("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + bearer + "\r\nContent-Length: "
                    + json.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + json);
        }

        private Response exchange(String request) throws IOException {
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            String statusLine = line();
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("status line: " + statusLine + " (expected: HTTP/1.1 <status> ...)");
            }
            int status = Integer.parseInt(parts[1]);
            long length = -1;
            boolean chunked = false;
            boolean closes = false;
            for (String h; !(h = line()).isEmpty(); ) {
                int colon = h.indexOf(':');
                String name = h.substring(0, Math.max(0, colon)).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.contains("chunked");
                    case "connection" -> closes = value.contains("close");
                    default -> {}
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                for (long size; (size = Long.parseLong(line().split(";", 2)[0].trim(), 16)) > 0; ) {
                    body.write(in.readNBytes((int) size));
                    line();
                }
                while (!line().isEmpty()) {
                    // trailers
                }
            } else if (length >= 0) {
                body.write(in.readNBytes((int) length));
            } else {
                body.write(in.readAllBytes());
                closes = true;
            }
            return new Response(status, body.toString(StandardCharsets.UTF_8), closes);
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            for (int b; (b = in.read()) != '\n'; ) {
                if (b < 0) {
                    throw new IOException("connection closed mid-response");
                }
                if (b != '\r') {
                    sb.append((char) b);
                }
            }
            return sb.toString();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
