package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.Outcome;
import io.brainstorm.proxy.spi.RoutingStrategy;

/**
 * Where each attempt's end goes: the endpoint's circuit breaker and latency windows, the learning
 * state, and the strategy that routed the request ({@link RoutingStrategy#observe}).
 *
 * <p><b>Protocol.</b> An attempt starts with {@link #begin}, which looks at the caller's provider
 * key's holds on the endpoint and asks the endpoint's breaker for a permit ({@link RoutingState.Reach}:
 * anything but {@code USABLE} means skip the endpoint for now). A granted permit gets its breaker
 * verdict once: {@link #responded} when a response head that is not a failure arrives,
 * {@link #failed} with {@code permit} true before that, or its release in {@link #rateLimited},
 * {@link #rejected} or {@link #abandoned}. Every attempt — with a permit or, in panic mode,
 * without — ends with exactly one of {@link #answered} (or {@link #answering}), {@link #failed},
 * {@link #rateLimited}, {@link #rejected} or {@link #abandoned}.
 *
 * <p><b>Learning signal:</b> the scorer's verdict on each answer (docs/architecture.md §8; for a plain request,
 * 1 for a non-empty answer, 0 for an empty one); 0 for an error, a timeout or a broken stream.
 * A 4xx the client caused, an answer the scorer could not judge, and a 401/403/429 (the provider
 * turned the key away; the model said nothing) teach nothing.
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

    /**
     * Asks for a permit to try {@code e} with {@code providerKey}: {@code USABLE} when granted;
     * {@code COOLING} when the key is cooling down there under a 429's {@code Retry-After};
     * {@code LAST_RESORT} when the circuit is open or its probes are out, or the key got a 401/403
     * there (no permit is taken).
     */
    public RoutingState.Reach begin(Endpoint e, String providerKey) {
        long now = state.nowMillis();
        RoutingState.Reach r = state.reach(e.candidateId(), providerKey, now);
        if (r != RoutingState.Reach.USABLE) {
            return r;
        }
        return state.health(e.candidateId()).breaker().tryAcquire(now)
                ? RoutingState.Reach.USABLE
                : RoutingState.Reach.LAST_RESORT;
    }

    /** The response head arrived and is not a failure: the permit's verdict, a success (docs/architecture.md §7). */
    public void responded(Endpoint e) {
        state.health(e.candidateId()).recordResponded(state.nowMillis());
    }

    /** The routing clock's now, in milliseconds. */
    public long nowMillis() {
        return state.nowMillis();
    }

    /** How long until {@code e} lets an attempt with {@code providerKey} through again (0 when it does now). */
    public long millisUntilRetry(Endpoint e, String providerKey, long nowMillis) {
        return state.millisUntilRetry(e.candidateId(), providerKey, nowMillis);
    }

    /** The attempt ended with no verdict (the client went away before the head): the permit goes back. */
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
    public void answered(
            RoutePlan plan,
            Endpoint e,
            int status,
            double score,
            long latencyMicros,
            long ttftMicros,
            long costNanoUsd) {
        answering(plan, e, latencyMicros, ttftMicros);
        scored(plan, e, status, score, latencyMicros, ttftMicros, costNanoUsd);
    }

    /**
     * The endpoint answered; its score comes later ({@link #scored}), once the scorer has read the
     * answer. The latency windows learn now (the breaker had its verdict at the head).
     */
    public void answering(RoutePlan plan, Endpoint e, long latencyMicros, long ttftMicros) {
        state.health(e.candidateId())
                .recordSuccess(state.nowMillis(), plan.request().stream(), latencyMicros, ttftMicros);
    }

    /**
     * An answer's score: the learning state (the tenant's belief and the shared one, docs/routing.md), the feedback log (every 2xx
     * answer, scored or not, can get feedback) and the deciding strategy. Any thread.
     *
     * @param score answer quality 0..1, or {@link #NO_SCORE} (a 4xx the client caused, or an
     *              answer the scorer could not judge)
     */
    public void scored(
            RoutePlan plan,
            Endpoint e,
            int status,
            double score,
            long latencyMicros,
            long ttftMicros,
            long costNanoUsd) {
        String id = e.candidateId();
        if (score >= 0) {
            state.learning()
                    .answered(plan.request().tenant(), id, plan.request().taskClass(), score, state.nowMillis());
        }
        if (status / 100 == 2) {
            answers.remember(
                    plan.request().requestId(),
                    new AnswerLog.Answer(
                            plan.request().tenant(), id, plan.request().taskClass(), state.nowMillis()));
        }
        tell(plan, e, status, score < 0 ? 0 : score, latencyMicros, ttftMicros, costNanoUsd);
    }

    /**
     * The attempt failed: connect error, reset, 5xx, a timeout, or a stream that broke.
     *
     * @param status the upstream's status, or 0 when it gave none
     * @param permit the attempt still holds a breaker permit (its head was not judged yet): this
     *               is its verdict; false for a failure after the head, or in panic mode
     */
    public void failed(RoutePlan plan, Endpoint e, int status, long latencyMicros, boolean permit) {
        String id = e.candidateId();
        if (permit) {
            state.health(id).recordFailure(state.nowMillis());
        } else {
            state.health(id).recordLateFailure(state.nowMillis());
        }
        state.learning().answered(plan.request().tenant(), id, plan.request().taskClass(), 0, state.nowMillis());
        tell(plan, e, status, 0, latencyMicros, -1, 0);
    }

    /**
     * The provider answered 429 to {@code providerKey}: that key cools down on {@code e} for
     * {@code retryAfterMillis} (-1: no {@code Retry-After}); other keys are not affected. Not a
     * verdict on the endpoint or on the model: a held permit goes back.
     */
    public void rateLimited(
            RoutePlan plan, Endpoint e, String providerKey, long retryAfterMillis, long latencyMicros, boolean permit) {
        EndpointHealth h = state.health(e.candidateId());
        h.credentials().rateLimited(CredentialHolds.fingerprint(providerKey), state.nowMillis(), retryAfterMillis);
        keyRefused(plan, e, h, 429, latencyMicros, permit);
    }

    /**
     * The provider answered {@code status} (401 or 403) to {@code providerKey}: that key is tried
     * last on {@code e} for a while ({@link CredentialHolds#rejected}); other keys are not
     * affected. Not a verdict on the endpoint or on the model: a held permit goes back.
     */
    public void rejected(
            RoutePlan plan, Endpoint e, String providerKey, int status, long latencyMicros, boolean permit) {
        EndpointHealth h = state.health(e.candidateId());
        h.credentials().rejected(CredentialHolds.fingerprint(providerKey), state.nowMillis(), status);
        keyRefused(plan, e, h, status, latencyMicros, permit);
    }

    /** The end of an attempt a provider key was refused on: no verdict on the endpoint, so a held permit goes back. */
    private static void keyRefused(
            RoutePlan plan, Endpoint e, EndpointHealth h, int status, long latencyMicros, boolean permit) {
        if (permit) {
            h.breaker().release();
        }
        tell(plan, e, status, 0, latencyMicros, -1, 0);
    }

    private static void tell(
            RoutePlan plan,
            Endpoint e,
            int status,
            double score,
            long latencyMicros,
            long ttftMicros,
            long costNanoUsd) {
        RoutingStrategy s = plan.decider();
        if (s == null) {
            return;
        }
        try {
            s.observe(Outcome.builder()
                    .requestId(plan.request().requestId())
                    .candidateId(e.candidateId())
                    .endpoint(e.id())
                    .model(e.model().id())
                    .taskClass(plan.request().taskClass())
                    .status(status)
                    .score(score)
                    .latencyMicros(latencyMicros)
                    .ttftMicros(ttftMicros)
                    .costNanoUsd(costNanoUsd)
                    .build());
        } catch (RuntimeException ex) {
            log.log(System.Logger.Level.WARNING, "strategy '" + plan.strategy() + "' failed in observe()", ex);
        }
    }
}
