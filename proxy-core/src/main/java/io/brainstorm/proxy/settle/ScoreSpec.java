package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What structure a request asked its answer to have (DESIGN §8), read once from the client's body:
 * {@code response_format} ({@code json_object}, {@code json_schema} with its compiled schema) and
 * {@code tools} (each function's name and compiled {@code parameters} schema, {@code tool_choice}).
 * STUB: the scorer's author replaces the bodies; the signatures are the contract.
 *
 * <p><b>Threading:</b> immutable; made on the event loop, used on the scoring threads.
 */
public final class ScoreSpec {
    /** A plain request: no structure asked for. */
    public static final ScoreSpec PLAIN = new ScoreSpec();

    private ScoreSpec() {
    }

    /**
     * The spec of a chat request body. Never throws: a schema the scorer cannot use makes a spec
     * whose answers are not scored ({@link ScoreOutcome#SCHEMA_UNUSABLE}).
     */
    public static ScoreSpec of(JsonNode requestBody, Scorer scorer) {
        return PLAIN;
    }

    /** Whether structure was asked for ({@code json_object}, {@code json_schema} or tools). */
    public boolean structured() {
        return false;
    }

    /** Whether scoring an answer needs schema validation, which may take more than a few µs: run it off the event loop. */
    public boolean expensive() {
        return false;
    }

    /** {@code plain}, {@code json_object}, {@code json_schema} or {@code tools}: a label for metrics. */
    public String kind() {
        return "plain";
    }
}
