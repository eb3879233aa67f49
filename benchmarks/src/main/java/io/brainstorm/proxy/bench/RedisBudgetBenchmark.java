package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.state.BudgetLedger;
import io.brainstorm.proxy.state.RateWindows;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.state.redis.RedisBudgetScripts;
import io.brainstorm.proxy.state.redis.RedisBudgets;
import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisRates;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The admission step's state work with {@code state_store: redis} against the files store (issue
 * 14), as a latency distribution (SampleTime: p50, p99 of each call): {@code reserveSettle} is one
 * reservation then its settle, {@code rateAcquire} one rate-window check, each waited for in turn
 * as one request's admission waits for it.
 *
 * <ul>
 *   <li>{@code store = redis}: {@link RedisBudgets#reserve} then {@link RedisBudgets#settle} (two
 *       {@code EVALSHA} round trips of the Lua scripts), and {@link RedisRates#tryAcquire} (one),
 *       through a {@link RedisLink} (Lettuce, one I/O thread) to a {@code redis-server} this
 *       benchmark starts on a free port of loopback ({@link LocalRedis}: a temporary directory,
 *       {@code --save "" --appendonly no}); without the binary it is not run and JMH prints why.
 *   <li>{@code store = files}: the Chronicle ledger of {@code StateStore.open(dir).budgets()} and
 *       its {@code rates()} in a fresh directory in /tmp, what {@code state_store: files} uses.
 * </ul>
 *
 * The budget never runs out and the rate limit never refuses, so every call is granted.
 *
 * <p><b>Threading:</b> one benchmark thread; Lettuce completes the futures on its own thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "-Dchronicle.analytics.disable=true",
            "-Dchronicle.announcer.disable=true"
        })
public class RedisBudgetBenchmark {
    /** A single call waits at most this long: far above Redis's answer, so only a broken run hits it. */
    private static final long WAIT_MILLIS = 5_000;

    @SuppressWarnings("NullAway.Init") // a @Param: JMH sets it before any @Setup
    @Param({"redis", "files"})
    public String store;

    private final String key = "k_7Qm2cXw9Lr4Tz8Vb1Np5Hs";
    private final LocalDate day = LocalDate.now(ZoneOffset.UTC);
    private final ZoneId zone = ZoneOffset.UTC;
    private final long amount = 52_750_000L;
    private final long actual = 31_410_000L;
    private final long budget = 1L << 52;

    private @Nullable LocalRedis server;
    private @Nullable RedisLink link;
    private @Nullable RedisBudgets redisBudgets;
    private @Nullable RedisRates redisRates;
    private @Nullable BenchStore files;
    private @Nullable BudgetLedger ledger;
    private @Nullable RateWindows rates;

    @Setup(Level.Trial)
    public void open() throws Exception {
        if (store.equals("redis")) {
            LocalRedis s = LocalRedis.start();
            server = s;
            RedisLink l = RedisLink.connect(RedisConfig.of(s.uri()));
            link = l;
            RedisBudgetScripts scripts = new RedisBudgetScripts(l.async());
            scripts.load().toCompletableFuture().get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            redisBudgets = new RedisBudgets(
                    l.async(), scripts, l.prefix(), Duration.ofMinutes(10), RedisBudgets.DEFAULT_DAY_MARGIN);
            RedisRates r = new RedisRates(l.async(), l.prefix(), RedisRates.DEFAULT_MARGIN);
            r.load().toCompletableFuture().get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            redisRates = r;
        } else if (store.equals("files")) {
            BenchStore b = BenchStore.open("chronicle", StateStore.Options.DEFAULTS);
            files = b;
            ledger = b.state.budgets();
            rates = b.state.rates();
        } else {
            throw new IllegalArgumentException("store: " + store + " (expected: redis or files)");
        }
        // one pair before the clock starts: the day's entry exists, as for a key that served today
        reserveSettle();
    }

    @Benchmark
    public Reservation reserveSettle() throws Exception {
        RedisBudgets b = redisBudgets;
        if (b != null) {
            Reservation r = b.reserve(key, day, zone, amount, budget)
                    .toCompletableFuture()
                    .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            b.settle(r, actual).toCompletableFuture().get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            return r;
        }
        BudgetLedger l = ledgerOf();
        Reservation r = l.reserve(key, day, amount, budget);
        l.settle(r, actual);
        return r;
    }

    @Benchmark
    public long rateAcquire() throws Exception {
        RedisRates r = redisRates;
        long now = System.currentTimeMillis();
        if (r != null) {
            return r.tryAcquire(key, now, Integer.MAX_VALUE, 1_000, 1L << 52)
                    .toCompletableFuture()
                    .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }
        RateWindows w = rates;
        if (w == null) {
            throw new IllegalStateException("no store open");
        }
        return w.tryAcquire(key, now, Integer.MAX_VALUE, 1_000, 1L << 52);
    }

    private BudgetLedger ledgerOf() {
        BudgetLedger l = ledger;
        if (l == null) {
            throw new IllegalStateException("no store open");
        }
        return l;
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        if (link != null) {
            link.close();
        }
        if (server != null) {
            server.close();
        }
        if (files != null) {
            files.close();
        }
    }
}
