package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.constant;
import static org.quicktheories.generators.Generate.frequency;
import static org.quicktheories.generators.Generate.longRange;
import static org.quicktheories.generators.Generate.pick;
import static org.quicktheories.generators.Generate.range;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.spi.CircuitState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;

/**
 * Random lives of a circuit breaker (random settings; requests taken, answered, failed, rate
 * limited or given back in any order; time moving by small and large steps) checked after every
 * step against what docs/architecture.md §7 promises. The test keeps its own list of permits out and of the
 * outcomes reported, so it knows what the breaker may and may not count.
 */
class CircuitBreakerPropertiesTest {
    private static final long T0 = 1_700_000_000_000L;

    enum Kind {
        ACQUIRE,
        SUCCEED,
        FAIL,
        LATE_FAIL,
        RATE_LIMITED,
        RELEASE,
        SMALL_STEP,
        BIG_STEP
    }

    /** One step; {@code arg} picks the permit and sizes the time step or the Retry-After. */
    record Op(Kind kind, long arg) {}

    /** A permit the test holds: the breaker's trip count when it was taken, and whether it was a probe. */
    record Permit(int trips, boolean probe) {}

    /** An outcome reported to the breaker. */
    record Reported(long atMillis, boolean failed) {}

    @Test
    void randomLivesKeepThePromises() {
        qt().withExamples(1_000)
                .withShrinkCycles(200)
                .forAll(configs(), ops(300))
                .checkAssert(CircuitBreakerPropertiesTest::live);
    }

    /**
     * Requests answered one at a time (no overlap, so no verdict can be late): the window holds
     * exactly the outcomes its buckets say, and the circuit opens exactly when their count and
     * error rate say it must.
     */
    @Test
    void sequentialTrafficOpensExactlyWhenTheWindowSaysSo() {
        Gen<Op> steps = frequency(
                Pair.of(5, constant(new Op(Kind.FAIL, 0))),
                Pair.of(3, constant(new Op(Kind.SUCCEED, 0))),
                Pair.of(2, longRange(0, 1_000_000).map(a -> new Op(Kind.SMALL_STEP, a))));
        qt().withExamples(1_000)
                .forAll(configs(), lists().of(steps).ofSizeBetween(1, 200))
                .checkAssert(CircuitBreakerPropertiesTest::sequential);
    }

