package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.settle.CompletionSink;
import io.brainstorm.proxy.settle.Scoring;

/**
 * Where an {@link Exchange}'s results go, shared by every request of a gateway: attempts' ends
 * (breakers, latency, learning), the scorer, and the ended request's {@link io.brainstorm.proxy.settle.Completion}
 * (audit, metrics, live feed).
 *
 * @param outcomes      attempts' ends
 * @param scoring       scores answers that asked for structure
 * @param completions   where each ended request goes
 * @param maxAttempts   endpoints tried per request
 * @param recordContent whether completions carry the prompt and the answer (the audit's {@code record_content})
 */
public record Settlement(
        OutcomeRecorder outcomes,
        Scoring scoring,
        CompletionSink completions,
        int maxAttempts,
        boolean recordContent) {}
