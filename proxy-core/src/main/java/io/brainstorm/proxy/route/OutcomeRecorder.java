package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.Outcome;
import io.brainstorm.proxy.spi.RoutingStrategy;

/**
 * Where each attempt's end goes: the endpoint's circuit breaker and latency windows, the learning
 * state, and the strategy that routed the request ({@link RoutingStrategy#observe}).
 *
 * <p><b>Protocol.</b> An attempt starts with {@link #begin}, which asks the endpoint's breaker for
 * a permit (false: the circuit opened, or its half-open probe is out, since routing — skip the
 * endpoint). Every granted permit ends with exactly one of {@link #answered}, {@link #failed},
 * {@link #rateLimited} or {@link #abandoned}.
 *
 * <p><b>Learning signal:</b> the scorer's verdict on each answer (DESIGN §8; for a plain request,
 * 1 for a non-empty answer, 0 for an empty one); 0 for an error, a timeout or a broken stream.
 * A 4xx the client caused, and an answer the scorer could not judge, teach nothing.
 *
 * <p><b>Threading:</b> called on event loops; the state it writes is thread-safe.
 */
public final class OutcomeRecorder {
    private static final System.Logger log = System.getLogger(OutcomeRecorder.class.getName());
    /** Score of an answer that says nothing about quality (a 4xx the client caused, or not scorable). */
    public static final double NO_SCORE = io.brainstorm.proxy.settle.Completion.NO_SCORE;

    private final RoutingState state;
    private final AnswerLog answers;

    /** @param answers where answered requests are remembered for {@code /v1/feedback} */
    public OutcomeRecorder(RoutingState state, AnswerLog answers) {
        this.state = state;
        this.answers = answers;
    }

    /** Asks for a permit to try {@code e}; false when its circuit does not allow an attempt now. */
    public boolean begin(Endpoint e) {
        return state.health(e.candidateId()).breaker().tryAcquire(state.nowMillis());
    }

    /** The routing clock's now, in milliseconds. */
    public long nowMillis() {
        return state.nowMillis();
    }

    /** How long until {@code e}'s circuit lets an attempt through again (0 when it does now). */
    public long millisUntilRetry(Endpoint e, long nowMillis) {
        return state.health(e.candidateId()).breaker().millisUntilRetry(nowMillis);
    }

    /** The attempt ended with no verdict (the client went away): the permit goes back. */
    public void abandoned(Endpoint e) {
        state.health(e.candidateId()).breaker().release();
    }

    /**
     * The endpoint answered, and its score is known: {@link #answering} and {@link #scored} in one.
     *
     * @param status        the upstream's status (2xx, or a 4xx the client caused)
     * @param score         answer quality 0..1, or {@link #NO_SCORE}
     * @param latencyMicros to the end of the answer
     * @param ttftMicros    to the first streamed event, or -1
     * @param costNanoUsd   what the answer cost
     */
    public void answered(RoutePlan plan, Endpoint e, int status, double score, long latencyMicros, long ttftMicros,
                         long costNanoUsd) {
        answering(plan, e, latencyMicros, ttftMicros);
        scored(plan, e, status, score, latencyMicros, ttftMicros, costNanoUsd);
    }

    /**
     * The endpoint answered; its score comes later ({@link #scored}), once the scorer has read the
     * answer. Ends the attempt's permit: breaker and latency windows learn now.
     */
    public void answering(RoutePlan plan, Endpoint e, long latencyMicros, long ttftMicros) {
        state.health(e.candidateId()).recordSuccess(state.nowMillis(), plan.request().stream(), latencyMicros, ttftMicros);
    }

    /**
     * An answer's score: the learning state (weight 1, DESIGN §5), the feedback log (every 2xx
     * answer, scored or not, can get feedback) and the deciding strategy. Any thread.
     *
     * @param score answer quality 0..1, or {@link #NO_SCORE} (a 4xx the client caused, or an
     *              answer the scorer could not judge)
     */
    public void scored(RoutePlan plan, Endpoint e, int status, double score, long latencyMicros, long ttftMicros,
                       long costNanoUsd) {
        String id = e.candidateId();
        if (score >= 0) {
            state.learning().observe(id, plan.request().taskClass(), score, 1.0);
        }
        if (status / 100 == 2) {
            answers.remember(plan.request().requestId(), new AnswerLog.Answer(plan.request().tenant(), id,
                    plan.request().taskClass(), state.nowMillis()));
        }
        tell(plan, e, status, score < 0 ? 0 : score, latencyMicros, ttftMicros, costNanoUsd);
    }

    /**
     * The attempt failed: connect error, reset, 5xx, 401/403, a timeout, or a stream that broke.
     *
     * @param status the upstream's status, or 0 when it gave none
     */
    public void failed(RoutePlan plan, Endpoint e, int status, long latencyMicros) {
        String id = e.candidateId();
        state.health(id).recordFailure(state.nowMillis());
        state.learning().observe(id, plan.request().taskClass(), 0, 1.0);
        tell(plan, e, status, 0, latencyMicros, -1, 0);
    }

    /**
     * The provider answered 429: the endpoint cools down for {@code retryAfterMillis} (-1: no
     * {@code Retry-After}). Not a quality verdict.
     */
    public void rateLimited(RoutePlan plan, Endpoint e, long retryAfterMillis, long latencyMicros) {
        state.health(e.candidateId()).recordRateLimited(state.nowMillis(), retryAfterMillis);
        tell(plan, e, 429, 0, latencyMicros, -1, 0);
    }

    private static void tell(RoutePlan plan, Endpoint e, int status, double score, long latencyMicros, long ttftMicros,
                             long costNanoUsd) {
        RoutingStrategy s = plan.decider();
        if (s == null) {
            return;
        }
        try {
            s.observe(new Outcome(plan.request().requestId(), e.candidateId(), e.id(), e.model().id(),
                    plan.request().taskClass(), status, score, latencyMicros, ttftMicros, costNanoUsd));
        } catch (RuntimeException ex) {
            log.log(System.Logger.Level.WARNING, "strategy '" + plan.strategy() + "' failed in observe()", ex);
        }
    }
}