    private static void live(CircuitConfig config, List<Op> ops) {
        CircuitBreaker b = new CircuitBreaker(config);
        long windowMillis = config.window().toMillis();
        long openBase = config.openBase().toMillis();
        long openMax = config.openMax().toMillis();
        long now = T0;
        List<Permit> held = new ArrayList<>();
        List<Reported> sinceClose = new ArrayList<>();
        long lastFailureOpen = -1;

        for (Op op : ops) {
            CircuitState before = b.state(now);
            long untilBefore = b.millisUntilRetry(now);
            CircuitBreaker.Snapshot snapBefore = b.snapshot(now);
            Kind kind = op.kind;
            if (held.isEmpty()
                    && (kind == Kind.SUCCEED
                            || kind == Kind.FAIL
                            || kind == Kind.RATE_LIMITED
                            || kind == Kind.RELEASE)) {
                kind = Kind.ACQUIRE;
            }
            Permit permit = null;
            long retryAfter = -1;
            switch (kind) {
                case ACQUIRE -> {
                    boolean granted = b.tryAcquire(now);
                    if (before == CircuitState.OPEN) {
                        assertFalse(granted, "a permit while OPEN before its time");
                    } else if (before == CircuitState.CLOSED) {
                        assertTrue(granted, "no permit while CLOSED");
                    } else if (held.size() < config.halfOpenProbes()) {
                        assertTrue(granted, "HALF_OPEN refused a probe with only " + held.size() + " permits out");
                    }
                    if (granted) {
                        held.add(new Permit(snapBefore.trips(), before == CircuitState.HALF_OPEN));
                    }
                }
                case SUCCEED -> {
                    permit = held.remove((int) (op.arg % held.size()));
                    b.onSuccess(now);
                    sinceClose.add(new Reported(now, false));
                }
                case FAIL -> {
                    permit = held.remove((int) (op.arg % held.size()));
                    b.onFailure(now);
                    sinceClose.add(new Reported(now, true));
                }
                case RATE_LIMITED -> {
                    permit = held.remove((int) (op.arg % held.size()));
                    retryAfter = op.arg % 3 == 0
                            ? -1
                            : op.arg % (config.maxCoolDown().toMillis() * 2);
                    b.onRateLimited(now, retryAfter);
                }
                case RELEASE -> {
                    permit = held.remove((int) (op.arg % held.size()));
                    b.release();
                }
                case LATE_FAIL -> {
                    // a failure with no permit (after its head was judged, or panic mode)
                    b.onLateFailure(now);
                    if (before == CircuitState.CLOSED) {
                        sinceClose.add(new Reported(now, true));
                    }
                }
                case SMALL_STEP -> now += op.arg % (windowMillis / 5 + 1);
                case BIG_STEP -> now += op.arg % (openMax * 2 + windowMillis);
            }

            CircuitState after = b.state(now);
            CircuitBreaker.Snapshot snap = b.snapshot(now);
            long until = b.millisUntilRetry(now);
            boolean tripped = snap.trips() > snapBefore.trips();

            assertEquals(after, snap.state());
            assertEquals(until == 0, after != CircuitState.OPEN, "millisUntilRetry " + until + " while " + after);
            assertTrue(snap.trips() - snapBefore.trips() <= 1);

            if (after == CircuitState.CLOSED && before != CircuitState.CLOSED) {
                sinceClose.clear();
                sinceClose.add(new Reported(now, false)); // the probe's success is reported but not counted
                lastFailureOpen = -1;
            }
            if (after != CircuitState.CLOSED) {
                long probesOut = held.stream()
                        .filter(p -> p.probe && p.trips == snap.trips())
                        .count();
                assertTrue(probesOut <= config.halfOpenProbes(), probesOut + " probes out at once");
            }
            final long t = now;
            long reportedInWindow = sinceClose.stream()
                    .filter(r -> t - r.atMillis < windowMillis)
                    .count();
            long failedInWindow = sinceClose.stream()
                    .filter(r -> r.failed && t - r.atMillis < windowMillis)
                    .count();
            assertTrue(
                    snap.requests() <= reportedInWindow && snap.failures() <= failedInWindow,
                    "the window counts " + snap.requests() + "/" + snap.failures() + " but only " + reportedInWindow
                            + "/" + failedInWindow + " were reported in the last " + windowMillis + " ms");

            if (kind == Kind.LATE_FAIL && before != CircuitState.CLOSED) {
                assertEquals(before, after, "a failure with no permit decided a circuit that was " + before);
                assertEquals(untilBefore, until);
                assertEquals(snapBefore.trips(), snap.trips());
            }
            if ((kind == Kind.FAIL || kind == Kind.LATE_FAIL) && tripped) {
                if (before == CircuitState.CLOSED) {
                    assertTrue(
                            reportedInWindow >= config.minRequests(),
                            "opened with " + reportedInWindow + " outcomes in the window");
                    assertTrue(snap.requests() >= config.minRequests());
                    assertTrue((double) snap.failures() / snap.requests() >= config.failureRate());
                } else {
                    assertEquals(CircuitState.HALF_OPEN, before, "a failure reopened a circuit that was " + before);
                }
                assertTrue(until >= openBase && until <= openMax, "open " + until + " ms");
                assertTrue(
                        until == openMax || until % openBase == 0 && Long.bitCount(until / openBase) == 1,
                        "open time " + until + " is neither openBase·2^k nor openMax");
                if (lastFailureOpen >= 0) {
                    assertEquals(Math.min(openMax, 2 * lastFailureOpen), until, "consecutive openings");
                }
                lastFailureOpen = until;
            } else if (kind == Kind.FAIL) {
                assertEquals(before, after, "a failure that opened nothing changed the state");
            }
            if (kind == Kind.RATE_LIMITED) {
                long coolDown = retryAfter < 0
                        ? openBase
                        : Math.min(retryAfter, config.maxCoolDown().toMillis());
                assertEquals(Math.max(untilBefore, coolDown), until, "cool-down after Retry-After " + retryAfter);
            }
            if (kind == Kind.SUCCEED
                    && permit.probe
                    && permit.trips == snapBefore.trips()
                    && before == CircuitState.HALF_OPEN) {
                assertEquals(CircuitState.CLOSED, after, "a probe's success closes");
            }
            if (kind == Kind.SMALL_STEP || kind == Kind.BIG_STEP || kind == Kind.ACQUIRE) {
                assertEquals(snapBefore.trips(), snap.trips(), "opened without a verdict");
            }
        }
    }

