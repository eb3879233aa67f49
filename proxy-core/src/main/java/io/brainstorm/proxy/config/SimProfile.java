package io.brainstorm.proxy.config;

/**
 * How one simulated endpoint behaves. Only endpoints of the built-in {@code sim} provider have one.
 *
 * @param latencyMs       total time of a non-streamed answer
 * @param ttftMs          time to the first streamed chunk
 * @param tokenIntervalMs time between streamed chunks after the first
 * @param quality         probability (0..1) that an answer is good (else: JSON or a tool call invalid, plain text empty)
 * @param failureRate     probability (0..1) that a request fails with a 500 or a 429
 */
public record SimProfile(long latencyMs, long ttftMs, long tokenIntervalMs, double quality, double failureRate) {
    public SimProfile {
        if (latencyMs < 0 || ttftMs < 0 || tokenIntervalMs < 0) {
            throw new IllegalArgumentException(
                    "sim delays: " + latencyMs + "/" + ttftMs + "/" + tokenIntervalMs + " ms (expected: >= 0)");
        }
        if (!(quality >= 0 && quality <= 1)) {
            throw new IllegalArgumentException("quality: " + quality + " (expected: 0..1)");
        }
        if (!(failureRate >= 0 && failureRate <= 1)) {
            throw new IllegalArgumentException("failureRate: " + failureRate + " (expected: 0..1)");
        }
    }
}
