package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.route.CircuitBreaker;
import io.brainstorm.proxy.route.HealthConfig;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.RoutingState;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.TaskClass;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What routing pays per candidate per request: {@link RoutingState#stats} (attempt counts under a
 * short lock, cached latency quantiles, the learnt posterior, the breaker's state) and
 * {@link CircuitBreaker#state} of a closed circuit (one volatile read). The endpoint has a few
 * thousand recorded answers so the windows are not empty; the system clock moves, so the latency
 * cache is merged again now and then as it would be in service.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class HealthBenchmark {
    private RoutingState state;
    private CircuitBreaker breaker;
    private String candidate = "gpt-4o@openai";
    private TaskClass taskClass = TaskClass.of(false, true, 2_000);
    private long now;

    @Setup
    public void setUp() {
        state = new RoutingState(
                HealthConfig.DEFAULTS, Learning.onHeap(LearningSettings.DEFAULTS), InstantSource.system());
        long t = state.nowMillis();
        for (int i = 0; i < 5_000; i++) {
            state.health(candidate).recordSuccess(t, i % 2 == 0, 200_000 + i * 100L, 50_000 + i * 10L);
            state.learning().answered("acme", candidate, taskClass, (i % 10) / 10.0, t);
        }
        breaker = state.health(candidate).breaker();
        now = t;
    }

    @Benchmark
    public EndpointStats routingStats() {
        return state.stats(candidate, "acme", taskClass, 1);
    }

    @Benchmark
    public CircuitState breakerStateClosed() {
        return breaker.state(now);
    }
}
