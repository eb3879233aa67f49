package io.brainstorm.proxy.settle;

import org.jspecify.annotations.Nullable;

/**
 * One API request, as it ended: what the audit trail records, what {@code /metrics} counts and what
 * the dashboard's live feed shows (DESIGN §9). Made once per request on the event loop that served
 * it, after the answer (or the error) went to the client.
 *
 * <p>Never holds a secret: {@code keyId} is the key's public id. {@code prompt} and {@code answer}
 * are null unless the audit is configured to record content.
 *
 * @param atMillis         when the request ended (epoch ms, wall clock)
 * @param requestId        the {@code X-BR-Request-Id}
 * @param tenant           the key's tenant, or null when the request was not authenticated
 * @param keyId            the key's id, or null when the request was not authenticated
 * @param app              the application's name ({@code X-Title}, else {@code HTTP-Referer}), or null
 * @param operation        {@code chat} or {@code embeddings}
 * @param requestedModel   the model the client asked for (with its variant), or null if the body had none
 * @param selectedModel    the {@code provider/model} that answered, or null when none did
 * @param endpoint         the endpoint that answered (or was tried last), or null
 * @param strategy         the strategy that decided, or null when the request was refused before routing
 * @param status           the HTTP status the client got (200 for a stream that began, even if it broke)
 * @param errorCode        the OpenAI-shaped error code the client got ({@code budget_exceeded}, …;
 *                         {@code stream_broken} when a stream ended with an error event), or null
 * @param stream           whether the client asked for a stream
 * @param promptTokens     prompt tokens (reported or estimated), 0 when unknown
 * @param completionTokens completion tokens (reported or estimated), 0 when unknown
 * @param costNanoUsd      what was charged to the key's budget, in nano-USD
 * @param costEstimated    true when the provider reported no usage and the cost is the gateway's estimate
 * @param latencyMicros    from the request's arrival to its last byte written
 * @param ttftMicros       to the first streamed content event, or -1
 * @param fallbacks        endpoints that failed before the one that answered
 * @param score            the scorer's 0..1 verdict on the answer, or -1 when not scored
 * @param scoreOutcome     why the score is what it is ({@link ScoreOutcome}), or null when not scored
 * @param prompt           the request's messages as JSON text, when content recording is on; else null
 * @param answer           the answer's content as text, when content recording is on; else null
 * @param format           what the answer was asked to be: {@code plain}, {@code json_object},
 *                         {@code json_schema} or {@code tools} (tools win when both are asked); null for
 *                         embeddings and for requests refused before their body was read
 */
public record Completion(
        long atMillis, @Nullable String requestId, @Nullable String tenant, @Nullable String keyId, @Nullable String app, @Nullable String operation,
        @Nullable String requestedModel, @Nullable String selectedModel, @Nullable String endpoint, @Nullable String strategy, int status, @Nullable String errorCode,
        boolean stream, long promptTokens, long completionTokens, long costNanoUsd, boolean costEstimated,
        long latencyMicros, long ttftMicros, int fallbacks, double score, @Nullable ScoreOutcome scoreOutcome,
        @Nullable String prompt, @Nullable String answer, @Nullable String format) {

    /** Score of a request that was not scored. */
    public static final double NO_SCORE = -1;

    /** As the canonical constructor, with no {@code format}. */
    public Completion(long atMillis, @Nullable String requestId, @Nullable String tenant, @Nullable String keyId, @Nullable String app, @Nullable String operation,
                      @Nullable String requestedModel, @Nullable String selectedModel, @Nullable String endpoint, @Nullable String strategy, int status,
                      @Nullable String errorCode, boolean stream, long promptTokens, long completionTokens, long costNanoUsd,
                      boolean costEstimated, long latencyMicros, long ttftMicros, int fallbacks, double score,
                      @Nullable ScoreOutcome scoreOutcome, @Nullable String prompt, @Nullable String answer) {
        this(atMillis, requestId, tenant, keyId, app, operation, requestedModel, selectedModel, endpoint, strategy,
                status, errorCode, stream, promptTokens, completionTokens, costNanoUsd, costEstimated, latencyMicros,
                ttftMicros, fallbacks, score, scoreOutcome, prompt, answer, null);
    }

    /**
     * The answer format a chat request body asks for: {@code tools} when it declares tools (and
     * {@code tool_choice} is not {@code none}), else {@code json_schema} or {@code json_object} from
     * {@code response_format}, else {@code plain}.
     */
    public static String formatOf(com.fasterxml.jackson.databind.JsonNode body) {
        com.fasterxml.jackson.databind.JsonNode tools = body.get("tools");
        if (tools != null && tools.isArray() && !tools.isEmpty()
                && !"none".equals(body.path("tool_choice").asText(""))) {
            return "tools";
        }
        String type = body.path("response_format").path("type").asText("");
        return type.equals("json_schema") || type.equals("json_object") ? type : "plain";
    }

    /** Whether the scorer gave a verdict. */
    public boolean scored() {
        return score >= 0;
    }
}
