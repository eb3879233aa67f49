package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.state.BudgetLedger;
import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.RateWindows;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStore;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The admission step's state work, once per request (target in benchmarks/README.md: reserve + settle ≤ 1 µs):
 * {@link BudgetLedger#reserve} then {@link BudgetLedger#settle} on one key, the
 * {@link BudgetLedger#usage} read-out and a {@link RateWindows#tryAcquire}, on the Chronicle store
 * (a fresh state directory in /tmp) and on the heap one for comparison. The budget is large enough
 * never to run out during a run, so every reservation is granted.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class BudgetBenchmark extends StateStoreBenchmark {
    @SuppressWarnings("NullAway.Init") // set in opened(), which the superclass's @Setup open() calls
    private BudgetLedger ledger;

    @SuppressWarnings("NullAway.Init") // set in opened(), as ledger
    private RateWindows rates;

    private String key = "k_7Qm2cXw9Lr4Tz8Vb1Np5Hs";
    private LocalDate day = LocalDate.now(ZoneOffset.UTC);
    private long amount = 52_750_000L;
    private long actual = 31_410_000L;
    private long budget = Long.MAX_VALUE / 2;
    private long now = System.currentTimeMillis();

    @Override
    protected void opened(StateStore state) {
        ledger = state.budgets();
        rates = state.rates();
        ledger.settle(ledger.reserve(key, day, amount, budget), actual);
    }

    @Benchmark
    public Reservation reserveSettle() {
        Reservation r = ledger.reserve(key, day, amount, budget);
        ledger.settle(r, actual);
        return r;
    }

    @Benchmark
    public DayUsage usage() {
        return ledger.usage(key, day);
    }

    @Benchmark
    public long rateAcquire() {
        return rates.tryAcquire(key, now, Integer.MAX_VALUE, 1_000, Long.MAX_VALUE);
    }
}