    private static void sequential(CircuitConfig config, List<Op> ops) {
        CircuitBreaker b = new CircuitBreaker(config);
        long windowMillis = config.window().toMillis();
        long bucket = Math.max(1, windowMillis / 10);
        long buckets = windowMillis / bucket;
        long now = T0;
        List<Reported> reported = new ArrayList<>();
        for (Op op : ops) {
            if (op.kind == Kind.SMALL_STEP) {
                now += op.arg % (windowMillis / 3 + 1);
                continue;
            }
            boolean failed = op.kind == Kind.FAIL;
            CircuitState before = b.state(now);
            if (before == CircuitState.OPEN) {
                assertFalse(b.tryAcquire(now));
                continue;
            }
            assertTrue(b.tryAcquire(now));
            if (failed) {
                b.onFailure(now);
            } else {
                b.onSuccess(now);
            }
            if (before != CircuitState.CLOSED) {
                assertEquals(failed ? CircuitState.OPEN : CircuitState.CLOSED, b.state(now));
                reported.clear();
                continue;
            }
            reported.add(new Reported(now, failed));
            final long t = now;
            List<Reported> counted = reported.stream()
                    .filter(r -> Math.floorDiv(r.atMillis, bucket) > Math.floorDiv(t, bucket) - buckets)
                    .toList();
            for (Reported r : reported) {
                if (t - r.atMillis < windowMillis - 2 * bucket) {
                    assertTrue(
                            counted.contains(r),
                            "an outcome " + (t - r.atMillis) + " ms old fell out of a " + windowMillis + " ms window");
                }
                if (t - r.atMillis >= windowMillis) {
                    assertFalse(counted.contains(r));
                }
            }
            long all = counted.size();
            long bad = counted.stream().filter(Reported::failed).count();
            CircuitBreaker.Snapshot snap = b.snapshot(now);
            boolean mustOpen = failed && all >= config.minRequests() && (double) bad / all >= config.failureRate();
            assertEquals(
                    mustOpen ? CircuitState.OPEN : CircuitState.CLOSED,
                    snap.state(),
                    bad + "/" + all + " in the window, failed now: " + failed);
            if (!mustOpen) {
                assertEquals(all, snap.requests());
                assertEquals(bad, snap.failures());
            }
        }
    }

    private static Gen<CircuitConfig> configs() {
        Gen<Long> windows = longRange(10, 2_000);
        Gen<Integer> minRequests = range(1, 6);
        Gen<Double> rates = pick(List.of(0.1, 0.3, 0.5, 0.75, 1.0));
        Gen<Long> bases = longRange(1, 200);
        Gen<Integer> factors = pick(List.of(1, 2, 3, 8, 100));
        Gen<Integer> probes = range(1, 3);
        Gen<Long> coolDowns = longRange(1, 3_000);
        return windows.zip(minRequests, rates, bases, (w, m, r, base) ->
                        new long[] {w, m, Double.doubleToLongBits(r), base})
                .zip(
                        factors,
                        probes,
                        coolDowns,
                        (a, f, p, c) -> new CircuitConfig(
                                Duration.ofMillis(a[0]),
                                (int) a[1],
                                Double.longBitsToDouble(a[2]),
                                Duration.ofMillis(a[3]),
                                Duration.ofMillis(a[3] * f),
                                p,
                                Duration.ofMillis(c)));
    }

    private static Gen<List<Op>> ops(int max) {
        Gen<Long> args = longRange(0, 1_000_000);
        Gen<Op> op = frequency(
                Pair.of(25, args.map(a -> new Op(Kind.ACQUIRE, a))),
                Pair.of(14, args.map(a -> new Op(Kind.SUCCEED, a))),
                Pair.of(25, args.map(a -> new Op(Kind.FAIL, a))),
                Pair.of(5, args.map(a -> new Op(Kind.RATE_LIMITED, a))),
                Pair.of(5, args.map(a -> new Op(Kind.RELEASE, a))),
                Pair.of(5, args.map(a -> new Op(Kind.LATE_FAIL, a))),
                Pair.of(20, args.map(a -> new Op(Kind.SMALL_STEP, a))),
                Pair.of(6, args.map(a -> new Op(Kind.BIG_STEP, a))));
        return lists().of(op).ofSizeBetween(1, max);
    }
}
