package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.CircuitState;

/**
 * One endpoint's circuit breaker (docs/architecture.md §7): stops sending requests to an endpoint that fails,
 * lets a few probes through once it has rested, and lets traffic back when a probe succeeds.
 * {@link EndpointHealth} owns one per candidate; the router asks {@link #state} per candidate and
 * {@link #tryAcquire} before each attempt, and the attempt's verdict comes back through
 * {@link EndpointHealth} ({@link #onSuccess} when the response head arrives, {@link #onFailure}) or
 * {@link #release} when there is none (the client went away first, or the provider turned the
 * tenant's key away: 401/403/429 belong to the key, {@link CredentialHolds}). A failure after the
 * verdict (a stream that breaks), or of an attempt made without a permit (panic mode), is
 * {@link #onLateFailure}.
 *
 * <ul>
 *   <li><b>CLOSED</b>: every request passes. Outcomes count in a sliding window of
 *       {@link CircuitConfig#window()} (ten buckets, so the oldest tenth may already have dropped
 *       out); a failure that leaves at least {@link CircuitConfig#minRequests()} outcomes of which at
 *       least {@link CircuitConfig#failureRate()} failed opens the circuit.</li>
 *   <li><b>OPEN</b>: nothing passes until the open time is over; then the breaker reads as
 *       HALF_OPEN. Open time: {@code openBase · 2^level}, capped at {@code openMax}. Each opening
 *       for failures raises the level by one, so probes that keep failing wait 5 s, 10 s, 20 s …
 *       (with the defaults). A closed circuit forgets one level per {@code window} it stays closed,
 *       so an endpoint that flaps does not get the short wait back at once.</li>
 *   <li><b>HALF_OPEN</b>: at most {@link CircuitConfig#halfOpenProbes()} probes at once (3 by
 *       default). A probe is judged at its response head: a success closes the circuit with an
 *       empty window, so a long stream does not hold the endpoint half-open to its end; a failure
 *       opens it again for the next level's time.</li>
 *   <li><b>{@link #onRateLimited}</b>: the endpoint as a whole cools down (OPEN) for a
 *       {@code Retry-After}, at most {@link CircuitConfig#maxCoolDown()}, or {@code openBase}
 *       without one; it never shortens an opening already running and leaves the back-off level
 *       alone. The gateway does not call it for a provider's 429, which cools only the key that
 *       got it ({@link CredentialHolds}).</li>
 * </ul>
 *
 * <p><b>Late verdicts.</b> A permit carries no token, so the breaker keeps counts of permits out
 * by era: taken while CLOSED since the last opening, probes of the current HALF_OPEN, and
 * <em>stale</em> ones taken before the circuit last opened. Stale verdicts are dropped: they
 * describe the endpoint before it tripped, so the requests in flight at a trip that time out
 * later neither extend the opening nor open a just-recovered circuit again. When a verdict could
 * belong to either era, it is read in the endpoint's favour: a failure (and a 429 or
 * {@link #release}, for the count) is charged to a stale permit first; a success to a current
 * permit or probe first, since an answer just now is good news whichever request it was. An
 * outcome reported with no permit out (a caller that did not {@link #tryAcquire}) counts as if a
 * permit had been taken at that moment: in CLOSED it counts, past the open time it is a probe's,
 * before it it is dropped.
 *
 * <p><b>Time</b> is passed in as epoch milliseconds from the gateway's injected clock; a time
 * earlier than one already seen is treated as the latest seen by the window.
 *
 * <p><b>Threading:</b> called from every event loop at once. {@link #state} and
 * {@link #millisUntilRetry} read one volatile field and never lock; the rest runs in short
 * {@code synchronized} sections with no I/O or allocation beyond a snapshot.
 */
public final class CircuitBreaker {
    /**
     * The breaker's state for read-outs.
     *
     * @param state           as {@link CircuitBreaker#state} reports it at the snapshot's time
     * @param requests        outcomes counted in the window
     * @param failures        failed outcomes among them
     * @param openUntilMillis when the last opening ends or ended (epoch ms); 0 when CLOSED
     * @param trips           times it opened, 429 cool-downs included
     * @param reason          why it last opened; empty when it never did
     */
    public record Snapshot(
            CircuitState state, long requests, long failures, long openUntilMillis, int trips, String reason) {}

    /** What the lock-free reads see; replaced whole under the lock. */
    private record View(CircuitState mode, long openUntilMillis) {}

