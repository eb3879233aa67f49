package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** What a routing strategy sees of one endpoint after it answered, failed or turned requests away. */
class EndpointHealthTest {
    private static final long T0 = 1_700_000_000_000L;
    private final EndpointHealth health = new EndpointHealth(HealthConfig.DEFAULTS);

    @Test
    void statsReflectWhatTheEndpointDid() {
        health.recordSuccess(T0, false, 100_000, -1);
        health.recordSuccess(T0, false, 200_000, -1);
        health.recordSuccess(T0, false, 300_000, -1);
        health.recordSuccess(T0, true, 4_000_000, 50_000);
        health.recordFailure(T0);

        EndpointStats s = health.stats(T0, new Posterior(8, 3, 9));
        assertEquals(5, s.requests());
        assertEquals(0.2, s.errorRate(), 1e-12);
        assertEquals(3, s.latency().count(), "only plain answers in the latency window");
        assertTrue(
                Math.abs(s.latency().p50Micros() - 200_000) <= 2_000,
                s.latency().toString());
        assertEquals(1, s.ttft().count(), "a stream counts its first event, not its whole length");
        assertTrue(Math.abs(s.ttft().p50Micros() - 50_000) <= 500, s.ttft().toString());
        assertEquals(8, s.qualityAlpha());
        assertEquals(3, s.qualityBeta());
        assertEquals(CircuitState.CLOSED, s.circuit());
        assertEquals(s.ttft(), s.latencyFor(true));
    }

    @Test
    void theErrorRateCoversTheRecentWindowOnly() {
        for (int i = 0; i < 4; i++) {
            health.recordFailure(T0);
        }
        for (int i = 0; i < 4; i++) {
            health.recordSuccess(T0 + 30_000, false, 1_000, -1);
        }
        assertEquals(0.5, health.stats(T0 + 30_000, Posterior.PRIOR).errorRate());
        EndpointStats later = health.stats(T0 + 60_000, Posterior.PRIOR);
        assertEquals(4, later.requests(), "the failures a minute ago dropped out");
        assertEquals(0, later.errorRate());
        EndpointStats quiet = health.stats(T0 + 90_000, Posterior.PRIOR);
        assertEquals(0, quiet.requests());
        assertEquals(0, quiet.errorRate());
        assertTrue(quiet.latency().isEmpty());
    }

    @Test
    void failuresOpenTheCircuitThatStrategiesSee() {
        for (int i = 0; i < 10; i++) {
            assertTrue(health.breaker().tryAcquire(T0));
            health.recordFailure(T0);
        }
        assertEquals(CircuitState.OPEN, health.stats(T0, Posterior.PRIOR).circuit());
        assertEquals(
                CircuitState.HALF_OPEN,
                health.stats(T0 + 5_000, Posterior.PRIOR).circuit());
        assertEquals(1.0, health.stats(T0 + 5_000, Posterior.PRIOR).errorRate());
    }

    @Test
    void aRateLimitHoldsOnlyTheKeyThatGotItNotTheEndpoint() {
        assertTrue(health.breaker().tryAcquire(T0));
        String acme = CredentialHolds.fingerprint("sk-acme");
        health.credentials().rateLimited(acme, T0, 20_000);
        health.breaker().release();
        EndpointStats s = health.stats(T0 + 19_999, Posterior.PRIOR);
        assertEquals(CircuitState.CLOSED, s.circuit(), "the endpoint is fine for every other key");
        assertEquals(0, s.errorRate());
        assertEquals(
                CredentialHolds.Kind.RATE_LIMITED,
                health.credentials().hold(acme, T0 + 19_999).kind());
        assertEquals(null, health.credentials().hold(CredentialHolds.fingerprint("sk-globex"), T0 + 19_999));
        assertEquals(null, health.credentials().hold(acme, T0 + 20_000), "over at its Retry-After");
    }

    @Test
    void theBreakerIsJudgedAtTheHeadAndTheAnswersEndBringsOnlyLatency() {
        for (int i = 0; i < 10; i++) {
            assertTrue(health.breaker().tryAcquire(T0));
            health.recordFailure(T0);
        }
        long t = T0 + 5_000;
        assertTrue(health.breaker().tryAcquire(t), "a probe");
        health.recordResponded(t);
        assertEquals(
                CircuitState.CLOSED,
                health.stats(t, Posterior.PRIOR).circuit(),
                "closed as soon as the probe's head arrived, while its answer still streams");
        health.recordSuccess(t + 60_000, true, 60_000_000, 300_000);
        assertEquals(
                CircuitState.CLOSED, health.stats(t + 60_000, Posterior.PRIOR).circuit());
        assertEquals(0, health.breaker().snapshot(t + 60_000).requests(), "the answer's end is no second verdict");
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        switch (i % 4) {
                            case 0 -> health.recordFailure(T0);
                            case 1 -> health.recordSuccess(T0, true, 9_000_000, 1_000 + id);
                            default -> health.recordSuccess(T0, false, 2_000 + i, -1);
                        }
                        if (i % 1_000 == 0) {
                            health.stats(T0, Posterior.PRIOR);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            workers.add(th);
            th.start();
        }
        for (Thread th : workers) {
            th.join();
        }
        assertEquals(List.of(), errors);
        EndpointStats s = health.stats(T0 + 1_000, Posterior.PRIOR);
        assertEquals((long) threads * perThread, s.requests());
        assertEquals(0.25, s.errorRate(), 1e-12);
        assertEquals((long) threads * perThread / 2, s.latency().count());
        assertEquals((long) threads * perThread / 4, s.ttft().count());
    }
}
