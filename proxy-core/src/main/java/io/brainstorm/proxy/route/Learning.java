package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routing's learning (docs/routing.md): per candidate and task class, a shared belief and each
 * tenant's own, each with a change detector, over one {@link LearningStore}.
 *
 * <ul>
 *   <li><b>The shared belief</b> (key: the candidate id) learns from the gateway's own scoring of
 *       every tenant's answers ({@link #answered}), never from {@code /v1/feedback}. Each tenant's
 *       automatic outcomes count in it as at most {@link LearningSettings#tenantCap} answers: past
 *       the cap, its contribution is rescaled to the cap after each answer, so its recent answers
 *       weigh most and its total stays put.</li>
 *   <li><b>A tenant's belief</b> ({@link #tenantKey}) learns from that tenant's scored answers and
 *       its feedback ({@link #feedback}), weighted {@link LearningSettings#feedbackWeight}.</li>
 *   <li><b>What routing sees</b> for a tenant ({@link #posterior}): the uniform prior, plus the
 *       shared evidence less the tenant's own contribution, scaled down to at most
 *       {@link LearningSettings#sharedWeight} answers, plus the tenant's own (only its own while
 *       its own belief is dropped). A new tenant starts from what the gateway has seen everywhere;
 *       its own answers soon outweigh it; its feedback moves only its own routing.</li>
 *   <li><b>Change detection</b> ({@link ChangeDetector}) runs on every belief. When it fires the
 *       belief restarts from its recent answers, which came after the change; a belief dropped
 *       that way keeps at most
 *       {@code minEvidence} answers of weight, and on {@link LearningSettings#reexplore} of the
 *       requests it is offered to the strategy as unknown ({@link #posterior} with a probe draw),
 *       so a recovery is noticed. Every firing is logged, counted ({@link #resets}) and kept among
 *       the {@value #EVENTS_KEPT} latest ({@link #events}).</li>
 * </ul>
 *
 * <p><b>Threading:</b> thread-safe; {@link #posterior} runs on event loops and never blocks.
 * Firings are reported by the store's writer (the state store's flush thread, or the observing
 * thread for the heap store).
 */
public final class Learning {
    private static final System.Logger log = System.getLogger(Learning.class.getName());

    /** Firings kept for the dashboard and the admin API. */
    public static final int EVENTS_KEPT = 200;

    private final LearningStore store;
    private final LearningSettings settings;
    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final LongAdder[] resets = new LongAdder[4];
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, String>> ownKeys = new ConcurrentHashMap<>();

    /**
     * A firing of a belief's change detector.
     *
     * @param candidateId {@code model@endpoint}
     * @param tenant      the tenant whose belief it was, or null for the shared belief
     * @param taskClass   the task class key
     * @param reset       which way, and the means before and after
     * @param atMillis    when
     */
    public record Event(
            String candidateId,
            @org.jspecify.annotations.Nullable String tenant,
            String taskClass,
            Belief.Reset reset,
            long atMillis) {}

    public Learning(LearningStore store, LearningSettings settings) {
        this.store = store;
        this.settings = settings;
        for (int i = 0; i < resets.length; i++) {
            resets[i] = new LongAdder();
        }
        store.onReset(this::fired);
    }

    public LearningSettings settings() {
        return settings;
    }

    public LearningStore store() {
        return store;
    }

    /** Learning on the heap ({@link InMemoryLearningStore}), for routers made without a state store. */
    public static Learning onHeap(LearningSettings settings) {
        return new Learning(new InMemoryLearningStore(settings), settings);
    }

    /** The store key of {@code tenant}'s belief about {@code candidateId} (tenant ids have no {@code |}). */
    public static String tenantKey(String tenant, String candidateId) {
        return "~" + tenant + "|" + candidateId;
    }

    /** The tenant of a key {@link #tenantKey} made, or null for a shared belief's key (a candidate id). */
    private static @org.jspecify.annotations.Nullable String tenantOf(String key) {
        int bar = key.indexOf('|');
        return key.startsWith("~") && bar > 0 ? key.substring(1, bar) : null;
    }

    /** The candidate id of any store key. */
    private static String candidateOf(String key) {
        return tenantOf(key) == null ? key : key.substring(key.indexOf('|') + 1);
    }

    /** {@link #tenantKey}, made once per tenant and candidate: routing asks for it per candidate per request. */
    private String ownKey(String tenant, String candidateId) {
        ConcurrentHashMap<String, String> byCandidate = ownKeys.get(tenant);
        if (byCandidate == null) {
            byCandidate = ownKeys.computeIfAbsent(tenant, t -> new ConcurrentHashMap<>());
        }
        String key = byCandidate.get(candidateId);
        return key != null ? key : byCandidate.computeIfAbsent(candidateId, c -> tenantKey(tenant, c));
    }

    /** What routing sees for {@code tenant}: see the class doc. No probe. */
    public Posterior posterior(String tenant, String candidateId, TaskClass taskClass) {
        return posterior(tenant, candidateId, taskClass, 1);
    }

    /**
     * What routing sees for {@code tenant} on one request: the uniform prior when the candidate is
     * dropped and {@code probeDraw} (uniform in [0, 1), one per request and candidate) falls under
     * {@link LearningSettings#reexplore}; else the combined belief of the class doc.
     */
    public Posterior posterior(String tenant, String candidateId, TaskClass taskClass, double probeDraw) {
        Belief shared = store.belief(candidateId, taskClass);
        Belief own = store.belief(ownKey(tenant, candidateId), taskClass);
        if (probeDraw < settings.reexplore() && dropped(shared, own)) {
            return Posterior.PRIOR;
        }
        return combine(shared, own);
    }

    /**
     * The tenant's view of one class: the prior, plus the shared evidence less the tenant's own
     * contribution to it (so its answers are not counted twice) scaled to at most sharedWeight
     * answers, plus the tenant's own evidence; only the tenant's own while its own belief is dropped.
     */
    Posterior combine(Belief shared, Belief own) {
        if (own.dropped()) {
            // the tenant's own answers changed: what others saw (or it saw before) says nothing now
            return own.posterior();
        }
        boolean current = own.contribEpoch() == shared.resets();
        double good = Math.max(0, shared.alpha() - 1 - (current ? own.contribGood() : 0));
        double bad = Math.max(0, shared.beta() - 1 - (current ? own.contribBad() : 0));
        double f = good + bad > settings.sharedWeight() ? settings.sharedWeight() / (good + bad) : 1;
        return new Posterior(1 + f * good + (own.alpha() - 1), 1 + f * bad + (own.beta() - 1), own.observations());
    }

    /** Dropped for this tenant: by its own belief, or by the shared one while the tenant knows too little of it. */
    private boolean dropped(Belief shared, Belief own) {
        return own.dropped() || (shared.dropped() && own.evidence() < settings.sharedWeight());
    }

    /**
     * The gateway's own verdict on an answer {@code tenant} got from {@code candidateId} (the
     * scorer's score, or 0 for an error): into the tenant's belief and, within the tenant's cap,
     * into the shared one.
     */
    public void answered(String tenant, String candidateId, TaskClass taskClass, double score, long nowMillis) {
        String ownKey = ownKey(tenant, candidateId);
        Belief shared = store.belief(candidateId, taskClass);
        Belief own = store.belief(ownKey, taskClass);
        boolean current = own.contribEpoch() == shared.resets();
        double cg = current ? own.contribGood() : 0;
        double cb = current ? own.contribBad() : 0;
        double ng = cg + score;
        double nb = cb + (1 - score);
        double total = ng + nb;
        if (total > settings.tenantCap()) {
            ng *= settings.tenantCap() / total;
            nb *= settings.tenantCap() / total;
        }
        store.observe(
                ownKey,
                taskClass,
                new Observation(score, 1, score, 1 - score, new double[] {ng, nb}, shared.resets(), nowMillis));
        store.observe(candidateId, taskClass, new Observation(score, 1, ng - cg, nb - cb, null, 0, nowMillis));
    }

    /** {@code tenant}'s own verdict ({@code /v1/feedback}): into its belief only, weighted feedbackWeight. */
    public void feedback(String tenant, String candidateId, TaskClass taskClass, double score, long nowMillis) {
        store.observe(
                ownKey(tenant, candidateId), taskClass, Observation.of(score, settings.feedbackWeight(), nowMillis));
    }

    /** The shared beliefs: candidate id → task class key → belief. */
    public Map<String, Map<String, Belief>> shared() {
        Map<String, Map<String, Belief>> out = new TreeMap<>();
        store.snapshot().forEach((key, byClass) -> {
            if (!key.startsWith("~")) {
                out.put(key, byClass);
            }
        });
        return out;
    }

    /** Every tenant's beliefs: tenant → candidate id → task class key → belief. */
    public Map<String, Map<String, Map<String, Belief>>> tenants() {
        Map<String, Map<String, Map<String, Belief>>> out = new TreeMap<>();
        store.snapshot().forEach((key, byClass) -> {
            String tenant = tenantOf(key);
            if (tenant != null) {
                out.computeIfAbsent(tenant, t -> new TreeMap<>()).put(candidateOf(key), byClass);
            }
        });
        return out;
    }

    /** Firings so far, by scope ({@code shared} or {@code tenant}) and direction. */
    public long resets(boolean tenant, Belief.Direction direction) {
        return resets[(tenant ? 2 : 0) + direction.ordinal()].sum();
    }

    /** The latest firings, newest last (at most {@value #EVENTS_KEPT}). */
    public List<Event> events() {
        synchronized (events) {
            return new ArrayList<>(events);
        }
    }

    private void fired(String key, TaskClass taskClass, Belief.Reset reset, long nowMillis) {
        String tenant = tenantOf(key);
        String candidate = candidateOf(key);
        resets[(tenant != null ? 2 : 0) + reset.direction().ordinal()].increment();
        synchronized (events) {
            if (events.size() == EVENTS_KEPT) {
                events.removeFirst();
            }
            events.addLast(new Event(candidate, tenant, taskClass.key(), reset, nowMillis));
        }
        log.log(
                Level.INFO,
                String.format(
                        Locale.ROOT,
                        "learning: %s %s for %s, class %s: quality %.2f -> %.2f in its recent answers (%.0f answers'"
                                + " worth); its belief restarts from them%s",
                        candidate,
                        reset.direction() == Belief.Direction.DOWN ? "dropped" : "recovered",
                        tenant == null ? "all tenants (shared belief)" : "tenant " + tenant,
                        taskClass.key(),
                        reset.meanBefore(),
                        reset.meanAfter(),
                        reset.evidence(),
                        reset.direction() == Belief.Direction.DOWN
                                ? " (re-explored on " + Math.round(settings.reexplore() * 1000) / 10.0
                                        + " % of requests)"
                                : ""));
    }
}
