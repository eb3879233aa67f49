package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.route.RoutingState;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The attempt loop of an {@link Exchange}: which endpoint of the plan is tried next, the breaker
 * permit it holds, why the ones before it failed, and each attempt's end for the
 * {@link OutcomeRecorder}, given exactly once.
 *
 * <p><b>Choosing.</b> {@link #next} goes down the plan; at most {@code maxAttempts} endpoints are
 * tried within the request's total timeout. An endpoint whose circuit is open (or whose half-open
 * probes are out), or where the provider turned the tenant's key away, is skipped without
 * counting, as is one where the key is cooling down under a 429's {@code Retry-After}. When that
 * leaves nothing tried, the skipped endpoint whose circuit opens soonest is tried anyway, without
 * a breaker permit (panic mode, docs/architecture.md §7); when every one is cooling down, {@link #exhausted}
 * answers 503 {@code no_healthy_endpoint}.
 *
 * <p><b>Ownership.</b> While an attempt's outcome is owed ({@code permitHeld}), exactly one of
 * {@link #answered}, {@link #answering}, {@link #failed}, {@link #recordFailure} or
 * {@link #abandon} gives it; a breaker permit gets its verdict at the response head
 * ({@link #responded}) or with the attempt's end. Later calls do nothing.
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class Attempts {
    private static final System.Logger log = System.getLogger(Attempts.class.getName());

    private final RoutePlan route;
    private final OutcomeRecorder outcomes;
    private final Timeline timeline;
    private final int maxAttempts;
    private final String requestId;
    private final List<String> failures = new ArrayList<>(2);
    /** Endpoints passed over because their circuit, or a 401/403 of the key, would not let an attempt through. */
    private final List<Endpoint> skipped = new ArrayList<>(0);
    /** Endpoints passed over because the key is cooling down there under a 429's {@code Retry-After}. */
    private final List<Endpoint> cooling = new ArrayList<>(0);

    /** Position in the plan of the endpoint being tried. */
    private int index;
    /** Endpoints actually tried (skipped ones not counted). */
    private int tried;
    /** The current attempt's outcome is still owed. */
    private boolean permitHeld;
    /** The current attempt holds a breaker permit whose verdict (due at the response head) is still owed. */
    private boolean breakerPermit;
    /** The one attempt without a breaker permit was made (panic mode). */
    private boolean panicked;
    /** The current endpoint's stale pooled connection was retried on a new one. */
    private boolean retriedStale;

    private boolean lastFailureTimeout;
    /** How many endpoints could not take the request in their format ({@link #unsuited}). */
    private int unsuited;
    /** Why the first unsuited endpoint could not take it, or null. */
    private @Nullable ApiError unsuitedError;
    /** The last failed attempt answered 2xx with something unusable: the provider had the prompt. */
    private boolean lastFailureInvalid;

    private @Nullable Endpoint endpoint;
    /** The provider key of the current attempt's endpoint (a secret: never logged). */
    private @Nullable String upstreamKey;
    /** The endpoint whose response the client got (its answer, or its 4xx), or null. */
    private @Nullable Endpoint answeredBy;

    Attempts(RoutePlan route, OutcomeRecorder outcomes, Timeline timeline, int maxAttempts, String requestId) {
        this.route = route;
        this.outcomes = outcomes;
        this.timeline = timeline;
        this.maxAttempts = maxAttempts;
        this.requestId = requestId;
    }

    /**
     * Picks the endpoint of the next attempt: the current one again while its outcome is owed (the
     * retry on a new connection), else the next in the plan that lets an attempt through.
     *
     * @return false when none is left: the request fails ({@link #exhausted})
     */
    boolean next(Deadline deadline) {
        if (permitHeld) {
            return true;
        }
        while (true) {
            if (index >= route.endpoints().size() || tried >= maxAttempts || deadline.totalPassed()) {
                if (tried == 0 && !panicked && !skipped.isEmpty() && !deadline.totalPassed() && panic()) {
                    break;
                }
                return false;
            }
            Endpoint next = route.endpoints().get(index);
            String key = route.access().upstreamKey(next);
            if (key == null) {
                // the tenant's provider key was deleted since routing: not the endpoint's fault
                index++;
                continue;
            }
            RoutingState.Reach reach = outcomes.begin(next, key);
            if (reach == RoutingState.Reach.USABLE) {
                endpoint = next;
                upstreamKey = key;
                breakerPermit = true;
                retriedStale = false;
                break;
            }
            (reach == RoutingState.Reach.COOLING ? cooling : skipped).add(next);
            index++;
        }
        permitHeld = true;
        tried++;
        return true;
    }

    /**
     * Panic mode (docs/architecture.md §7): every endpoint of the plan is open for this key, none cooling down
     * under a {@code Retry-After} alone; the one that opens soonest is tried without a permit
     * rather than refusing the request.
     */
    private boolean panic() {
        panicked = true;
        long now = outcomes.nowMillis();
        long best = Long.MAX_VALUE;
        for (Endpoint e : skipped) {
            String key = route.access().upstreamKey(e);
            long wait = key == null ? Long.MAX_VALUE : outcomes.millisUntilRetry(e, key, now);
            if (key != null && (endpoint == null || wait < best)) {
                endpoint = e;
                upstreamKey = key;
                best = wait;
            }
        }
        if (endpoint == null) {
            return false;
        }
        breakerPermit = false;
        log.log(
                Level.INFO,
                "request {0}: every endpoint is open; trying {1} (opens in {2} ms)",
                requestId,
                endpoint.candidateId(),
                best);
        return true;
    }

    /** The endpoint being tried; call from the first attempt on. */
    Endpoint endpoint() {
        return Objects.requireNonNull(endpoint, "no endpoint before the first attempt");
    }

    /** The endpoint being tried, or null before the first attempt. */
    @Nullable
    Endpoint endpointIfAny() {
        return endpoint;
    }

    /** The provider key sent to the current endpoint (a secret: never logged). */
    String upstreamKey() {
        return Objects.requireNonNull(upstreamKey, "no provider key before the first attempt");
    }

    /** The current endpoint's response goes to the client: no failover from here on. */
    void relaying() {
        answeredBy = endpoint;
    }

    /** The endpoint whose response the client got, or null. */
    @Nullable
    Endpoint answeredBy() {
        return answeredBy;
    }

    /** How many attempts failed over ({@code X-BR-Fallbacks}). */
    int fallbacks() {
        return failures.size();
    }

    /** Whether the current attempt's connection is the new one taken after a stale pooled one. */
    boolean retriedStale() {
        return retriedStale;
    }

    /**
     * The current attempt failed before anything reached the client: a stale kept-alive connection
     * is retried once on a new one with the same permit (no failover, no verdict); else the failure
     * is the endpoint's (or the key's), and the next attempt goes on down the plan.
     *
     * @param stale            the attempt's connection was a kept-alive one found stale
     * @param invalid          a 2xx answer that is not what it claims ({@link AnswerCheck})
     * @param status           the upstream's status, or 0 when it gave none
     * @param retryAfterMillis a 429's {@code Retry-After}, or -1
     */
    void failed(String reason, boolean stale, boolean timeout, boolean invalid, int status, long retryAfterMillis) {
        if (stale && !retriedStale) {
            log.log(
                    Level.DEBUG,
                    "request {0}: kept-alive connection to {1} was stale ({2}); retrying on a new one",
                    requestId,
                    endpoint().candidateId(),
                    reason);
            retriedStale = true;
            return;
        }
        failures.add(endpoint().id()
                + (route.endpoints().size() > 1 && crossesModels()
                        ? " (" + endpoint().model().id() + ")"
                        : "") + ": " + reason);
        lastFailureTimeout = timeout;
        lastFailureInvalid = invalid;
        log.log(
                Level.INFO,
                "request {0}: {1} failed: {2}",
                requestId,
                endpoint().candidateId(),
                reason);
        if (status == 429 || status == 401 || status == 403) {
            // the provider turned this tenant's key away: the key's, not the endpoint's, nor the model's
            permitHeld = false;
            if (status == 429) {
                outcomes.rateLimited(
                        route, endpoint(), upstreamKey(), retryAfterMillis, timeline.attemptMicros(), breakerPermit);
            } else {
                outcomes.rejected(route, endpoint(), upstreamKey(), status, timeline.attemptMicros(), breakerPermit);
            }
            breakerPermit = false;
        } else {
            recordFailure(status);
        }
        index++;
    }

    /**
     * The request cannot be put in the current endpoint's format ({@code n: 2} for Anthropic, …):
     * nothing was sent, so the endpoint gets no verdict and the attempt does not count; the next
     * one goes on down the plan. When every endpoint was unsuited, {@code why} is the client's answer.
     */
    void unsuited(ApiError why) {
        log.log(
                Level.DEBUG,
                "request {0}: {1} cannot take it: {2}",
                requestId,
                endpoint().candidateId(),
                why.getMessage());
        failures.add(endpoint().id() + ": " + why.getMessage());
        unsuited++;
        if (unsuitedError == null) {
            unsuitedError = why;
        }
        abandon();
        tried--;
        index++;
    }

    /** Whether the last failed attempt answered 2xx with something unusable: the provider had the prompt. */
    boolean lastFailureInvalid() {
        return lastFailureInvalid;
    }

    /** Why no attempt is left: the error the client gets. */
    ApiError exhausted() {
        if (failures.isEmpty() && (!cooling.isEmpty() || !skipped.isEmpty())) {
            // every endpoint is cooling down under the provider's Retry-After for this key (or the deadline passed)
            long now = outcomes.nowMillis();
            long wait = Long.MAX_VALUE;
            for (List<Endpoint> list : List.of(cooling, skipped)) {
                for (Endpoint e : list) {
                    String key = route.access().upstreamKey(e);
                    if (key != null) {
                        wait = Math.min(wait, outcomes.millisUntilRetry(e, key, now));
                    }
                }
            }
            long seconds = Math.max(1, (Math.min(wait, Long.MAX_VALUE - 999) + 999) / 1000);
            return ApiError.noHealthyEndpoint(
                    "Every endpoint of '" + route.request().model() + "' is cooling down:"
                            + " the provider asked to wait before it takes more requests with this tenant's provider key;"
                            + " retry in " + seconds + " s.",
                    seconds);
        }
        ApiError unsuited = unsuitedError;
        if (unsuited != null && this.unsuited == failures.size()) {
            // no endpoint could take the request as it is: the client's to change
            return unsuited;
        }
        String tried = String.join("; ", failures);
        String message =
                (failures.size() == 1 ? "The provider failed: " : "All " + failures.size() + " endpoints failed: ")
                        + tried + ".";
        if (lastFailureInvalid) {
            return ApiError.upstreamInvalidResponse(message);
        }
        return lastFailureTimeout ? ApiError.upstreamTimeout(message) : ApiError.upstream(message);
    }

    /** A response head that is not a failure arrived: the breaker permit's verdict, a success. */
    void responded() {
        if (breakerPermit) {
            // the breaker's verdict is the head's: a probe does not hold the circuit half-open to the answer's end
            breakerPermit = false;
            outcomes.responded(endpoint());
        }
    }

    /** The endpoint answered with a known verdict. */
    void answered(int status, double score, long costNano) {
        if (permitHeld) {
            permitHeld = false;
            outcomes.answered(
                    route, endpoint(), status, score, timeline.attemptMicros(), timeline.ttftMicros(), costNano);
        }
    }

    /** The endpoint answered and its score will follow ({@link #scored}): the latency windows learn now. */
    void answering() {
        if (permitHeld) {
            permitHeld = false;
            timeline.attemptEnded();
            outcomes.answering(route, endpoint(), timeline.attemptMicrosToEnd(), timeline.ttftMicros());
        }
    }

    /** The score of an answer given with {@link #answering}. */
    void scored(int status, double score, long latencyMicros, long ttftMicros, long costNano) {
        outcomes.scored(route, endpoint(), status, score, latencyMicros, ttftMicros, costNano);
    }

    /**
     * The endpoint failed (before the head, or a stream that broke after it): its verdict, once,
     * the breaker's too unless the head had it.
     *
     * @param status the upstream's status, or 0 when it gave none
     */
    void recordFailure(int status) {
        if (permitHeld) {
            permitHeld = false;
            outcomes.failed(route, endpoint(), status, timeline.attemptMicros(), breakerPermit);
            breakerPermit = false;
        }
    }

    /** No verdict (the client left, or the gateway failed): a breaker permit not yet judged goes back. */
    void abandon() {
        if (permitHeld) {
            permitHeld = false;
            if (breakerPermit) {
                outcomes.abandoned(endpoint());
            }
            breakerPermit = false;
        }
    }

    private boolean crossesModels() {
        String first = route.first().model().id();
        for (Endpoint e : route.endpoints()) {
            if (!e.model().id().equals(first)) {
                return true;
            }
        }
        return false;
    }
}
