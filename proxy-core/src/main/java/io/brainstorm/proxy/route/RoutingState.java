package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.spi.EndpointStats;
import io.brainstorm.proxy.spi.TaskClass;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * What routing reads and settling writes: the {@link EndpointHealth} of every candidate and the
 * {@link Learning} of answer quality, on one injected clock so tests move time instead of
 * sleeping. The router asks {@link #stats} per candidate to build the strategy's snapshot; the
 * upstream side records outcomes on {@link #health}; the scorer observes quality on
 * {@link #learning}.
 *
 * <p><b>Threading:</b> thread-safe; {@link #health} creates a candidate's entry on first use and
 * afterwards is one map lookup.
 */
public final class RoutingState {
    private final HealthConfig config;
    private final Learning learning;
    private final InstantSource clock;
    private final ConcurrentHashMap<String, EndpointHealth> health = new ConcurrentHashMap<>();

    public RoutingState(HealthConfig config, Learning learning, InstantSource clock) {
        if (config == null || learning == null || clock == null) {
            throw new IllegalArgumentException(
                    "config: " + config + ", learning: " + learning + ", clock: " + clock + " (expected: all set)");
        }
        this.config = config;
        this.learning = learning;
        this.clock = clock;
    }

    /** The health of {@code candidateId} ({@code model@endpoint}), created on first use. */
    public EndpointHealth health(String candidateId) {
        EndpointHealth h = health.get(candidateId);
        return h != null ? h : health.computeIfAbsent(candidateId, id -> new EndpointHealth(config));
    }

    /** Where a candidate stands for one caller's provider key (docs/architecture.md §7). */
    public enum Reach {
        /** Its circuit lets requests through and the provider has not turned the key away. */
        USABLE,
        /**
         * Open for this key: the endpoint's circuit is open, or the key got a 401/403 there. Tried
         * only after every usable candidate, soonest-ending first, and without a breaker permit
         * when nothing else is left (panic mode).
         */
        LAST_RESORT,
        /** The key is cooling down there under the provider's own {@code Retry-After} (429): not tried. */
        COOLING
    }

    /**
     * Where {@code candidateId} stands at {@code nowMillis} for requests sent with
     * {@code providerKey}: the shared breaker, and the key's own holds. Never locks while no key
     * is held on the endpoint.
     */
    public Reach reach(String candidateId, String providerKey, long nowMillis) {
        return reach(health(candidateId), providerKey, null, null, nowMillis);
    }

    /**
     * {@link #reach(String, String, long)} for {@code endpoint} ({@code candidateId}) as
     * {@code access} sends to it; the provider key is looked up only when the endpoint holds some key.
     */
    public Reach reach(String candidateId, Endpoint endpoint, Access access, long nowMillis) {
        return reach(health(candidateId), null, access, endpoint, nowMillis);
    }

    private static Reach reach(
            EndpointHealth h,
            @Nullable String providerKey,
            @Nullable Access access,
            @Nullable Endpoint endpoint,
            long nowMillis) {
        if (!h.credentials().isEmpty()) {
            // the public reach() passes both access and endpoint, or neither
            String key = access != null && endpoint != null ? access.upstreamKey(endpoint) : providerKey;
            CredentialHolds.Hold hold = h.credentials().hold(CredentialHolds.fingerprint(key), nowMillis);
            if (hold != null) {
                return hold.kind() == CredentialHolds.Kind.RATE_LIMITED ? Reach.COOLING : Reach.LAST_RESORT;
            }
        }
        return h.breaker().state(nowMillis) == CircuitState.OPEN ? Reach.LAST_RESORT : Reach.USABLE;
    }

    /** How long until {@code candidateId} is {@link Reach#USABLE} again for {@code providerKey}, as far as known now (0: it is). */
    public long millisUntilRetry(String candidateId, @Nullable String providerKey, long nowMillis) {
        EndpointHealth h = health(candidateId);
        long wait = h.breaker().millisUntilRetry(nowMillis);
        if (!h.credentials().isEmpty()) {
            CredentialHolds.Hold hold = h.credentials().hold(CredentialHolds.fingerprint(providerKey), nowMillis);
            if (hold != null) {
                wait = Math.max(wait, hold.untilMillis() - nowMillis);
            }
        }
        return wait;
    }

    /**
     * The snapshot a strategy sees for {@code candidateId} on a request of {@code tenant}'s of
     * {@code taskClass}, now; {@code probeDraw} (uniform in [0, 1), one per request and candidate)
     * decides whether a dropped candidate is re-explored on it ({@link Learning#posterior}).
     */
    public EndpointStats stats(String candidateId, String tenant, TaskClass taskClass, double probeDraw) {
        return health(candidateId).stats(nowMillis(), learning.posterior(tenant, candidateId, taskClass, probeDraw));
    }

    public Learning learning() {
        return learning;
    }

    public HealthConfig config() {
        return config;
    }

    /** The clock's time in epoch milliseconds: the time every breaker and window here is given. */
    public long nowMillis() {
        return clock.millis();
    }

    /**
     * Every candidate with health or learnt quality, sorted by id. Candidates known only to the
     * learning store (after a restart) read as healthy with no traffic; none is created by reading.
     */
    public List<EndpointReadOut> readOut() {
        long now = nowMillis();
        Map<String, Map<String, Belief>> quality = learning.shared();
        TreeSet<String> ids = new TreeSet<>(health.keySet());
        ids.addAll(quality.keySet());
        List<EndpointReadOut> out = new ArrayList<>(ids.size());
        for (String id : ids) {
            EndpointHealth h = health.get(id);
            EndpointHealth shown = h != null ? h : new EndpointHealth(config);
            EndpointStats s = shown.stats(now, Posterior.PRIOR);
            out.add(new EndpointReadOut(
                    id,
                    shown.breaker().snapshot(now),
                    shown.credentials().snapshot(now),
                    s.requests(),
                    s.errorRate(),
                    s.latency(),
                    s.ttft(),
                    quality.getOrDefault(id, Map.of())));
        }
        return out;
    }
}
