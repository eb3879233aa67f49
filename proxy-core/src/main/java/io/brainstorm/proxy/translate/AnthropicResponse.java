package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import org.jspecify.annotations.Nullable;

/**
 * An Anthropic Messages API answer (a whole {@code message}, not a stream) turned into the OpenAI
 * {@code chat.completion} the client expects. The way back of {@link AnthropicRequest}.
 *
 * <p><b>Calling it:</b> {@link #translate(JsonNode, String, long, String)} on the parsed 2xx body,
 * with the model id the client should see, the {@code created} time, and the {@link
 * AnthropicRequest.Translation#forcedTool()} of the request. Write {@link Completion#body()} to the
 * client; charge from {@link Completion#usage()}, which keeps the cache counts apart.
 *
 * <p><b>Mapping:</b> text blocks, joined, become {@code message.content} (null when there is none);
 * {@code tool_use} blocks become {@code message.tool_calls} ({@code id}, {@code type: function},
 * {@code function.name}, {@code function.arguments} as a JSON string); thinking blocks, joined,
 * become {@code message.reasoning_content} (redacted thinking is dropped). When the request forced a
 * tool for {@code response_format}, that tool's input, as JSON text, is the whole content (any text
 * block is dropped), with no tool call and {@code finish_reason: stop}. {@code stop_reason} maps by {@link #finishReason(String)}.
 * Usage: {@code prompt_tokens} = input + cache creation + cache read (Anthropic's {@code
 * input_tokens} counts only what was neither read from nor written to the cache), {@code
 * prompt_tokens_details.cached_tokens} = cache read, {@code completion_tokens} = output (thinking
 * included), {@code total_tokens} their sum. The {@code id} is Anthropic's message id. For cost,
 * {@link Usage#toSettle()} keeps the cache writes apart, five-minute from one-hour.
 *
 * <p><b>Errors:</b> a body that is not a {@code message} (no {@code content} list) is {@link
 * ApiError#upstreamInvalidResponse} (502).
 *
 * <p><b>Threading:</b> stateless; the input tree is only read.
 */
public final class AnthropicResponse {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AnthropicResponse() {}

    /**
     * Anthropic's token counts for one answer, as reported: of a whole message, or of a stream so
     * far ({@link AnthropicStreamTranslator#usage()}). The one record for both, so that a streamed
     * answer and the same answer whole turn into the same {@link #toSettle() settle usage}, hence
     * the same cost.
     *
     * @param inputTokens           {@code input_tokens}: prompt tokens neither read from nor written
     *     to the cache
     * @param outputTokens          {@code output_tokens}, thinking included
     * @param cacheCreationTokens   prompt tokens written to the cache, of either lifetime: {@code
     *     cache_creation_input_tokens}, or the sum of the {@code cache_creation} breakdown when that
     *     is larger
     * @param cacheCreation1hTokens of those, written with a one-hour lifetime ({@code
     *     cache_creation.ephemeral_1h_input_tokens}), priced apart; never more than {@code
     *     cacheCreationTokens}
     * @param cacheReadTokens       {@code cache_read_input_tokens}: prompt tokens read from the cache
     */
    public record Usage(
            long inputTokens,
            long outputTokens,
            long cacheCreationTokens,
            long cacheCreation1hTokens,
            long cacheReadTokens) {
        public static final Usage ZERO = new Usage(0, 0, 0, 0, 0);

        /** Largest count kept: three of them still add up inside a {@code long}. */
        private static final long MAX_COUNT = Long.MAX_VALUE / 4;

        public Usage {
            if (inputTokens < 0
                    || outputTokens < 0
                    || cacheCreationTokens < 0
                    || cacheCreation1hTokens < 0
                    || cacheReadTokens < 0) {
                throw new IllegalArgumentException("usage: " + inputTokens + "/" + outputTokens + "/"
                        + cacheCreationTokens + "/" + cacheCreation1hTokens + "/" + cacheReadTokens
                        + " (expected: all >= 0)");
            }
            if (cacheCreation1hTokens > cacheCreationTokens) {
                throw new IllegalArgumentException("cacheCreation1hTokens: " + cacheCreation1hTokens
                        + " (expected: <= cacheCreationTokens " + cacheCreationTokens + ")");
            }
        }

        /** OpenAI's {@code prompt_tokens}: every input token, cached or not. */
        public long promptTokens() {
            return inputTokens + cacheCreationTokens + cacheReadTokens;
        }

        /** OpenAI's {@code total_tokens}. */
        public long totalTokens() {
            return promptTokens() + outputTokens;
        }

        /**
         * Anthropic's {@code usage} object (a message's, a stream's {@code message_start}'s or
         * {@code message_delta}'s). A count that is missing, null, not a number or negative is 0;
         * an absurdly large one is capped so that no sum overflows.
         */
        public static Usage of(JsonNode usage) {
            JsonNode breakdown = usage.path("cache_creation");
            long oneHour = count(breakdown.path("ephemeral_1h_input_tokens"));
            long written = Math.max(
                    count(usage.path("cache_creation_input_tokens")),
                    count(breakdown.path("ephemeral_5m_input_tokens")) + oneHour);
            return new Usage(
                    count(usage.path("input_tokens")),
                    count(usage.path("output_tokens")),
                    written,
                    oneHour,
                    count(usage.path("cache_read_input_tokens")));
        }

        /**
         * Each count the larger of this one's and {@code later}'s: Anthropic's stream reports
         * cumulative snapshots, and a later one may leave a count out or give it as 0, which must not
         * lower it.
         */
        public Usage atLeast(Usage later) {
            return new Usage(
                    Math.max(inputTokens, later.inputTokens),
                    Math.max(outputTokens, later.outputTokens),
                    Math.max(cacheCreationTokens, later.cacheCreationTokens),
                    Math.max(cacheCreation1hTokens, later.cacheCreation1hTokens),
                    Math.max(cacheReadTokens, later.cacheReadTokens));
        }

        /** OpenAI's {@code usage} object for these counts. */
        public ObjectNode toOpenAi() {
            ObjectNode u = NODES.objectNode();
            u.put("prompt_tokens", promptTokens());
            u.put("completion_tokens", outputTokens);
            u.put("total_tokens", totalTokens());
            u.putObject("prompt_tokens_details").put("cached_tokens", cacheReadTokens);
            return u;
        }

        /**
         * The gateway's usage, for cost, budget and the completion record: {@code promptTokens} =
         * input + cache writes + cache read, {@code cachedPromptTokens} = cache read, the writes
         * split into five-minute ({@code cacheWriteTokens}, all of them when Anthropic gave no
         * breakdown) and one-hour ({@code cacheWrite1hTokens}), {@code completionTokens} = output.
         * {@code reasoningTokens} is 0: Anthropic counts thinking in the output without saying how
         * much, and it is billed as output either way.
         */
        public io.brainstorm.proxy.settle.Usage toSettle() {
            return new io.brainstorm.proxy.settle.Usage(
                    promptTokens(),
                    outputTokens,
                    cacheReadTokens,
                    0,
                    cacheCreationTokens - cacheCreation1hTokens,
                    cacheCreation1hTokens);
        }

        private static long count(JsonNode n) {
            if (!n.isNumber() || !n.canConvertToLong()) {
                return 0;
            }
            return Math.min(Math.max(0, n.asLong()), MAX_COUNT);
        }
    }

