package io.brainstorm.proxy.route;

import java.time.Duration;

/**
 * Circuit breaker settings (docs/architecture.md §7), one set for every endpoint.
 *
 * @param window         how far back outcomes count towards the error rate; kept in ten buckets, so
 *                       the oldest tenth of the window may already have dropped out
 * @param minRequests    outcomes the window must hold before the error rate can open the circuit
 * @param failureRate    share of failed outcomes (0 exclusive .. 1) at or above which it opens
 * @param openBase       how long the first opening lasts; also how long a provider key that got a
 *                       401/403 is tried last on that endpoint, and a 429's cool-down without
 *                       {@code Retry-After}
 * @param openMax        the longest an opening lasts however often probes fail; each failed probe
 *                       doubles the open time up to this
 * @param halfOpenProbes requests let through at once when the open time has passed
 * @param maxCoolDown    the longest a 429's {@code Retry-After} may keep the provider key that got it
 *                       cooling down on that endpoint
 */
public record CircuitConfig(
        Duration window,
        int minRequests,
        double failureRate,
        Duration openBase,
        Duration openMax,
        int halfOpenProbes,
        Duration maxCoolDown) {

    /**
     * 30 s window, 10 requests, 50 % errors; open 5 s doubling to 5 min; 3 probes at once (one slow
     * or unlucky probe does not decide alone, and a half-open endpoint is not down to one request);
     * 429 cool-down at most 5 min.
     */
    public static final CircuitConfig DEFAULTS = new CircuitConfig(
            Duration.ofSeconds(30), 10, 0.5, Duration.ofSeconds(5), Duration.ofMinutes(5), 3, Duration.ofMinutes(5));

    public CircuitConfig {
        requireMillis("window", window);
        requireMillis("openBase", openBase);
        requireMillis("openMax", openMax);
        requireMillis("maxCoolDown", maxCoolDown);
        if (minRequests < 1) {
            throw new IllegalArgumentException("minRequests: " + minRequests + " (expected: >= 1)");
        }
        if (!(failureRate > 0 && failureRate <= 1)) {
            throw new IllegalArgumentException("failureRate: " + failureRate + " (expected: > 0 and <= 1)");
        }
        if (openMax.compareTo(openBase) < 0) {
            throw new IllegalArgumentException("openMax: " + openMax + " (expected: >= openBase " + openBase + ")");
        }
        if (halfOpenProbes < 1) {
            throw new IllegalArgumentException("halfOpenProbes: " + halfOpenProbes + " (expected: >= 1)");
        }
    }

    static void requireMillis(String name, Duration d) {
        if (d == null || d.isNegative() || d.toMillis() < 1) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: >= 1 ms)");
        }
    }
}
