package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.settle.ScoreOutcome;
import java.util.List;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * The families of {@link Metrics}' exposition that have one sample (or one histogram) per
 * (model, endpoint) label set: each writes its HELP, TYPE and samples from the label sets'
 * {@link Series}, in the order given. Called by {@link Metrics#render()} only, under its lock.
 */
final class SeriesFamilies {
    private static final ScoreOutcome[] OUTCOMES = ScoreOutcome.values();
    private static final String[] OUTCOME_LABELS = new String[OUTCOMES.length];

    static {
        for (ScoreOutcome o : OUTCOMES) {
            OUTCOME_LABELS[o.ordinal()] = o.label();
        }
    }

    private SeriesFamilies() {}

    static void counter(Exposition x, String name, String help, List<Series> all, ToLongFunction<Series> value) {
        x.family(name, "counter", help);
        for (Series s : all) {
            x.sample(name, "model", s.model, "endpoint", s.endpoint).value(value.applyAsLong(s));
        }
    }

    static void requests(Exposition x, List<Series> all, Series overflow) {
        String name = "brainstorm_requests_total";
        x.family(
                name,
                "counter",
                "API requests, by the model and endpoint that answered (or was asked for),"
                        + " the strategy that decided and the HTTP status the client got.");
        for (Series s : all) {
            for (var byStrategy : new TreeMap<>(s.requests).entrySet()) {
                for (var byStatus : new TreeMap<>(byStrategy.getValue()).entrySet()) {
                    x.sample(
                                    name,
                                    "model",
                                    s.model,
                                    "endpoint",
                                    s.endpoint,
                                    "strategy",
                                    byStrategy.getKey(),
                                    "status",
                                    byStatus.getKey())
                            .value(byStatus.getValue().sum());
                }
            }
            if (s == overflow && s.capped.sum() > 0) {
                x.sample(
                                name,
                                "model",
                                Metrics.OVERFLOW,
                                "endpoint",
                                Metrics.OVERFLOW,
                                "strategy",
                                Metrics.OVERFLOW,
                                "status",
                                Metrics.OVERFLOW)
                        .value(s.capped.sum());
            }
        }
    }

    static void histogram(Exposition x, String name, String help, List<Series> all, boolean ttft) {
        x.family(name, "histogram", help);
        long[] buckets = new long[Timing.LE.length];
        for (Series s : all) {
            Timing t = ttft ? s.ttft : s.latency;
            long count = t.buckets(buckets);
            if (count == 0) {
                continue;
            }
            for (int i = 0; i < Timing.LE.length; i++) {
                x.sample(name + "_bucket", "model", s.model, "endpoint", s.endpoint, "le", Timing.LE[i])
                        .value(buckets[i]);
            }
            x.sample(name + "_sum", "model", s.model, "endpoint", s.endpoint).value(t.sumMicros.sum(), 6);
            x.sample(name + "_count", "model", s.model, "endpoint", s.endpoint).value(count);
        }
    }

    static void outcomes(Exposition x, List<Series> all) {
        String name = "brainstorm_scorer_outcomes_total";
        x.family(
                name,
                "counter",
                "Answers by the scorer's verdict (valid, invalid_json, schema_mismatch, bad_arguments,"
                        + " ...; over_limit, schema_unusable and not_applicable were not scored), by model, endpoint and the"
                        + " format asked for (plain, json_object, json_schema, tools).");
        for (Series s : all) {
            for (int f = 0; f < Labels.FORMATS.size(); f++) {
                for (int i = 0; i < OUTCOMES.length; i++) {
                    long n = s.outcomes[f][i].sum();
                    if (n > 0) {
                        x.sample(
                                        name,
                                        "model",
                                        s.model,
                                        "endpoint",
                                        s.endpoint,
                                        "format",
                                        Labels.FORMATS.get(f),
                                        "outcome",
                                        OUTCOME_LABELS[i])
                                .value(n);
                    }
                }
            }
        }
    }

    static void scores(Exposition x, List<Series> all) {
        String name = "brainstorm_answer_score";
        x.family(
                name,
                "summary",
                "The scorer's 0..1 verdicts on answers, by model, endpoint and the format asked"
                        + " for: _sum / _count is the mean score (for json_schema, the share of answers that validate).");
        for (Series s : all) {
            for (int f = 0; f < Labels.FORMATS.size(); f++) {
                long n = s.scores[f].sum();
                if (n > 0) {
                    String fmt = Labels.FORMATS.get(f);
                    x.sample(name + "_sum", "model", s.model, "endpoint", s.endpoint, "format", fmt)
                            .value(s.scoreSum[f].sum());
                    x.sample(name + "_count", "model", s.model, "endpoint", s.endpoint, "format", fmt)
                            .value(n);
                }
            }
        }
    }

    static void errors(Exposition x, List<Series> all) {
        String name = "brainstorm_errors_total";
        x.family(
                name,
                "counter",
                "Requests that ended with an error, by model, endpoint and the error code the client"
                        + " got (other: a provider's own code).");
        for (Series s : all) {
            for (var e : new TreeMap<>(s.errors).entrySet()) {
                x.sample(name, "model", s.model, "endpoint", s.endpoint, "code", e.getKey())
                        .value(e.getValue().sum());
            }
        }
    }
}
