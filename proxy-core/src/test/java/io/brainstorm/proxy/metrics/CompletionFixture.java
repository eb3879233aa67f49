package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.settle.Completion;

/**
 * {@link Completion.Builder}s for tests, filled so each test names only the fields it is about: by
 * default a plain chat request for {@code sim/alpha} answered 200 by {@code sim-east}, directly,
 * 10 ms, 100 + 20 tokens, 1,000 nano-USD, plain (no structure asked for), not scored.
 */
public final class CompletionFixture {
    private static final long AT_MILLIS = 1_764_000_000_000L;
    private static final String REQUEST_ID = "req_fixture";

    private CompletionFixture() {}

    public static Completion.Builder ok() {
        return ok(REQUEST_ID);
    }

    public static Completion.Builder ok(String requestId) {
        return chat(requestId)
                .selected("sim/alpha", "sim-east")
                .strategy("direct")
                .status(200, null)
                .tokens(100, 20)
                .cost(1_000, false)
                .latencyMicros(10_000);
    }

    /** A request refused before routing: no model selected, no endpoint, no strategy, no cost. */
    public static Completion.Builder refused(int status, String errorCode) {
        return chat(REQUEST_ID).status(status, errorCode).latencyMicros(300);
    }

    private static Completion.Builder chat(String requestId) {
        return Completion.builder(requestId, 0)
                .atMillis(AT_MILLIS)
                .key("default", "key_fixture")
                .operation("chat")
                .requestedModel("sim/alpha")
                .format("plain");
    }
}
