package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.EndpointReadOut;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.CompletionSink;
import io.brainstorm.proxy.spi.CircuitState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's Prometheus metrics (docs/metrics.md): a {@link CompletionSink} that counts every
 * ended request by model, endpoint, strategy and status, and {@link #render()}, the text exposition
 * {@code GET /metrics} on the admin listener serves, with the gateway's circuits, readiness and
 * in-flight requests, the JVM's and Netty's memory read at that moment.
 *
 * <h2>Labels</h2>
 * Model, endpoint, strategy, status, error code, answer format and scorer outcome only, each from a bounded
 * vocabulary ({@link Labels}), and the learning's scope and direction (two fixed values each): a
 * model the catalog does not know counts as {@code unknown}, never under the name the client
 * wrote. Never a key id or a tenant id. At most {@code maxLabelSets} label
 * sets (10,000 by default) are made; a completion that would need one more is counted under
 * {@code model="overflow", endpoint="overflow"} (and {@code strategy="overflow", status="overflow"}
 * for its request counter) and in {@code brainstorm_metrics_label_overflow_total}.
 *
 * <h2>Histograms</h2>
 * Durations are recorded in microseconds into HdrHistogram single-writer recorders, one per label
 * set and event loop ({@link WriterHistograms}; 2 significant digits, auto-resizing to the largest
 * value seen: about 50 KB per recorder, so about 100 KB per (model, endpoint) label set and event
 * loop that has seen values up to a minute). Each scrape takes the interval's histograms from a
 * label set that recorded since the last one and adds them into the cumulative counts of the
 * fixed buckets ({@link Timing#BOUNDS_MICROS}), kept since start, which it writes as Prometheus'
 * cumulative {@code _bucket}s. A value less than 1 % above a bucket's bound
 * may count in that bucket (HdrHistogram's precision); {@code _sum} and {@code _count} are exact.
 * (Not packed histograms: HdrHistogram 2.2.2's concurrent packed array all but stops when several
 * threads record while it grows, and reading a packed one at every scrape took milliseconds. Not
 * one {@code Recorder} shared by the event loops either: its writers share one phaser the scrape
 * spins on.)
 *
 * <h2>Threading</h2>
 * {@link #accept} runs on event loops, concurrently, and takes no lock and never waits for another
 * writer or for a scrape: a few {@link ConcurrentHashMap} reads, {@link LongAdder}s and a write
 * into the calling event loop's own recorder (wait-free); it allocates nothing once a label set
 * exists and the loop has recorded in it. {@link #render()} is synchronized (one scrape at a time;
 * no writer takes that lock) and runs on the admin thread.
 */
public final class Metrics implements CompletionSink {
    /** Where the admin listener serves the exposition. */
    public static final String PATH = "/metrics";
    /** The exposition's {@code Content-Type}: Prometheus' text format 0.0.4. */
    public static final String CONTENT_TYPE = Exposition.CONTENT_TYPE;
    /** The default cap on label sets. */
    public static final int MAX_LABEL_SETS = 10_000;

    static final String OVERFLOW = "overflow";
    private static final Pattern NAME = Pattern.compile("brainstorm_[a-z][a-z0-9_]*");

    private final Gateway gateway;
    private final Labels labels;
    private final int maxLabelSets;
    private final AtomicInteger labelSets = new AtomicInteger();
    /** model label → endpoint label → its label set's numbers. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Series>> series = new ConcurrentHashMap<>();

    private final Series overflow = new Series(OVERFLOW, OVERFLOW, this::reserve);
    private final LongAdder overflowed = new LongAdder();
    private final LongAdder budgetSpentNano = new LongAdder();
    private final LongAdder budgetRefusals = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder budgetBusy = new LongAdder();
    /** Families other parts of the gateway register ({@link #addGauge}, {@link #addCounter}), by name. */
    private final ConcurrentSkipListMap<String, Extra> extras = new ConcurrentSkipListMap<>();

    /** Metrics of {@code gateway}: its catalog and provider accounts are the label vocabulary. */
    public Metrics(Gateway gateway) {
        this(gateway, MAX_LABEL_SETS);
    }

    /** @param maxLabelSets the most label sets made before completions count under {@code overflow} */
    public Metrics(Gateway gateway, int maxLabelSets) {
        if (maxLabelSets < 1) {
            throw new IllegalArgumentException("maxLabelSets: " + maxLabelSets + " (expected: > 0)");
        }
        this.gateway = gateway;
        this.labels = Labels.of(gateway.config());
        this.maxLabelSets = maxLabelSets;
    }

    // ---- counting ----

    @Override
    public void accept(Completion c) {
        Series s = series(labels.model(c.selectedModel(), c.requestedModel()), labels.endpoint(c.endpoint()));
        LongAdder requests = s.requests(Labels.strategy(c.strategy(), gateway.router()), Labels.status(c.status()));
        if (requests == null) {
            requests = overflow.capped;
        }
        if (s == overflow || requests == overflow.capped) {
            overflowed.increment();
        }
        requests.increment();
        s.promptTokens.add(Math.max(0, c.promptTokens()));
        s.completionTokens.add(Math.max(0, c.completionTokens()));
        if (c.cachedTokens() > 0) {
            s.cachedTokens.add(c.cachedTokens());
        }
        if (c.cacheWriteTokens() > 0) {
            s.cacheWriteTokens.add(c.cacheWriteTokens());
        }
        long cost = Math.max(0, c.costNanoUsd());
        s.costNano.add(cost);
        if (c.fallbacks() > 0) {
            s.fallbacks.add(c.fallbacks());
        }
        s.latency.record(c.latencyMicros());
        if (c.stream() && c.ttftMicros() >= 0) {
            s.ttft.record(c.ttftMicros());
        }
        int format = Labels.format(c.format());
        if (c.scoreOutcome() != null) {
            s.outcomes[format][c.scoreOutcome().ordinal()].increment();
        }
        if (c.scored()) {
            s.scores[format].increment();
            s.scoreSum[format].add(c.score());
        }
        String code = labels.errorCode(c.errorCode());
        if (code != null) {
            s.error(code).increment();
            if (code.equals("budget_exceeded")) {
                budgetRefusals.increment();
            } else if (code.equals("rate_limited")) {
                rateLimited.increment();
            } else if (code.equals("budget_busy")) {
                budgetBusy.increment();
            }
        }
        if (cost > 0 && hasBudget(c.keyId())) {
            budgetSpentNano.add(cost);
        }
    }

    /** The label set's numbers, made on first use; the overflow set once {@code maxLabelSets} are made. */
    private Series series(String model, String endpoint) {
        ConcurrentHashMap<String, Series> byEndpoint = series.get(model);
        if (byEndpoint == null) {
            byEndpoint = series.computeIfAbsent(model, m -> new ConcurrentHashMap<>());
        }
        Series s = byEndpoint.get(endpoint);
        if (s == null) {
            s = byEndpoint.computeIfAbsent(endpoint, e -> reserve() ? new Series(model, e, this::reserve) : null);
            if (s == null) {
                return overflow;
            }
        }
        return s;
    }

    /** Takes one of the label sets still allowed, if any. */
    private boolean reserve() {
        if (labelSets.incrementAndGet() <= maxLabelSets) {
            return true;
        }
        labelSets.decrementAndGet();
        return false;
    }

    private boolean hasBudget(@Nullable String keyId) {
        Registry registry = gateway.registry();
        if (keyId == null || registry == null) {
            return false;
        }
        Optional<ApiKey> key = registry.key(keyId);
        return key.isPresent() && key.get().limits().hasBudget();
    }

    // ---- families registered by other parts ----

    /**
     * Adds a gauge family without labels, read at every scrape: for parts of the gateway this
     * class does not know (the audit writer's queue, …).
     *
     * @param name {@code brainstorm_…}, snake case, not ending in {@code _total}
     * @throws IllegalArgumentException for another name, or one already in use
     */
    public void addGauge(String name, String help, DoubleSupplier value) {
        if (name == null || name.endsWith("_total")) {
            throw new IllegalArgumentException(
                    "gauge name: " + name + " (expected: brainstorm_…, not ending in _total)");
        }
        addExtra(name, new Extra("gauge", help, value::getAsDouble));
    }

    /**
     * Adds a counter family without labels, read at every scrape.
     *
     * @param name  {@code brainstorm_…_total}, snake case
     * @param value never decreasing while the gateway runs
     * @throws IllegalArgumentException for another name, or one already in use
     */
    public void addCounter(String name, String help, LongSupplier value) {
        if (name == null || !name.endsWith("_total")) {
            throw new IllegalArgumentException("counter name: " + name + " (expected: brainstorm_…_total)");
        }
        addExtra(name, new Extra("counter", help, value::getAsLong));
    }

    private void addExtra(String name, Extra extra) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "metric name: " + name + " (expected: brainstorm_ then lower-case" + " letters, digits and _)");
        }
        if (extra.help() == null || extra.help().isBlank()) {
            throw new IllegalArgumentException("help of " + name + ": " + extra.help() + " (expected: a sentence)");
        }
        if (BUILT_IN.contains(name) || extras.putIfAbsent(name, extra) != null) {
            throw new IllegalArgumentException("metric name: " + name + " (expected: one not in use)");
        }
    }

    private record Extra(String type, String help, DoubleSupplier value) {}

    /** Families with labels that other parts render themselves ({@link RedisMetrics}). */
    private final ConcurrentSkipListMap<String, java.util.function.Consumer<Exposition>> rendered =
            new ConcurrentSkipListMap<>();

    /**
     * Adds a family that {@code render} writes whole (its HELP and TYPE lines included) at every
     * scrape, under the scrape's lock.
     *
     * @throws IllegalArgumentException for a name in use
     */
    void addFamily(String name, java.util.function.Consumer<Exposition> render) {
        if (!NAME.matcher(name).matches()
                || BUILT_IN.contains(name)
                || extras.containsKey(name)
                || rendered.putIfAbsent(name, render) != null) {
            throw new IllegalArgumentException("metric name: " + name + " (expected: brainstorm_…, not in use)");
        }
    }

    // ---- exposition ----

    private static final Set<String> BUILT_IN = Set.of(
            "brainstorm_requests_total",
            "brainstorm_prompt_tokens_total",
            "brainstorm_completion_tokens_total",
            "brainstorm_cached_tokens_total",
            "brainstorm_cache_write_tokens_total",
            "brainstorm_cost_usd_total",
            "brainstorm_fallbacks_total",
            "brainstorm_request_duration_seconds",
            "brainstorm_time_to_first_token_seconds",
            "brainstorm_scorer_outcomes_total",
            "brainstorm_answer_score",
            "brainstorm_errors_total",
            "brainstorm_budget_spent_usd_total",
            "brainstorm_budget_refusals_total",
            "brainstorm_rate_limited_total",
            "brainstorm_metrics_label_overflow_total",
            "brainstorm_circuit_state",
            "brainstorm_learning_resets_total",
            "brainstorm_in_flight_requests",
            "brainstorm_ready");

    /**
     * The exposition in Prometheus' text format 0.0.4: every family with HELP and TYPE, families in
     * name order, label sets in label order.
     */
    public synchronized String render() {
        List<Series> all = new ArrayList<>();
        series.values().forEach(m -> all.addAll(m.values()));
        all.sort(Comparator.comparing((Series s) -> s.model).thenComparing(s -> s.endpoint));
        if (overflowed.sum() > 0) {
            all.add(overflow);
        }
        for (Series s : all) {
            s.latency.merge();
            s.ttft.merge();
        }
        Exposition x = new Exposition(4096 + all.size() * 6144);
        Map<String, Runnable> families = new TreeMap<>();
        families.put("brainstorm_requests_total", () -> SeriesFamilies.requests(x, all, overflow));
        families.put(
                "brainstorm_prompt_tokens_total",
                () -> SeriesFamilies.counter(
                        x,
                        "brainstorm_prompt_tokens_total",
                        "Prompt tokens (as the provider reported them, else estimated), by model and endpoint.",
                        all,
                        s -> s.promptTokens.sum()));
        families.put(
                "brainstorm_completion_tokens_total",
                () -> SeriesFamilies.counter(
                        x,
                        "brainstorm_completion_tokens_total",
                        "Completion tokens (as the provider reported them, else estimated), by model and endpoint.",
                        all,
                        s -> s.completionTokens.sum()));
        families.put(
                "brainstorm_cached_tokens_total",
                () -> SeriesFamilies.counter(
                        x,
                        "brainstorm_cached_tokens_total",
                        "Prompt tokens the provider read from its cache (part of the prompt tokens), by model and endpoint.",
                        all,
                        s -> s.cachedTokens.sum()));
        families.put(
                "brainstorm_cache_write_tokens_total",
                () -> SeriesFamilies.counter(
                        x,
                        "brainstorm_cache_write_tokens_total",
                        "Prompt tokens the provider wrote to its cache (part of the prompt tokens), by model and endpoint.",
                        all,
                        s -> s.cacheWriteTokens.sum()));
        families.put("brainstorm_cost_usd_total", () -> {
            x.family(
                    "brainstorm_cost_usd_total",
                    "counter",
                    "What requests cost in USD (charged to keys' budgets; exact to the nano-dollar), by model and endpoint.");
            for (Series s : all) {
                x.sample("brainstorm_cost_usd_total", "model", s.model, "endpoint", s.endpoint)
                        .value(s.costNano.sum(), 9);
            }
        });
        families.put(
                "brainstorm_fallbacks_total",
                () -> SeriesFamilies.counter(
                        x,
                        "brainstorm_fallbacks_total",
                        "Endpoints that failed before the one that answered, by the model and endpoint that answered.",
                        all,
                        s -> s.fallbacks.sum()));
        families.put(
                "brainstorm_request_duration_seconds",
                () -> SeriesFamilies.histogram(
                        x,
                        "brainstorm_request_duration_seconds",
                        "Time from a request's arrival to its answer's last byte, by model and endpoint.",
                        all,
                        false));
        families.put(
                "brainstorm_time_to_first_token_seconds",
                () -> SeriesFamilies.histogram(
                        x,
                        "brainstorm_time_to_first_token_seconds",
                        "Time from a streamed request's arrival to its first content event, by model and endpoint.",
                        all,
                        true));
        families.put("brainstorm_scorer_outcomes_total", () -> SeriesFamilies.outcomes(x, all));
        families.put("brainstorm_answer_score", () -> SeriesFamilies.scores(x, all));
        families.put("brainstorm_errors_total", () -> SeriesFamilies.errors(x, all));
        families.put("brainstorm_budget_spent_usd_total", () -> {
            x.family("brainstorm_budget_spent_usd_total", "counter", "USD charged to keys that have a daily budget.");
            x.sample("brainstorm_budget_spent_usd_total").value(budgetSpentNano.sum(), 9);
        });
        families.put(
                "brainstorm_budget_refusals_total",
                () -> single(
                        x,
                        "brainstorm_budget_refusals_total",
                        "counter",
                        "Requests refused because the key's daily budget was used up (402 budget_exceeded).",
                        budgetRefusals.sum()));
        families.put(
                "brainstorm_budget_busy_total",
                () -> single(
                        x,
                        "brainstorm_budget_busy_total",
                        "counter",
                        "Requests refused because reservations of requests in flight held the rest of the key's daily budget"
                                + " (429 budget_busy; a retry may fit).",
                        budgetBusy.sum()));
        families.put(
                "brainstorm_rate_limited_total",
                () -> single(
                        x,
                        "brainstorm_rate_limited_total",
                        "counter",
                        "Requests refused by the key's requests or tokens per minute (429 rate_limited).",
                        rateLimited.sum()));
        families.put(
                "brainstorm_metrics_label_overflow_total",
                () -> single(
                        x,
                        "brainstorm_metrics_label_overflow_total",
                        "counter",
                        "Completions counted under the overflow label set because " + maxLabelSets
                                + " label sets existed.",
                        overflowed.sum()));
        families.put("brainstorm_circuit_state", () -> circuits(x));
        families.put("brainstorm_learning_resets_total", () -> learningResets(x));
        families.put(
                "brainstorm_in_flight_requests",
                () -> single(
                        x,
                        "brainstorm_in_flight_requests",
                        "gauge",
                        "API requests being served now.",
                        gateway.inFlight()));
        families.put(
                "brainstorm_ready",
                () -> single(
                        x,
                        "brainstorm_ready",
                        "gauge",
                        "1 when the gateway serves API requests (the state store open, routes built, not draining), else 0.",
                        gateway.ready() ? 1 : 0));
        RuntimeMetrics.addTo(families, x);
        rendered.forEach((name, r) -> families.putIfAbsent(name, () -> r.accept(x)));
        extras.forEach((name, e) -> families.putIfAbsent(name, () -> {
            x.family(name, e.type(), e.help());
            x.sample(name).value(e.value().getAsDouble());
        }));
        families.values().forEach(Runnable::run);
        return x.toString();
    }

    private static void single(Exposition x, String name, String type, String help, long value) {
        x.family(name, type, help);
        x.sample(name).value(value);
    }

    /** 1 for each endpoint's current circuit state, 0 for the other two; none while the gateway starts. */
    private void circuits(Exposition x) {
        String name = "brainstorm_circuit_state";
        x.family(
                name,
                "gauge",
                "Circuit breaker of each endpoint: 1 for its current state (closed, half_open, open),"
                        + " 0 for the others.");
        Router router = gateway.router();
        if (router == null) {
            return;
        }
        Map<String, CircuitState> states = new HashMap<>();
        for (EndpointReadOut e : router.state().readOut()) {
            states.put(e.candidateId(), e.circuit().state());
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (ModelSpec m : router.routableModels()) {
            endpoints.addAll(router.endpoints(m.id()));
        }
        endpoints.sort(Comparator.comparing((Endpoint e) -> e.model().id()).thenComparing(Endpoint::id));
        for (Endpoint e : endpoints) {
            CircuitState current = states.getOrDefault(e.candidateId(), CircuitState.CLOSED);
            for (CircuitState state : CIRCUIT_ORDER) {
                x.sample(
                                name,
                                "model",
                                e.model().id(),
                                "endpoint",
                                e.id(),
                                "state",
                                state.name().toLowerCase(Locale.ROOT))
                        .value(state == current ? 1 : 0);
            }
        }
    }

    /**
     * Firings of the learning's change detectors in this process (docs/routing.md), by scope and
     * direction; all four samples from the start, 0 while the gateway starts.
     */
    private void learningResets(Exposition x) {
        String name = "brainstorm_learning_resets_total";
        x.family(
                name,
                "counter",
                "Firings of routing's change detector: a candidate's learnt quality restarted from its recent answers,"
                        + " in the shared belief or a tenant's own, after it dropped (down) or recovered (up).");
        Router router = gateway.router();
        Learning learning = router == null ? null : router.state().learning();
        for (String scope : List.of("shared", "tenant")) {
            for (Belief.Direction d : Belief.Direction.values()) {
                x.sample(name, "scope", scope, "direction", d.name().toLowerCase(Locale.ROOT))
                        .value(learning == null ? 0 : learning.resets(scope.equals("tenant"), d));
            }
        }
    }

    private static final List<CircuitState> CIRCUIT_ORDER =
            List.of(CircuitState.CLOSED, CircuitState.HALF_OPEN, CircuitState.OPEN);
}
