package io.brainstorm.proxy.config;

import io.brainstorm.proxy.concurrent.Cpus;

/**
 * The {@code scoring} section of {@code brainstorm.yaml}: the answer scorer (docs/architecture.md §8).
 *
 * @param enabled         false: answers are not scored beyond "non-empty and no error" (the old signal)
 * @param maxCaptureBytes largest side copy of a streamed answer's content and tool-call arguments;
 *                        a stream that outgrows it is not scored (counted as {@code over_limit})
 * @param maxSchemaBytes  largest client-supplied JSON schema (response format or tool parameters)
 *                        the scorer compiles; a larger one is not used ({@code schema_unusable})
 * @param threads         threads that validate against schemas, off the event loops; by default half
 *                        the CPUs the process may use, at least one ({@link Cpus#scorers})
 */
public record ScoringConfig(boolean enabled, int maxCaptureBytes, int maxSchemaBytes, int threads) {
    public static final ScoringConfig DEFAULTS =
            new ScoringConfig(true, 1024 * 1024, 64 * 1024, Cpus.scorers(Cpus.available()));
}
