package io.brainstorm.proxy.route;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.spi.Candidate;
import io.brainstorm.proxy.spi.RouteDecision;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.RoutingStrategy;
import io.brainstorm.proxy.spi.TaskClass;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns a requested model name into an ordered list of endpoints (docs/architecture.md §3, §5).
 *
 * <p><b>Names.</b> {@code provider/model} or a bare name resolved through catalog aliases
 * ({@code gpt-4o} → {@code openai/gpt-4o}), optionally with a variant suffix that names a strategy
 * ({@code :floor}, {@code :fast}, {@code :best}, {@code :smart}, a plugin's name; OpenRouter's
 * {@code :nitro} means {@code :fast}); {@code auto} lets the {@code auto} strategy choose model and
 * endpoint. Without a variant the model's endpoints are tried in configured order
 * ({@code direct}), unless OpenRouter's {@code provider.sort} asks for price or speed.
 *
 * <p><b>Eligibility.</b> A strategy sees only endpoints it may use: the model has what the request
 * needs (tools, JSON, context), the calling key may use the model and its tenant holds a provider
 * key for the endpoint ({@link Access}), the endpoint is {@link RoutingState.Reach#USABLE} for that key
 * (its circuit is not open, and the provider has not turned the key away there), and
 * {@code provider.order} with {@code allow_fallbacks: false} keeps only the named accounts.
 * Endpoints open for the key are not offered to the strategy but go at the end of the plan,
 * soonest-opening first, for panic mode (docs/architecture.md §7). Only when the key is cooling down under the
 * provider's {@code Retry-After} on every endpoint is the answer 503 {@code no_healthy_endpoint}
 * with {@code Retry-After}.
 *
 * <p><b>Order.</b> The strategy's order, then endpoints named in {@code provider.order} moved to
 * the front in that order, then the endpoints of OpenRouter's {@code models} fallback list in
 * configured order.
 *
 * <p><b>Randomness.</b> Each decision draws from a generator seeded by the routing seed and the
 * request id, so a decision can be replayed from the two; {@link StrategyCall} calls the strategy.
 *
 * <p><b>Threading:</b> immutable after construction except for the shared {@link RoutingState};
 * called on event loops.
 */
public final class Router {
    /** Strategy name of a plain model name. */
    public static final String DIRECT = "direct";
    /** The model name (and strategy) that chooses the model too. */
    public static final String AUTO = "auto";

    private final Catalog catalog;
    private final Map<String, List<Slot>> slotsByModel;
    private final List<ModelSpec> routable;
    private final StrategyRegistry strategies;
    private final RoutingState state;
    private final long seed;
    /** Keeps the re-exploration draws apart from the strategy's, which start from the same seed. */
    private static final long PROBE_SALT = 0x5851F42D4C957F2DL;

    /** An endpoint with what routing reads of it on every request, computed once. */
    private record Slot(Endpoint endpoint, String candidateId) {}

    public Router(
            Catalog catalog, List<Endpoint> endpoints, StrategyRegistry strategies, RoutingState state, long seed) {
        this.catalog = catalog;
        this.strategies = strategies;
        this.state = state;
        this.seed = seed;
        Map<String, List<Slot>> byModel = new HashMap<>();
        for (Endpoint e : endpoints) {
            byModel.computeIfAbsent(e.model().id(), k -> new ArrayList<>()).add(new Slot(e, e.candidateId()));
        }
        byModel.replaceAll((k, v) -> List.copyOf(v));
        this.slotsByModel = Map.copyOf(byModel);
        List<ModelSpec> models = new ArrayList<>();
        for (ModelSpec m : catalog.models()) {
            if (slotsByModel.containsKey(m.id())) {
                models.add(m);
            }
        }
        this.routable = List.copyOf(models);
    }

    /** The models some endpoint can serve, in catalog order. */
    public List<ModelSpec> routableModels() {
        return routable;
    }

    public List<Endpoint> endpoints(String modelId) {
        return slotsByModel.getOrDefault(modelId, List.of()).stream()
                .map(Slot::endpoint)
                .toList();
    }

    /** Every strategy a variant suffix can name, sorted ({@code auto} excluded: it is a model name). */
    public List<String> variants() {
        return strategies.names().stream().filter(n -> !n.equals(AUTO)).sorted().toList();
    }

    public StrategyRegistry strategies() {
        return strategies;
    }

    public RoutingState state() {
        return state;
    }

    /**
     * Plans a request for a key that may reach only some models and endpoints.
     *
     * @param requested the model as the client wrote it
     * @param requestId the request's id (seeds the decision's random numbers)
     * @param access    what the calling key may use
     * @throws ApiError 404 {@code model_not_found} for an unknown model or variant, a model with no
     *                  endpoint, or one the tenant has no provider key for at any endpoint; 403
     *                  {@code model_not_allowed} for a model the key may not use; 400 when the
     *                  model lacks a capability the request needs; 503 {@code no_healthy_endpoint}
     *                  when the provider key is cooling down under a 429's {@code Retry-After} on
     *                  every endpoint
     */
    public RoutePlan route(String requested, RequestFeatures f, String requestId, Access access) {
        String tenant = access.tenant();
        String name = requested;
        @Nullable String variant = null;
        int colon = requested.lastIndexOf(':');
        if (colon > 0 && colon < requested.length() - 1) {
            name = requested.substring(0, colon);
            variant = requested.substring(colon + 1);
        }
        boolean auto = requested.equals(AUTO);
        String strategyName;
        List<Slot> pool;
        String modelAsked;
        if (auto) {
            strategyName = AUTO;
            modelAsked = AUTO;
            pool = autoPool(f, access);
        } else {
            if (name.equals(AUTO)) {
                throw ApiError.modelNotFound("The model 'auto' takes no variant: it chooses the model and the"
                        + " endpoint itself. Write 'auto', or a model with a variant such as 'sim/alpha:" + variant
                        + "'.");
            }
            ModelSpec model = catalog.find(name)
                    .orElseThrow(() -> ApiError.modelNotFound("The model '"
                            + requested + "' does not exist in the gateway's catalog. GET /v1/models lists the models"
                            + " this key can use."));
            strategyName = variant == null ? sortStrategy(f.provider()) : strategyFor(model.id(), variant);
            if (!access.allowsModel(model.id())) {
                throw ApiError.modelNotAllowed("This API key may not use the model '" + model.id() + "'. GET /v1/models"
                        + " lists the models it may use.");
            }
            List<Slot> slots = slotsByModel.get(model.id());
            if (slots == null) {
                throw ApiError.modelNotFound("The model '" + model.id() + "' has no endpoint: no provider account"
                        + " in the gateway's configuration serves provider '" + model.provider() + "'.");
            }
            pool = reachable(slots, access);
            if (pool.isEmpty()) {
                throw ApiError.modelNotFound("The model '" + model.id() + "' has no endpoint tenant '" + tenant
                        + "' can use: it has no provider key for "
                        + slots.stream()
                                .map(s -> "'" + s.endpoint().id() + "'")
                                .distinct()
                                .toList()
                        + ". An admin adds one with"
                        + " PUT /admin/v1/tenants/" + tenant + "/providers/<provider>.");
            }
            CapabilityCheck.check(model, f);
            modelAsked = model.id();
        }
        pool = preferProviders(pool, f.provider(), modelAsked);
        List<Slot> fallbacks = fallbackModels(f, modelAsked, access);

        long now = state.nowMillis();
        List<Slot> lastResort = new ArrayList<>(0);
        List<Slot> coolingDown = new ArrayList<>(0);
        pool = usable(pool, access, now, lastResort, coolingDown);
        List<Slot> usableFallbacks = usable(fallbacks, access, now, lastResort, coolingDown);
        TaskClass taskClass = TaskClass.of(f.tools(), f.json(), f.estimatedInputTokens());
        RouteRequest request = RouteRequest.builder()
                .requestId(requestId)
                .tenant(tenant)
                .model(modelAsked)
                .variant(strategyName)
                .taskClass(taskClass)
                .stream(f.stream())
                .tools(f.tools())
                .json(f.json())
                .estimatedInputTokens(f.estimatedInputTokens())
                .maxTokens(f.maxOutputTokens())
                .user(f.user())
                .build();
        RoutingStrategy decider = strategyName.equals(DIRECT)
                ? null
                : strategies.strategy(strategyName).orElseThrow();
        List<Endpoint> order = new ArrayList<>(pool.size() + fallbacks.size());
        String reason = "";
        double efficiency = Posterior.PRIOR.mean();
        if (decider == null && f.provider().order().isEmpty()) {
            // the common case, kept lean: no strategy, so no candidates or stats snapshots to build
            efficiency = direct(pool, request, now, order);
        } else {
            List<Candidate> candidates = new ArrayList<>(pool.size());
            long probeSeed = seed ^ StrategyCall.mix(requestId.hashCode()) ^ PROBE_SALT;
            IdentityHashMap<Candidate, Slot> slotOf = new IdentityHashMap<>(pool.size() * 2);
            for (Slot s : pool) {
                Candidate c = s.endpoint()
                        .candidate(
                                state.stats(s.candidateId(), tenant, taskClass, probeDraw(probeSeed, s.candidateId())));
                candidates.add(c);
                slotOf.put(c, s);
            }
            if (!candidates.isEmpty()) {
                List<Candidate> ranked = candidates;
                if (decider != null) {
                    RouteDecision d = StrategyCall.decide(decider, strategyName, request, candidates, seed);
                    ranked = d.order();
                    reason = d.reason();
                }
                ranked = f.provider().front(ranked);
                for (Candidate c : ranked) {
                    // StrategyCall answers only with the candidates it was given
                    order.add(Objects.requireNonNull(slotOf.get(c), "a candidate of this pool")
                            .endpoint());
                }
                efficiency = efficiency(ranked.get(0), candidates, request);
            }
        }
        for (Slot s : usableFallbacks) {
            order.add(s.endpoint());
        }
        if (!lastResort.isEmpty()) {
            // panic mode's candidates: tried when the usable ones are exhausted, soonest-opening first
            List<long[]> waits = new ArrayList<>(lastResort.size());
            for (int i = 0; i < lastResort.size(); i++) {
                Slot s = lastResort.get(i);
                waits.add(
                        new long[] {state.millisUntilRetry(s.candidateId(), access.upstreamKey(s.endpoint()), now), i});
            }
            waits.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            for (long[] w : waits) {
                Endpoint e = lastResort.get((int) w[1]).endpoint();
                if (!order.contains(e)) {
                    order.add(e);
                }
            }
        }
        if (order.isEmpty()) {
            throw noHealthyEndpoint(modelAsked, coolingDown, access, now);
        }
        return new RoutePlan(strategyName, decider, request, order, efficiency, reason, access);
    }

    /** The slots the key can reach; the same list when it reaches them all (the common case allocates nothing). */
    private static List<Slot> reachable(List<Slot> pool, Access access) {
        int i = 0;
        while (i < pool.size() && access.reaches(pool.get(i).endpoint())) {
            i++;
        }
        if (i == pool.size()) {
            return pool;
        }
        List<Slot> kept = new ArrayList<>(pool.subList(0, i));
        for (i++; i < pool.size(); i++) {
            if (access.reaches(pool.get(i).endpoint())) {
                kept.add(pool.get(i));
            }
        }
        return kept;
    }

    /**
     * The slots {@link RoutingState.Reach#USABLE} for the key now, in order; the others go to
     * {@code lastResort} or {@code coolingDown}. The same list when all are usable (the common case
     * allocates nothing).
     */
    private List<Slot> usable(List<Slot> pool, Access access, long now, List<Slot> lastResort, List<Slot> coolingDown) {
        List<Slot> kept = null;
        for (int i = 0; i < pool.size(); i++) {
            Slot s = pool.get(i);
            RoutingState.Reach r = state.reach(s.candidateId(), s.endpoint(), access, now);
            if (r == RoutingState.Reach.USABLE) {
                if (kept != null) {
                    kept.add(s);
                }
                continue;
            }
            if (kept == null) {
                kept = new ArrayList<>(pool.subList(0, i));
            }
            (r == RoutingState.Reach.COOLING ? coolingDown : lastResort).add(s);
        }
        return kept == null ? pool : kept;
    }

    /**
     * The pool's endpoints (all usable), in configured order, into {@code order}; returns the
     * efficiency of the first.
     */
    private double direct(List<Slot> pool, RouteRequest request, long now, List<Endpoint> order) {
        long pickCost = -1;
        long cheapest = Long.MAX_VALUE;
        Slot pick = null;
        for (Slot s : pool) {
            Endpoint e = s.endpoint();
            order.add(e);
            long cost = Candidate.expectedCostNanoUsd(
                    request,
                    e.price().inputNanoPerM(),
                    e.price().outputNanoPerM(),
                    e.model().maxOutputTokens());
            if (pick == null) {
                pick = s;
                pickCost = cost;
            }
            cheapest = Math.min(cheapest, cost);
        }
        if (pick == null) {
            return Posterior.PRIOR.mean();
        }
        return efficiency(
                state.learning()
                        .posterior(request.tenant(), pick.candidateId(), request.taskClass())
                        .mean(),
                pickCost,
                cheapest);
    }

    /**
     * The draw, uniform in [0, 1), that decides whether {@code candidateId} is re-explored on this
     * request when it is dropped (docs/routing.md): from the routing seed and request id, so a
     * decision still replays from the two.
     */
    static double probeDraw(long probeSeed, String candidateId) {
        return (StrategyCall.mix(probeSeed ^ candidateId.hashCode()) >>> 11) * 0x1.0p-53;
    }

    /** The strategy of a variant suffix, or 404 naming the variants there are. */
    private String strategyFor(String modelId, String variant) {
        String name = switch (variant) {
            case "nitro" -> "fast";
            case "free" ->
                throw ApiError.modelNotFound("The variant ':free' is not offered: this gateway has no free"
                        + " tier. Nearest: '" + modelId + ":floor' (the cheapest endpoint).");
            case "online" ->
                throw ApiError.modelNotFound("The variant ':online' is not offered: this gateway does not"
                        + " add web search. Nearest: '" + modelId + "'.");
            default -> variant;
        };
        if (name.equals(AUTO)
                || name.equals(DIRECT)
                || strategies.strategy(name).isEmpty()) {
            throw ApiError.modelNotFound("The variant ':" + variant + "' does not exist. Variants: "
                    + String.join(", ", variants().stream().map(v -> ":" + v).toList())
                    + "; or the model 'auto'.");
        }
        return name;
    }

    /** OpenRouter's {@code provider.sort} for a model without a variant. */
    private String sortStrategy(ProviderPreferences p) {
        String sort = p.sort();
        if (sort == null) {
            return DIRECT;
        }
        String name = sort.equals("price") ? "floor" : "fast";
        return strategies.strategy(name).isPresent() ? name : DIRECT;
    }

    /** Endpoints of every model fit for the request, for {@code auto}. */
    private List<Slot> autoPool(RequestFeatures f, Access access) {
        List<Slot> pool = new ArrayList<>();
        for (ModelSpec m : routable) {
            if (access.allowsModel(m.id()) && CapabilityCheck.problem(m, f) == null) {
                // every routable model has slots
                pool.addAll(reachable(slotsByModel.getOrDefault(m.id(), List.of()), access));
            }
        }
        if (pool.isEmpty()) {
            throw ApiError.modelNotFound("No model this key can use fits the request for 'auto' ("
                    + (f.embeddings() ? "embeddings" : f.tools() ? "tools" : f.json() ? "JSON output" : "chat")
                    + ", about " + f.estimatedInputTokens() + " prompt tokens).");
        }
        return pool;
    }

    /** {@code provider.order} with {@code allow_fallbacks: false}: only the named accounts. */
    private static List<Slot> preferProviders(List<Slot> pool, ProviderPreferences p, String modelAsked) {
        if (p.allowFallbacks() || p.order().isEmpty()) {
            return pool;
        }
        List<Slot> kept = new ArrayList<>();
        for (Slot s : pool) {
            if (p.order().contains(s.endpoint().id())) {
                kept.add(s);
            }
        }
        if (kept.isEmpty()) {
            throw ApiError.modelNotFound("None of the providers in provider.order " + p.order() + " serves '"
                    + modelAsked + "', and provider.allow_fallbacks is false. Its endpoints: "
                    + pool.stream().map(s -> s.endpoint().id()).distinct().toList() + ".");
        }
        return kept;
    }

    /**
     * Endpoints of OpenRouter's {@code models} list, in order, skipping the model asked, models with
     * no endpoint and models that lack what the request needs. An unknown model is a 400: a typo in
     * a fallback list would otherwise only show when it is needed.
     */
    private List<Slot> fallbackModels(RequestFeatures f, String modelAsked, Access access) {
        if (f.fallbackModels().isEmpty()) {
            return List.of();
        }
        Set<String> seen = new LinkedHashSet<>();
        seen.add(modelAsked);
        List<Slot> out = new ArrayList<>();
        for (int i = 0; i < f.fallbackModels().size(); i++) {
            String n = f.fallbackModels().get(i);
            int c = n.lastIndexOf(':');
            // a variant on a fallback model is accepted and its endpoints are tried in configured order
            Optional<ModelSpec> m = catalog.find(c > 0 ? n.substring(0, c) : n);
            if (m.isEmpty()) {
                throw ApiError.invalidRequest(
                        "models[" + i + "]",
                        "The fallback model '" + n + "' does not exist in" + " the gateway's catalog.");
            }
            ModelSpec model = m.get();
            List<Slot> slots = slotsByModel.get(model.id());
            if (!seen.add(model.id())
                    || slots == null
                    || !access.allowsModel(model.id())
                    || CapabilityCheck.problem(model, f) != null) {
                continue;
            }
            out.addAll(reachable(slots, access));
        }
        return out;
    }

    /** 503 when the key is cooling down on every endpoint: {@code Retry-After} is the soonest end. */
    private ApiError noHealthyEndpoint(String modelAsked, List<Slot> coolingDown, Access access, long now) {
        long wait = Long.MAX_VALUE;
        for (Slot s : coolingDown) {
            wait = Math.min(wait, state.millisUntilRetry(s.candidateId(), access.upstreamKey(s.endpoint()), now));
        }
        long seconds = Math.max(1, (Math.min(wait, Long.MAX_VALUE - 999) + 999) / 1000);
        return ApiError.noHealthyEndpoint(
                "Every endpoint of '" + modelAsked + "' is cooling down: the provider"
                        + " asked to wait before it takes more requests with the provider key of tenant '"
                        + access.tenant() + "';"
                        + " retry in " + seconds + " s.",
                seconds);
    }

    /** {@code X-BR-Efficiency}: the pick's quality posterior mean × cheapest ÷ pick's expected cost. */
    static double efficiency(Candidate pick, List<Candidate> eligible, RouteRequest request) {
        long pickCost = pick.expectedCostNanoUsd(request);
        long cheapest = pickCost;
        for (Candidate c : eligible) {
            cheapest = Math.min(cheapest, c.expectedCostNanoUsd(request));
        }
        return efficiency(pick.stats().qualityMean(), pickCost, cheapest);
    }

    /** Quality mean × cheapest eligible cost ÷ the pick's cost (1 when the pick is free). */
    private static double efficiency(double qualityMean, long pickCost, long cheapest) {
        return qualityMean * (pickCost == 0 ? 1.0 : (double) cheapest / pickCost);
    }
}
