package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.LatencyStats;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * One candidate's health and learnt quality at a moment, for the admin API and the dashboard.
 *
 * @param candidateId {@code model@endpoint}
 * @param circuit     its circuit breaker
 * @param keyHolds    provider keys it turned away (401/403/429), held per key: running holds
 * @param requests    attempts in the recent window
 * @param errorRate   share of them that failed (0 with none)
 * @param latency     time to the whole answer of plain requests
 * @param ttft        time to the first event of streamed requests
 * @param quality     task class key ({@code json/1k-8k}) → the shared belief, for the classes with observations, sorted
 */
public record EndpointReadOut(
        String candidateId,
        CircuitBreaker.Snapshot circuit,
        java.util.List<CredentialHolds.Hold> keyHolds,
        long requests,
        double errorRate,
        LatencyStats latency,
        LatencyStats ttft,
        Map<String, Belief> quality) {
    public EndpointReadOut {
        keyHolds = java.util.List.copyOf(keyHolds);
        quality = Collections.unmodifiableMap(new TreeMap<>(quality));
    }

    /** How many provider keys are held for {@code kind} now. */
    public int keysHeld(CredentialHolds.Kind kind) {
        int n = 0;
        for (CredentialHolds.Hold h : keyHolds) {
            if (h.kind() == kind) {
                n++;
            }
        }
        return n;
    }
}
