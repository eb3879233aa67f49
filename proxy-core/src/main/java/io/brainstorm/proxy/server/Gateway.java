package io.brainstorm.proxy.server;

import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.api.ModelList;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.InMemoryAnswerLog;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.relay.Settlement;
import io.brainstorm.proxy.settle.Completions;
import io.brainstorm.proxy.settle.Scoring;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.upstream.UpstreamClient;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * What every request handler shares: configuration, the registry of tenants and keys, the router and its outcome recorder, the upstream client, and
 * the gateway's live flags (ready, draining, requests in flight).
 *
 * <p><b>Threading:</b> the parts are immutable or thread-safe; the flags are atomics.
 */
@SuppressWarnings("NullAway.Init") // the late-set parts are set during start-up, before ready(); issue 15 item 3
public final class Gateway {
    private final GatewayConfig config;
    private final Registry registry;
    private volatile Router router;
    private volatile ModelList models;
    private volatile OutcomeRecorder outcomes;
    private volatile Admission admission;
    /**
     * Answered requests for {@code /v1/feedback}: the state store's day files (a week, shared with
     * the other gateway processes on the state directory, off the heap), set with {@link #answers(AnswerLog)};
     * until then, and for a gateway built without a store, the last 10,000 on the heap.
     */
    private volatile AnswerLog answers = new InMemoryAnswerLog();
    private final UpstreamClient upstream;
    /** Where every ended request goes: audit trail, metrics, the dashboard's live feed. */
    private final Completions completions = new Completions();
    /** Scores structured answers on threads of its own (made with the routes); closed by the server. */
    private volatile Scoring scoring;
    private volatile Settlement settlement;
    /** The audit trail's writer, or null when {@code audit.enabled} is false (or while starting). */
    private volatile AuditLog audit;
    /** What {@code GET /metrics} on the admin listener serves; null until {@link #metrics(Metrics)}. */
    private volatile Metrics metrics;
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();

    /** @param router the routes, or null until {@link #routes(Router)} provides them */
    public Gateway(GatewayConfig config, Registry registry, @Nullable Router router, @Nullable UpstreamClient upstream) {
        this.config = config;
        this.registry = registry;
        this.upstream = upstream;
        if (router != null) {
            routes(router);
        }
    }

    /**
     * Makes API calls admissible: budgets and rate limits from here on. Set before {@link #routes},
     * which makes them routable.
     */
    public void admission(Admission admission) {
        this.admission = admission;
    }

    /** Where answered requests are remembered for feedback: the state store's log. Set before {@link #routes}. */
    public void answers(AnswerLog answers) {
        this.answers = answers;
    }

    /** Which endpoint answered which request, for feedback. */
    public AnswerLog answers() {
        return answers;
    }

    /** Budgets and rate limits; null while the gateway is starting. */
    public Admission admission() {
        return admission;
    }

    /** Makes API calls routable. Until then they are answered 503 (the listener is up already). */
    public void routes(Router router) {
        this.models = new ModelList(router);
        this.outcomes = new OutcomeRecorder(router.state(), answers);
        if (scoring == null) {
            scoring = Scoring.start(config.scoring());
        }
        this.settlement = new Settlement(outcomes, scoring, completions, config.routing().maxAttempts(),
                config.audit().enabled() && config.audit().recordContent());
        this.router = router;
    }

    public GatewayConfig config() {
        return config;
    }

    /** Tenants, gateway keys and provider keys. */
    public Registry registry() {
        return registry;
    }

    /** The routes, or null while the gateway is starting. */
    public Router router() {
        return router;
    }

    /** Where attempts' ends go (breakers, latency, learning); null while the gateway is starting. */
    public OutcomeRecorder outcomes() {
        return outcomes;
    }

    public ModelList models() {
        return models;
    }

    /** What every exchange reports to; null while the gateway is starting. */
    public Settlement settlement() {
        return settlement;
    }

    /** The answer scorer and its threads; null until {@link #routes}. */
    public Scoring scoring() {
        return scoring;
    }

    /** The audit trail (its head, counters and folder), or null when it is disabled or the gateway is starting. */
    public AuditLog audit() {
        return audit;
    }

    /** Set once at start; the caller also adds it to {@link #completions()}. */
    public void audit(AuditLog audit) {
        this.audit = audit;
    }

    /** The fan-out of ended requests; sinks register here. */
    public Completions completions() {
        return completions;
    }

    /** Sets the Prometheus metrics the admin listener serves (a sink of {@link #completions()} too). */
    public void metrics(Metrics metrics) {
        this.metrics = metrics;
    }

    /** The Prometheus metrics, or null when none were set (a gateway built by a test). */
    public Metrics metrics() {
        return metrics;
    }

    public UpstreamClient upstream() {
        return upstream;
    }

    public boolean ready() {
        return ready.get();
    }

    public void markReady() {
        ready.set(true);
    }

    public boolean draining() {
        return draining.get();
    }

    void startDraining() {
        draining.set(true);
        ready.set(false);
    }

    /** Requests being served right now. */
    public int inFlight() {
        return inFlight.get();
    }

    void requestStarted() {
        inFlight.incrementAndGet();
    }

    void requestEnded() {
        inFlight.decrementAndGet();
    }
}
