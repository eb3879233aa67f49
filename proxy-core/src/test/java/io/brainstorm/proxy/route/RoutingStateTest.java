package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** The table routing reads: health per candidate and learnt quality per task class, on the injected clock. */
class RoutingStateTest {
    private static final TaskClass PLAIN = TaskClass.of(false, false, 100);
    private static final TaskClass JSON = TaskClass.of(false, true, 100);

    private final ManualClock clock = new ManualClock();
    private final Learning learning = Learning.onHeap(LearningSettings.DEFAULTS);
    private final RoutingState state = new RoutingState(HealthConfig.DEFAULTS, learning, clock);

    @Test
    void anUnknownCandidateLooksUnseen() {
        assertEquals(EndpointStats.UNSEEN, state.stats("gpt-4o@openai", "acme", PLAIN, 1));
    }

    @Test
    void statsCombineHealthNowWithQualityForTheTaskClass() {
        learning.answered("acme", "gpt-4o@openai", JSON, 0.0, 0);
        state.health("gpt-4o@openai").recordSuccess(state.nowMillis(), false, 250_000, -1);
        state.health("gpt-4o@openai").recordFailure(state.nowMillis());

        EndpointStats json = state.stats("gpt-4o@openai", "acme", JSON, 1);
        assertEquals(2, json.requests());
        assertEquals(0.5, json.errorRate());
        assertEquals(1, json.qualityAlpha());
        assertEquals(2, json.qualityBeta(), "a bad JSON answer");
        EndpointStats plain = state.stats("gpt-4o@openai", "acme", PLAIN, 1);
        assertEquals(0.5, plain.qualityMean(), "nothing learnt for plain requests yet");

        clock.advance(Duration.ofSeconds(60));
        assertEquals(0, state.stats("gpt-4o@openai", "acme", JSON, 1).requests(), "the clock moved the window");
    }

    @Test
    void theClockDrivesTheBreakers() {
        EndpointHealth h = state.health("m@flaky");
        for (int i = 0; i < 10; i++) {
            h.breaker().tryAcquire(state.nowMillis());
            h.recordFailure(state.nowMillis());
        }
        assertEquals(CircuitState.OPEN, state.stats("m@flaky", "acme", PLAIN, 1).circuit());
        clock.advance(Duration.ofSeconds(5));
        assertEquals(
                CircuitState.HALF_OPEN, state.stats("m@flaky", "acme", PLAIN, 1).circuit());
    }

    @Test
    void oneHealthPerCandidateEvenWhenThreadsRace() throws Exception {
        assertSame(state.health("a@x"), state.health("a@x"));
        int threads = 4;
        CyclicBarrier start = new CyclicBarrier(threads);
        Set<EndpointHealth> seen = ConcurrentHashMap.newKeySet();
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < 1_000; i++) {
                        EndpointHealth h = state.health("b@y");
                        seen.add(h);
                        h.recordSuccess(state.nowMillis(), false, 1_000, -1);
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(1, seen.size());
        assertEquals(threads * 1_000L, state.stats("b@y", "acme", PLAIN, 1).requests());
    }

    @Test
    void theReadOutListsEveryCandidateSortedById() {
        learning.answered("acme", "z@learnt-only", PLAIN, 1.0, 0);
        state.health("m@b").recordSuccess(state.nowMillis(), true, 1_000_000, 80_000);
        for (int i = 0; i < 10; i++) {
            state.health("m@a").recordFailure(state.nowMillis());
        }

        List<EndpointReadOut> out = state.readOut();
        assertEquals(
                List.of("m@a", "m@b", "z@learnt-only"),
                out.stream().map(EndpointReadOut::candidateId).toList());
        EndpointReadOut a = out.get(0);
        assertEquals(CircuitState.OPEN, a.circuit().state());
        assertEquals(10, a.requests());
        assertEquals(1.0, a.errorRate());
        assertTrue(a.circuit().openUntilMillis() > state.nowMillis());
        assertEquals(1, out.get(1).ttft().count());
        EndpointReadOut z = out.get(2);
        assertEquals(CircuitState.CLOSED, z.circuit().state());
        assertEquals(0, z.requests());
        assertEquals(Set.of("plain/0-1k"), z.quality().keySet());
        assertEquals(2.0, z.quality().get("plain/0-1k").alpha());
        assertEquals(
                List.of("m@a", "m@b", "z@learnt-only"),
                state.readOut().stream().map(EndpointReadOut::candidateId).toList(),
                "reading creates nothing");
    }
}
