package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.Usage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The settle step's money arithmetic, once per answer: {@link Cost#nanoUsd} (three rounded
 * lines of integer arithmetic) and {@link Cost#formatUsd}, which writes the amount into
 * {@code X-BR-Actual-Cost} and {@code usage.cost}. Inputs sit in non-final fields so the JIT
 * cannot fold them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class CostBenchmark {
    /** gpt-4o's list price: $2.50 / $1.25 cached / $10.00 per million. */
    private Price price = new Price(2_500_000_000L, 10_000_000_000L, 1_250_000_000L);

    private Usage usage = new Usage(1_234, 567, 512, 0);
    private long nano = 5_275_000L;

    @Benchmark
    public long nanoUsd() {
        return Cost.nanoUsd(usage, price);
    }

    @Benchmark
    public String formatUsd() {
        return Cost.formatUsd(nano);
    }
}
