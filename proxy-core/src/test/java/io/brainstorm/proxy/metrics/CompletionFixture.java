package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;

/**
 * {@link Completion}s for tests, a builder so each test names only the fields it is about: by
 * default a plain chat request for {@code sim/alpha} answered 200 by {@code sim-east}, directly,
 * 10 ms, 100 + 20 tokens, 1,000 nano-USD, plain (no structure asked for), not scored.
 */
public final class CompletionFixture {
    private String tenant = "default";
    private String keyId = "key_fixture";
    private String requested = "sim/alpha";
    private String selected = "sim/alpha";
    private String endpoint = "sim-east";
    private String strategy = "direct";
    private int status = 200;
    private String errorCode;
    private boolean stream;
    private long promptTokens = 100;
    private long completionTokens = 20;
    private long costNano = 1_000;
    private long latencyMicros = 10_000;
    private long ttftMicros = -1;
    private int fallbacks;
    private double score = Completion.NO_SCORE;
    private ScoreOutcome outcome;
    private String requestId = "req_fixture";
    private String app;
    private String format = "plain";

    public static CompletionFixture ok() {
        return new CompletionFixture();
    }

    /** A request refused before routing: no model selected, no endpoint, no strategy, no cost. */
    public static CompletionFixture refused(int status, String errorCode) {
        CompletionFixture f = new CompletionFixture();
        f.selected = null;
        f.endpoint = null;
        f.strategy = null;
        f.status = status;
        f.errorCode = errorCode;
        f.promptTokens = 0;
        f.completionTokens = 0;
        f.costNano = 0;
        f.latencyMicros = 300;
        return f;
    }

    public CompletionFixture key(String tenant, String keyId) {
        this.tenant = tenant;
        this.keyId = keyId;
        return this;
    }

    public CompletionFixture requestId(String requestId, String app) {
        this.requestId = requestId;
        this.app = app;
        return this;
    }

    public CompletionFixture requested(String model) {
        this.requested = model;
        return this;
    }

    public CompletionFixture model(String selected, String endpoint) {
        this.selected = selected;
        this.endpoint = endpoint;
        return this;
    }

    public CompletionFixture strategy(String strategy) {
        this.strategy = strategy;
        return this;
    }

    public CompletionFixture status(int status, String errorCode) {
        this.status = status;
        this.errorCode = errorCode;
        return this;
    }

    public CompletionFixture tokens(long prompt, long completion) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
        return this;
    }

    public CompletionFixture cost(long nanoUsd) {
        this.costNano = nanoUsd;
        return this;
    }

    public CompletionFixture latency(long micros) {
        this.latencyMicros = micros;
        return this;
    }

    /** A streamed request with its time to first token. */
    public CompletionFixture stream(long ttftMicros) {
        this.stream = true;
        this.ttftMicros = ttftMicros;
        return this;
    }

    public CompletionFixture fallbacks(int n) {
        this.fallbacks = n;
        return this;
    }

    /** What the answer was asked to be: plain, json_object, json_schema, tools, or null (embeddings). */
    public CompletionFixture format(String format) {
        this.format = format;
        return this;
    }

    public CompletionFixture score(double score, ScoreOutcome outcome) {
        this.score = score;
        this.outcome = outcome;
        return this;
    }

    public Completion build() {
        return new Completion(1_764_000_000_000L, requestId, tenant, keyId, app, "chat", requested, selected, endpoint,
                strategy, status, errorCode, stream, promptTokens, completionTokens, costNano, false, latencyMicros,
                ttftMicros, fallbacks, score, outcome, null, null, format);
    }
}
