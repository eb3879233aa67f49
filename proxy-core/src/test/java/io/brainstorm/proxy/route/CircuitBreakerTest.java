package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.CircuitState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The breaker's life told as stories, with the default settings (30 s, 10 requests, 50 %, 5 s doubling to 5 min). */
class CircuitBreakerTest {
    private static final long T0 = 1_700_000_000_000L;
    private final CircuitBreaker breaker = new CircuitBreaker(CircuitConfig.DEFAULTS);
    private long now = T0;

    @Test
    void tenFailuresOpenItAndAProbeFiveSecondsLaterClosesIt() {
        failTimes(10);
        assertEquals(CircuitState.OPEN, breaker.state(now));
        assertFalse(breaker.tryAcquire(now), "no request while open");
        assertEquals(5_000, breaker.millisUntilRetry(now));

        now += 4_999;
        assertFalse(breaker.tryAcquire(now), "still open 1 ms before its time");
        now += 1;
        assertEquals(CircuitState.HALF_OPEN, breaker.state(now));
        assertEquals(0, breaker.millisUntilRetry(now));
        assertTrue(breaker.tryAcquire(now), "a probe");
        assertTrue(breaker.tryAcquire(now), "a second probe");
        assertTrue(breaker.tryAcquire(now), "a third probe");
        assertFalse(breaker.tryAcquire(now), "at most three probes at a time (the default)");

        breaker.onSuccess(now);
        assertEquals(CircuitState.CLOSED, breaker.state(now));
        for (int i = 0; i < 100; i++) {
            assertTrue(breaker.tryAcquire(now), "traffic flows again");
            breaker.onSuccess(now);
        }
        CircuitBreaker.Snapshot s = breaker.snapshot(now);
        assertEquals(100, s.requests(), "the window starts empty after closing");
        assertEquals(1, s.trips());
        assertTrue(s.reason().startsWith("error rate 10/10"), s.reason());
    }

    @Test
    void fewerThanMinRequestsNeverOpen() {
        failTimes(9);
        assertEquals(CircuitState.CLOSED, breaker.state(now));
        failTimes(1);
        assertEquals(CircuitState.OPEN, breaker.state(now));
    }

    @Test
    void anErrorRateBelowTheThresholdStaysClosed() {
        for (int i = 0; i < 50; i++) {
            acquireAnd(i % 3 == 0 ? Verdict.FAIL : Verdict.OK);
        }
        assertEquals(CircuitState.CLOSED, breaker.state(now));
        assertEquals(17, breaker.snapshot(now).failures());
    }

    @Test
    void failuresOlderThanTheWindowStopCounting() {
        failTimes(9);
        now += 30_000;
        failTimes(1);
        assertEquals(CircuitState.CLOSED, breaker.state(now), "nine failures 30 s ago no longer count");
        assertEquals(1, breaker.snapshot(now).requests());
    }

