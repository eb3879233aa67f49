package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.settle.ScoreOutcome;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * The numbers of one (model, endpoint) label set of {@link Metrics}: counters written by event
 * loops (wait-free {@link LongAdder}s and {@link Timing}s), read at a scrape.
 */
final class Series {
    private static final int OUTCOME_COUNT = ScoreOutcome.values().length;

    final String model;
    final String endpoint;
    /** strategy → status → requests. */
    final ConcurrentHashMap<String, ConcurrentHashMap<String, LongAdder>> requests = new ConcurrentHashMap<>();

    final LongAdder promptTokens = new LongAdder();
    final LongAdder completionTokens = new LongAdder();
    final LongAdder cachedTokens = new LongAdder();
    final LongAdder cacheWriteTokens = new LongAdder();
    final LongAdder costNano = new LongAdder();
    final LongAdder fallbacks = new LongAdder();
    /** By format ({@link Labels#FORMATS}): scored answers, the sum of their scores, and outcome → answers. */
    final LongAdder[] scores = new LongAdder[Labels.FORMATS.size()];

    final DoubleAdder[] scoreSum = new DoubleAdder[Labels.FORMATS.size()];
    final LongAdder[][] outcomes = new LongAdder[Labels.FORMATS.size()][OUTCOME_COUNT];
    /** error code → requests; at most {@link Labels#ERROR_CODES} and {@code other}. */
    final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    /** Requests whose (strategy, status) found no label set left (overflow set only). */
    final LongAdder capped = new LongAdder();

    final Timing latency = new Timing();
    final Timing ttft = new Timing();

    /** Takes one of the label sets {@link Metrics} still allows, for a new (strategy, status) counter. */
    private final BooleanSupplier reserve;

    Series(String model, String endpoint, BooleanSupplier reserve) {
        this.model = model;
        this.endpoint = endpoint;
        this.reserve = reserve;
        for (int f = 0; f < scores.length; f++) {
            scores[f] = new LongAdder();
            scoreSum[f] = new DoubleAdder();
            for (int i = 0; i < OUTCOME_COUNT; i++) {
                outcomes[f][i] = new LongAdder();
            }
        }
    }

    /** The request counter of (strategy, status), or null when no label set is left for a new one. */
    LongAdder requests(String strategy, String status) {
        ConcurrentHashMap<String, LongAdder> byStatus = requests.get(strategy);
        if (byStatus == null) {
            byStatus = requests.computeIfAbsent(strategy, k -> new ConcurrentHashMap<>());
        }
        LongAdder n = byStatus.get(status);
        return n != null ? n : byStatus.computeIfAbsent(status, k -> reserve.getAsBoolean() ? new LongAdder() : null);
    }

    LongAdder error(String code) {
        LongAdder n = errors.get(code);
        return n != null ? n : errors.computeIfAbsent(code, k -> new LongAdder());
    }
}
