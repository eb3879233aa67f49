package io.brainstorm.proxy.server;

import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.settle.Completions;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.upstream.UpstreamClient;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * What every request handler shares: configuration, the registry of tenants and keys, the upstream
 * client, the fan-out of ended requests, the {@link Services} once start-up has built them, and the
 * gateway's live flags (ready, draining, requests in flight).
 *
 * <p><b>Starting.</b> The listeners open before the state store and the routes exist, so that
 * {@code /healthz} answers at once. Until {@link #start(Services)} publishes the services,
 * {@link #services()} is null and API calls are answered 503; they appear all at once, never in part.
 *
 * <p><b>Threading:</b> the parts are immutable or thread-safe; the services are published through
 * one volatile field; the flags are atomics.
 */
public final class Gateway {
    private final GatewayConfig config;
    private final Registry registry;
    private final UpstreamClient upstream;
    /** Where every ended request goes: audit trail, metrics, the dashboard's live feed. */
    private final Completions completions = new Completions();
    /** What {@code GET /metrics} on the admin listener serves (a sink of {@link #completions}), or null. */
    private final @Nullable Metrics metrics;
    /** With {@code state_store: redis}, once start-up opened it: for the state read-out. */
    private volatile io.brainstorm.proxy.state.redis.@Nullable RedisState redis;

    /** Null while the gateway is starting; set once by {@link #start(Services)}. */
    private volatile @Nullable Services services;

    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();

    /** A starting gateway without metrics (tests build these). */
    public Gateway(GatewayConfig config, Registry registry, UpstreamClient upstream) {
        this(config, registry, upstream, false);
    }

    private Gateway(GatewayConfig config, Registry registry, UpstreamClient upstream, boolean withMetrics) {
        this.config = config;
        this.registry = registry;
        this.upstream = upstream;
        // Metrics reads only the configuration here, set above; the rest at each scrape
        this.metrics = withMetrics ? new Metrics(this) : null;
        if (metrics != null) {
            completions.add(metrics);
        }
    }

    /** A starting gateway whose Prometheus metrics ({@link #metrics()}) count every ended request. */
    public static Gateway withMetrics(GatewayConfig config, Registry registry, UpstreamClient upstream) {
        return new Gateway(config, registry, upstream, true);
    }

    /**
     * Publishes the services start-up has built: from here on API calls are routed.
     *
     * @throws IllegalStateException when they were published before
     */
    public synchronized void start(Services services) {
        Objects.requireNonNull(services, "services");
        if (this.services != null) {
            throw new IllegalStateException("services: already published (expected: once, when start-up finishes)");
        }
        this.services = services;
    }

    /** Sets the Redis state start-up opened ({@code state_store: redis}). */
    void redis(io.brainstorm.proxy.state.redis.RedisState r) {
        this.redis = r;
    }

    /** The Redis state ({@code state_store: redis}), or null with another store or while starting. */
    public io.brainstorm.proxy.state.redis.@Nullable RedisState redis() {
        return redis;
    }

    /** The routes, budgets, scorer and the rest, or null while the gateway is starting. */
    public @Nullable Services services() {
        return services;
    }

    /** The routes, or null while the gateway is starting. */
    public @Nullable Router router() {
        Services s = services;
        return s == null ? null : s.router();
    }

    /** Budgets and rate limits; null while the gateway is starting. */
    public @Nullable Admission admission() {
        Services s = services;
        return s == null ? null : s.admission();
    }

    /** The audit trail (its head, counters and folder), or null when it is disabled or the gateway is starting. */
    public @Nullable AuditLog audit() {
        Services s = services;
        return s == null ? null : s.audit();
    }

    public GatewayConfig config() {
        return config;
    }

    /** Tenants, gateway keys and provider keys. */
    public Registry registry() {
        return registry;
    }

    /** The fan-out of ended requests; sinks register here. */
    public Completions completions() {
        return completions;
    }

    /** The Prometheus metrics, or null for a gateway built without them (by a test). */
    public @Nullable Metrics metrics() {
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