    @Test
    void failingProbesDoubleTheOpenTimeUpToFiveMinutes() {
        failTimes(10);
        List<Long> openTimes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            long wait = breaker.millisUntilRetry(now);
            openTimes.add(wait);
            now += wait;
            assertTrue(breaker.tryAcquire(now));
            breaker.onFailure(now);
        }
        assertEquals(
                List.of(5_000L, 10_000L, 20_000L, 40_000L, 80_000L, 160_000L, 300_000L, 300_000L, 300_000L, 300_000L),
                openTimes);
        assertTrue(breaker.snapshot(now).reason().startsWith("probe failed"));
    }

    @Test
    void aRateLimitCoolsDownForRetryAfterCappedWithoutGrowingTheBackOff() {
        assertTrue(breaker.tryAcquire(now));
        breaker.onRateLimited(now, 12_000);
        assertEquals(CircuitState.OPEN, breaker.state(now));
        assertEquals(12_000, breaker.millisUntilRetry(now));
        assertTrue(breaker.snapshot(now).reason().contains("Retry-After 12000 ms"));

        now += 12_000;
        assertTrue(breaker.tryAcquire(now), "probe after the cool-down");
        breaker.onRateLimited(now, 3_600_000);
        assertEquals(300_000, breaker.millisUntilRetry(now), "an hour's Retry-After is capped at maxCoolDown");

        now += 300_000;
        assertTrue(breaker.tryAcquire(now));
        breaker.onRateLimited(now, -1);
        assertEquals(5_000, breaker.millisUntilRetry(now), "no Retry-After: openBase");

        now += 5_000;
        assertTrue(breaker.tryAcquire(now));
        breaker.onFailure(now);
        assertEquals(5_000, breaker.millisUntilRetry(now), "three cool-downs did not grow the back-off");
    }

    @Test
    void aRateLimitNeverShortensALongerOpening() {
        failTimes(10);
        now += 5_000;
        assertTrue(breaker.tryAcquire(now));
        breaker.onFailure(now); // open 10 s
        breaker.onRateLimited(now, 2_000);
        assertEquals(10_000, breaker.millisUntilRetry(now));
    }

    @Test
    void requestsInFlightAtTheTripThatFailLaterNeitherExtendNorReopen() {
        for (int i = 0; i < 30; i++) {
            assertTrue(breaker.tryAcquire(now));
        }
        for (int i = 0; i < 10; i++) {
            breaker.onFailure(now);
        }
        assertEquals(5_000, breaker.millisUntilRetry(now));

        now += 1_000;
        for (int i = 0; i < 5; i++) {
            breaker.onFailure(now);
        }
        assertEquals(4_000, breaker.millisUntilRetry(now), "late failures do not extend the opening");

        now += 4_000;
        assertTrue(breaker.tryAcquire(now));
        breaker.onFailure(now); // requests from before the trip are still out: read as theirs, not the probe's
        assertEquals(CircuitState.HALF_OPEN, breaker.state(now));
        breaker.onSuccess(now);
        assertEquals(CircuitState.CLOSED, breaker.state(now));

        for (int i = 0; i < 14; i++) {
            breaker.onFailure(now);
        }
        assertEquals(
                CircuitState.CLOSED, breaker.state(now), "old requests timing out do not reopen a recovered endpoint");
        assertEquals(1, breaker.snapshot(now).trips());

        failTimes(10);
        assertEquals(CircuitState.OPEN, breaker.state(now), "new failures still count");
    }

    @Test
    void threeProbesGoAtOnceAndTheFirstSuccessLetsTrafficBack() {
        failTimes(10);
        now += 5_000;
        for (int i = 0; i < 3; i++) {
            assertTrue(breaker.tryAcquire(now), "probe " + (i + 1) + " of 3");
        }
        assertFalse(breaker.tryAcquire(now), "a fourth waits");
        breaker.onSuccess(now);
        assertEquals(CircuitState.CLOSED, breaker.state(now), "one probe's head was enough");
        assertTrue(breaker.tryAcquire(now), "traffic flows while the other probes are still out");
        breaker.onFailure(now);
        breaker.onFailure(now);
        breaker.onSuccess(now);
        assertEquals(
                CircuitState.CLOSED,
                breaker.state(now),
                "the other probes' verdicts count as traffic, 2 of 3 are" + " below the minimum volume");
        assertEquals(3, breaker.snapshot(now).requests());
    }

    @Test
    void aFailingProbeReopensEvenWithOtherProbesOutAndTheirLateVerdictsDoNotCount() {
        failTimes(10);
        now += 5_000;
        assertTrue(breaker.tryAcquire(now));
        assertTrue(breaker.tryAcquire(now));
        breaker.onFailure(now);
        assertEquals(CircuitState.OPEN, breaker.state(now));
        assertEquals(10_000, breaker.millisUntilRetry(now), "the next level's open time");
        breaker.onSuccess(now);
        assertEquals(CircuitState.OPEN, breaker.state(now), "the other probe was sent before the reopening: stale");
    }

    @Test
    void aFailureAfterTheHeadCountsWhileClosedAndIsDroppedWhileOpen() {
        for (int i = 0; i < 9; i++) {
            acquireAnd(Verdict.OK);
        }
        for (int i = 0; i < 8; i++) {
            // the head was a success; the stream broke later
            breaker.onLateFailure(now);
        }
        assertEquals(CircuitState.CLOSED, breaker.state(now), "8 of 17 failed");
        breaker.onLateFailure(now);
        assertEquals(CircuitState.OPEN, breaker.state(now), "9 of 18 failed: a stream that breaks still counts");
        breaker.onLateFailure(now + 4_000);
        assertEquals(1_000, breaker.millisUntilRetry(now + 4_000), "no permit, no verdict while open");
        now += 5_000;
        breaker.onLateFailure(now);
        assertEquals(CircuitState.HALF_OPEN, breaker.state(now), "while half-open only the probes decide");
        probeSucceeds();
    }

    @Test
    void aReleasedProbeLetsTheNextOneThrough() {
        failTimes(10);
        now += 5_000;
        for (int i = 0; i < 3; i++) {
            assertTrue(breaker.tryAcquire(now));
        }
        assertFalse(breaker.tryAcquire(now));
        breaker.release();
        assertTrue(breaker.tryAcquire(now), "the client went away; another probe may go");
        assertEquals(CircuitState.HALF_OPEN, breaker.state(now));
    }

    @Test
    void aFlappingEndpointKeepsItsBackOffUntilItStaysClosedForAWindowPerLevel() {
        failTimes(10);
        assertEquals(5_000, breaker.millisUntilRetry(now));
        now += 5_000;
        probeSucceeds();

        failTimes(10);
        assertEquals(10_000, breaker.millisUntilRetry(now), "tripped again right after recovering: longer wait");
        now += 10_000;
        probeSucceeds();

        now += 30_000;
        failTimes(10);
        assertEquals(10_000, breaker.millisUntilRetry(now), "one quiet window forgets one doubling");
        now += 10_000;
        probeSucceeds();

        now += 60_000;
        failTimes(10);
        assertEquals(5_000, breaker.millisUntilRetry(now));
    }

    @Test
    void concurrentAcquiresInHalfOpenGrantExactlyTheProbes() throws Exception {
        CircuitConfig config = new CircuitConfig(
                Duration.ofSeconds(30), 1, 0.5, Duration.ofSeconds(5), Duration.ofMinutes(5), 3, Duration.ofMinutes(5));
        for (int round = 0; round < 50; round++) {
            CircuitBreaker b = new CircuitBreaker(config);
            assertTrue(b.tryAcquire(T0));
            b.onFailure(T0);
            int threads = 4;
            CyclicBarrier start = new CyclicBarrier(threads);
            CountDownLatch done = new CountDownLatch(threads);
            AtomicInteger granted = new AtomicInteger();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < 100; i++) {
                            if (b.tryAcquire(T0 + 5_000)) {
                                granted.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    } finally {
                        done.countDown();
                    }
                });
                th.start();
            }
            done.await();
            assertEquals(3, granted.get());
        }
    }

    @Test
    void settingsNameTheBadValue() {
        Duration s = Duration.ofSeconds(1);
        assertEquals(
                "minRequests: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> new CircuitConfig(s, 0, 0.5, s, s, 1, s))
                        .getMessage());
        assertEquals(
                "failureRate: 1.5 (expected: > 0 and <= 1)",
                assertThrows(IllegalArgumentException.class, () -> new CircuitConfig(s, 1, 1.5, s, s, 1, s))
                        .getMessage());
        assertEquals(
                "openMax: PT0.5S (expected: >= openBase PT1S)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new CircuitConfig(s, 1, 0.5, s, Duration.ofMillis(500), 1, s))
                        .getMessage());
        assertEquals(
                "window: PT0S (expected: >= 1 ms)",
                assertThrows(IllegalArgumentException.class, () -> new CircuitConfig(Duration.ZERO, 1, 0.5, s, s, 1, s))
                        .getMessage());
        assertEquals(
                "halfOpenProbes: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> new CircuitConfig(s, 1, 0.5, s, s, 0, s))
                        .getMessage());
        assertEquals(
                "retryAfterMillis: -2 (expected: >= 0, or -1 for none)",
                assertThrows(IllegalArgumentException.class, () -> breaker.onRateLimited(now, -2))
                        .getMessage());
    }

    private enum Verdict {
        OK,
        FAIL
    }

    private void acquireAnd(Verdict v) {
        assertTrue(breaker.tryAcquire(now));
        if (v == Verdict.OK) {
            breaker.onSuccess(now);
        } else {
            breaker.onFailure(now);
        }
    }

    private void failTimes(int n) {
        for (int i = 0; i < n; i++) {
            acquireAnd(Verdict.FAIL);
        }
    }

    private void probeSucceeds() {
        assertTrue(breaker.tryAcquire(now));
        breaker.onSuccess(now);
        assertEquals(CircuitState.CLOSED, breaker.state(now));
    }
}