    private static final View CLOSED_VIEW = new View(CircuitState.CLOSED, 0);
    private static final int WINDOW_BUCKETS = 10;

    private final CircuitConfig config;
    private final long windowMillis;
    private final long openBaseMillis;
    private final long openMaxMillis;
    private final long maxCoolDownMillis;

    private volatile View view = CLOSED_VIEW;

    // guarded by this
    private CircuitState mode = CircuitState.CLOSED;
    private long openUntilMillis;
    private final WindowCounts window;
    /** The next failure opening lasts openBase · 2^level. */
    private int level;

    private long closedSinceMillis = Long.MIN_VALUE;
    private int trips;
    private String reason = "";
    private long currentOut;
    private int probesOut;
    private long staleOut;

    public CircuitBreaker(CircuitConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: null (expected: set)");
        }
        this.config = config;
        this.windowMillis = config.window().toMillis();
        this.openBaseMillis = config.openBase().toMillis();
        this.openMaxMillis = config.openMax().toMillis();
        this.maxCoolDownMillis = config.maxCoolDown().toMillis();
        this.window = new WindowCounts(windowMillis, WINDOW_BUCKETS);
    }

    public CircuitConfig config() {
        return config;
    }

    /** The state at {@code nowMillis}: an OPEN circuit whose open time has passed is HALF_OPEN. Never locks. */
    public CircuitState state(long nowMillis) {
        View v = view;
        if (v.mode == CircuitState.CLOSED) {
            return CircuitState.CLOSED;
        }
        return v.mode == CircuitState.OPEN && nowMillis < v.openUntilMillis
                ? CircuitState.OPEN
                : CircuitState.HALF_OPEN;
    }

    /**
     * Permission for one attempt: always when CLOSED, never while OPEN, and when HALF_OPEN only while
     * fewer than {@code halfOpenProbes} probes are out. Each {@code true} must be followed by exactly
     * one verdict or {@link #release}.
     */
    public synchronized boolean tryAcquire(long nowMillis) {
        switch (mode) {
            case CLOSED -> {
                currentOut++;
                return true;
            }
            case OPEN -> {
                if (nowMillis < openUntilMillis) {
                    return false;
                }
                setMode(CircuitState.HALF_OPEN);
            }
            default -> {}
        }
        if (probesOut < config.halfOpenProbes()) {
            probesOut++;
            return true;
        }
        return false;
    }

    /** Gives an acquired permit back without a verdict (the client went away before the endpoint answered). */
    public synchronized void release() {
        if (!takeStale()) {
            if (!takeProbe()) {
                takeCurrent();
            }
        }
    }

    /** The endpoint answered. A HALF_OPEN probe's success closes the circuit. */
    public synchronized void onSuccess(long nowMillis) {
        switch (mode) {
            case CLOSED -> {
                if (takeCurrent() || !takeStale()) {
                    window.add(nowMillis, false);
                }
            }
            case HALF_OPEN -> {
                if (takeProbe() || !takeStale()) {
                    close(nowMillis);
                }
            }
            case OPEN -> {
                if (takeStale()) {
                    return;
                }
                if (nowMillis >= openUntilMillis) {
                    close(nowMillis);
                }
            }
        }
    }

    /**
     * The attempt failed (connect error, reset, 5xx, timeout). In CLOSED it counts and may open the
     * circuit; a HALF_OPEN probe's failure opens it again with the open time doubled.
     */
    public synchronized void onFailure(long nowMillis) {
        switch (mode) {
            case CLOSED -> {
                if (takeStale()) {
                    return;
                }
                takeCurrent();
                countFailure(nowMillis);
            }
            case HALF_OPEN -> {
                if (!takeStale()) {
                    takeProbe();
                    openForFailures(nowMillis, "probe failed");
                }
            }
            case OPEN -> {
                if (!takeStale() && nowMillis >= openUntilMillis) {
                    openForFailures(nowMillis, "probe failed");
                }
            }
        }
    }

    /**
     * A failure that carries no permit: an answer that broke after its head was judged, or an
     * attempt made without a permit (panic mode). It counts in a CLOSED window (and may open the
     * circuit); while OPEN or HALF_OPEN the probes decide, and it is dropped.
     */
    public synchronized void onLateFailure(long nowMillis) {
        if (mode == CircuitState.CLOSED) {
            countFailure(nowMillis);
        }
    }

    /** A failure in CLOSED: counts in the window, and opens the circuit when the error rate is reached. */
    private void countFailure(long nowMillis) {
        window.add(nowMillis, true);
        long all = window.all(nowMillis);
        long failed = window.failed(nowMillis);
        // a division, not failureRate * all: 0.3 * 10 is 3.0000000000000004
        if (all >= config.minRequests() && (double) failed / all >= config.failureRate()) {
            long closedWindows =
                    closedSinceMillis == Long.MIN_VALUE ? 0 : Math.max(0, nowMillis - closedSinceMillis) / windowMillis;
            level = (int) Math.max(0, level - closedWindows);
            openForFailures(
                    nowMillis,
                    "error rate " + failed + "/" + all + " >= " + config.failureRate() + " over " + config.window());
        }
    }

    /**
     * The endpoint as a whole cools down (OPEN) for {@code retryAfterMillis}, capped at
     * {@code maxCoolDown}, or for {@code openBase} when there was no {@code Retry-After}
     * ({@code -1}). An opening already lasting longer is kept; the back-off level does not grow.
     */
    public synchronized void onRateLimited(long nowMillis, long retryAfterMillis) {
        if (retryAfterMillis < -1) {
            throw new IllegalArgumentException(
                    "retryAfterMillis: " + retryAfterMillis + " (expected: >= 0, or -1 for none)");
        }
        if (!takeStale()) {
            if (!takeProbe()) {
                takeCurrent();
            }
        }
        long coolDown = retryAfterMillis < 0 ? openBaseMillis : Math.min(retryAfterMillis, maxCoolDownMillis);
        long until = nowMillis + coolDown;
        if (mode == CircuitState.OPEN && openUntilMillis >= until) {
            return;
        }
        open(
                until,
                "rate limited: cooling down " + coolDown + " ms"
                        + (retryAfterMillis < 0 ? " (no Retry-After)" : " (Retry-After " + retryAfterMillis + " ms)"));
    }

    /** 0 unless OPEN; else the milliseconds until a probe may pass (for the {@code Retry-After} of a 503). */
    public long millisUntilRetry(long nowMillis) {
        View v = view;
        return v.mode == CircuitState.OPEN && nowMillis < v.openUntilMillis ? v.openUntilMillis - nowMillis : 0;
    }

    public synchronized Snapshot snapshot(long nowMillis) {
        CircuitState s = state(nowMillis);
        return new Snapshot(
                s,
                window.all(nowMillis),
                window.failed(nowMillis),
                mode == CircuitState.CLOSED ? 0 : openUntilMillis,
                trips,
                reason);
    }

    @Override
    public String toString() {
        View v = view;
        return "CircuitBreaker(" + v.mode + (v.mode == CircuitState.CLOSED ? "" : " until " + v.openUntilMillis) + ")";
    }

    private void openForFailures(long nowMillis, String why) {
        long openFor = openMillis(level);
        if (openFor < openMaxMillis) {
            level++;
        }
        open(nowMillis + openFor, why + "; open " + openFor + " ms");
    }

    private long openMillis(int lvl) {
        return lvl >= 62 || openBaseMillis > openMaxMillis >> lvl
                ? openMaxMillis
                : Math.min(openMaxMillis, openBaseMillis << lvl);
    }

    private void open(long untilMillis, String why) {
        staleOut += currentOut + probesOut;
        currentOut = 0;
        probesOut = 0;
        openUntilMillis = untilMillis;
        trips++;
        reason = why;
        setMode(CircuitState.OPEN);
    }

    private void close(long nowMillis) {
        // probes still out were sent to an endpoint that has now answered: they count as CLOSED traffic
        currentOut += probesOut;
        probesOut = 0;
        window.clear();
        closedSinceMillis = nowMillis;
        setMode(CircuitState.CLOSED);
    }

    private void setMode(CircuitState m) {
        mode = m;
        view = m == CircuitState.CLOSED ? CLOSED_VIEW : new View(m, openUntilMillis);
    }

    private boolean takeStale() {
        if (staleOut > 0) {
            staleOut--;
            return true;
        }
        return false;
    }

    private boolean takeProbe() {
        if (probesOut > 0) {
            probesOut--;
            return true;
        }
        return false;
    }

    private boolean takeCurrent() {
        if (currentOut > 0) {
            currentOut--;
            return true;
        }
        return false;
    }
}