    /** The client's answer and the counts to charge. */
    public record Completion(ObjectNode body, Usage usage) {}

    /**
     * The {@code chat.completion} for an Anthropic message.
     *
     * @param message     the parsed 2xx body of {@code /v1/messages}
     * @param clientModel the model id the client asked for (or the gateway's name for it)
     * @param created     {@code created}, in seconds since the epoch
     * @param forcedTool  {@link AnthropicRequest.Translation#forcedTool()}, or null
     * @throws ApiError (502) when {@code message} is not an Anthropic message
     */
    public static Completion translate(
            JsonNode message, String clientModel, long created, @Nullable String forcedTool) {
        JsonNode content = message.get("content");
        if (!"message".equals(AnthropicRequest.text(message.get("type"))) || content == null || !content.isArray()) {
            throw ApiError.upstreamInvalidResponse("Anthropic's answer is not a message.");
        }
        StringBuilder text = new StringBuilder();
        boolean hasText = false;
        StringBuilder reasoning = new StringBuilder();
        boolean hasReasoning = false;
        ArrayNode toolCalls = NODES.arrayNode();
        String forcedContent = null;
        for (JsonNode block : content) {
            String type = AnthropicRequest.text(block.get("type"));
            if ("text".equals(type)) {
                text.append(block.path("text").asText());
                hasText = true;
            } else if ("thinking".equals(type)) {
                reasoning.append(block.path("thinking").asText());
                hasReasoning = true;
            } else if ("tool_use".equals(type)) {
                String name = block.path("name").asText();
                String arguments = Json.write(block.has("input") ? block.get("input") : NODES.objectNode());
                if (forcedTool != null && forcedTool.equals(name) && forcedContent == null) {
                    forcedContent = arguments;
                    continue;
                }
                ObjectNode call = toolCalls.addObject();
                call.put("id", block.path("id").asText());
                call.put("type", "function");
                call.putObject("function").put("name", name).put("arguments", arguments);
            }
        }

        ObjectNode out = NODES.objectNode();
        out.put("id", message.path("id").asText());
        out.put("object", "chat.completion");
        out.put("created", created);
        out.put("model", clientModel);
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode msg = choice.putObject("message");
        msg.put("role", "assistant");
        if (forcedContent != null) {
            // the client asked for JSON: text beside it (Anthropic writes none when it forces a tool) would spoil it
            msg.put("content", forcedContent);
        } else if (hasText) {
            msg.put("content", text.toString());
        } else {
            msg.putNull("content");
        }
        if (hasReasoning) {
            msg.put("reasoning_content", reasoning.toString());
        }
        if (!toolCalls.isEmpty()) {
            msg.set("tool_calls", toolCalls);
        }
        choice.putNull("logprobs");
        String stopReason = AnthropicRequest.text(message.get("stop_reason"));
        String finish = stopReason == null
                ? null
                : forcedContent != null && toolCalls.isEmpty() && "tool_use".equals(stopReason)
                        ? "stop"
                        : finishReason(stopReason);
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        Usage usage = Usage.of(message.path("usage"));
        out.set("usage", usage.toOpenAi());
        return new Completion(out, usage);
    }

    /**
     * OpenAI's {@code finish_reason} for Anthropic's {@code stop_reason}: {@code end_turn}, {@code
     * stop_sequence} and {@code pause_turn} are {@code stop}; {@code max_tokens} and {@code
     * model_context_window_exceeded} are {@code length}; {@code tool_use} is {@code tool_calls};
     * {@code refusal} is {@code content_filter}; an unknown
     * reason is {@code stop}. Shared with the streamed translation.
     */
    public static String finishReason(String stopReason) {
        switch (stopReason) {
            case "max_tokens":
            case "model_context_window_exceeded":
                return "length";
            case "tool_use":
                return "tool_calls";
            case "refusal":
                return "content_filter";
            default:
                return "stop";
        }
    }
}
