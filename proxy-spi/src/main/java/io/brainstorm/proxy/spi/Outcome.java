package io.brainstorm.proxy.spi;

/**
 * How one attempt at one endpoint ended, passed to {@link RoutingStrategy#observe}.
 *
 * @param requestId     the request's id
 * @param candidateId   the {@link Candidate#id()} that was tried
 * @param endpoint      its provider account
 * @param model         its model
 * @param taskClass     the request's task class
 * @param status        the upstream's HTTP status; 0 when it gave none (connect error, reset, timeout)
 * @param score         answer quality 0..1: 0 for an error, a timeout, an empty answer or one cut by
 *                      {@code finish_reason: length}; 1 for a complete non-empty answer
 * @param latencyMicros time from sending the request to the end of the answer (or of the failure)
 * @param ttftMicros    time to the first streamed event; -1 when not streamed or none arrived
 * @param costNanoUsd   what the attempt cost, in nano-USD (0 when it failed)
 */
public record Outcome(String requestId, String candidateId, String endpoint, String model, TaskClass taskClass,
                      int status, double score, long latencyMicros, long ttftMicros, long costNanoUsd) {

    public Outcome {
        if (!(score >= 0 && score <= 1)) {
            throw new IllegalArgumentException("score: " + score + " (expected: 0..1)");
        }
    }

    /** Whether the endpoint answered with a 2xx status (whatever the answer's quality). */
    public boolean answered() {
        return status >= 200 && status < 300;
    }
}
