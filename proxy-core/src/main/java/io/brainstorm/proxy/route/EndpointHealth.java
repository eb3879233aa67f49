package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.EndpointStats;

/**
 * One candidate's ({@code model@endpoint}) health: its {@link CircuitBreaker}, latency and time to
 * first token over the recent window, and attempts and errors over the same window. The upstream
 * side records each attempt's outcome here; {@link #stats} turns it into the
 * {@link EndpointStats} a routing strategy sees. {@link RoutingState} holds one per candidate.
 *
 * <p>Attempts and errors count over {@link HealthConfig#latencyWindow()}, the window of the
 * latency figures, so a strategy sees one consistent recent past; the breaker keeps its own
 * window ({@link CircuitConfig#window()}). The breaker's verdict on an attempt comes at its
 * response head ({@link #recordResponded}); latency comes at the answer's end
 * ({@link #recordSuccess}). A 401/403/429 belongs to the provider key that got it
 * ({@link #credentials}): it neither touches the breaker nor counts in the attempts other tenants'
 * routing sees.
 *
 * <p><b>Threading:</b> thread-safe. {@link #stats} runs for every candidate of every request: it
 * takes one short lock for the attempt counts, reads the cached latency quantiles and the
 * breaker's lock-free state, and allocates only the record it returns.
 */
public final class EndpointHealth {
    private final CircuitBreaker breaker;
    private final LatencyWindow latency;
    private final LatencyWindow ttft;
    private final WindowCounts attempts; // guarded by itself
    private final CredentialHolds credentials;

    public EndpointHealth(HealthConfig config) {
        this.breaker = new CircuitBreaker(config.circuit());
        this.latency = new LatencyWindow(config.latencyWindow(), config.latencyBuckets());
        this.ttft = new LatencyWindow(config.latencyWindow(), config.latencyBuckets());
        this.attempts = new WindowCounts(config.latencyWindow().toMillis(), config.latencyBuckets());
        this.credentials = new CredentialHolds(config.circuit());
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** The provider keys this endpoint turned away (401/403/429), per key. */
    public CredentialHolds credentials() {
        return credentials;
    }

    /** The response head arrived and is not a failure: the breaker's verdict on the attempt's permit. */
    public void recordResponded(long nowMillis) {
        breaker.onSuccess(nowMillis);
    }

    /**
     * The endpoint answered (2xx, or a 4xx that is the client's fault) to its end. A stream's time to
     * its first event goes to the TTFT window, a plain answer's total time to the latency window; a
     * negative time means not measured and is left out. The breaker had its verdict at the head.
     */
    public void recordSuccess(long nowMillis, boolean stream, long latencyMicros, long ttftMicros) {
        if (stream) {
            if (ttftMicros >= 0) {
                ttft.record(nowMillis, ttftMicros);
            }
        } else if (latencyMicros >= 0) {
            latency.record(nowMillis, latencyMicros);
        }
        count(nowMillis, false);
    }

    /** The attempt failed before its head was judged (connect error, reset, 5xx, timeout): the permit's verdict. */
    public void recordFailure(long nowMillis) {
        breaker.onFailure(nowMillis);
        count(nowMillis, true);
    }

    /**
     * The attempt failed with no permit to judge: after its head was judged (a stream that broke),
     * or made without one (panic mode). See {@link CircuitBreaker#onLateFailure}.
     */
    public void recordLateFailure(long nowMillis) {
        breaker.onLateFailure(nowMillis);
        count(nowMillis, true);
    }

    /** The snapshot for routing at {@code nowMillis}, with answer quality from {@code quality}. */
    public EndpointStats stats(long nowMillis, Posterior quality) {
        long all;
        long failed;
        synchronized (attempts) {
            all = attempts.all(nowMillis);
            failed = attempts.failed(nowMillis);
        }
        return EndpointStats.builder()
                .requests(all)
                .errorRate(all == 0 ? 0 : (double) failed / all)
                .latency(latency.stats(nowMillis))
                .ttft(ttft.stats(nowMillis))
                .quality(quality.alpha(), quality.beta())
                .circuit(breaker.state(nowMillis))
                .build();
    }

    private void count(long nowMillis, boolean failure) {
        synchronized (attempts) {
            attempts.add(nowMillis, failure);
        }
    }
}
