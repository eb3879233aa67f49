package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.strategy.smart.ThompsonSampling;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.ChengBetaSampler;
import org.apache.commons.statistics.distribution.BetaDistribution;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Thompson sample that {@code smart} and {@code auto} draw once per candidate per request, three
 * exact ways: {@code viaDistribution} is the commons-statistics way,
 * {@code BetaDistribution.of(α, β).createSampler(rng).sample()} (Cheng's algorithm, after a
 * log-Beta constant); {@code cheng} is the same sampler made directly with
 * {@code ChengBetaSampler.of}; {@code gammaRatio} is {@link ThompsonSampling#sampleQuality}, X ÷ (X + Y)
 * of two Marsaglia–Tsang Gamma draws, which the strategies use. Shapes: well-known endpoints (both
 * parameters above 1, as the core's posteriors always are), the uniform prior, and a little-known
 * one below 1. All draw from a {@link SplittableRandom}, as the core's generator, adapted by
 * {@code random::nextLong}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ThompsonDrawBenchmark {
    @SuppressWarnings("NullAway.Init") // a @Param: JMH sets it before any @Setup
    @Param({"41.5,12.5", "0.8,3.0", "1.0,1.0", "150.0,30.0"})
    public String shape;

    private double alpha;
    private double beta;
    private final SplittableRandom random = new SplittableRandom(3);
    private UniformRandomProvider rng;

    @Setup(Level.Trial)
    public void setUp() {
        String[] ab = shape.split(",");
        alpha = Double.parseDouble(ab[0]);
        beta = Double.parseDouble(ab[1]);
        rng = random::nextLong;
    }

    @Benchmark
    public double viaDistribution() {
        return BetaDistribution.of(alpha, beta).createSampler(rng).sample();
    }

    @Benchmark
    public double cheng() {
        return ChengBetaSampler.of(rng, alpha, beta).sample();
    }

    @Benchmark
    public double gammaRatio() {
        return ThompsonSampling.sampleQuality(alpha, beta, rng);
    }
}
