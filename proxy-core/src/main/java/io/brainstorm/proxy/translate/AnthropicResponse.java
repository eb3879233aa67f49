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
 * included), {@code total_tokens} their sum. The {@code id} is Anthropic's message id.
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
     * Anthropic's token counts, as reported, for cost: input at the input price, cache creation at
     * the cache-write price (of which {@code cacheCreation1hTokens} at the one-hour price, when
     * Anthropic says), cache read at the cached-input price, output at the output price.
     */
    public record Usage(
            long inputTokens,
            long outputTokens,
            long cacheCreationTokens,
            long cacheCreation1hTokens,
            long cacheReadTokens) {

        /** OpenAI's {@code prompt_tokens}: every input token, cached or not. */
        public long promptTokens() {
            return inputTokens + cacheCreationTokens + cacheReadTokens;
        }

        /** Anthropic's {@code usage} object (a message's, or a stream's {@code message_start}'s). */
        public static Usage of(JsonNode usage) {
            return new Usage(
                    usage.path("input_tokens").asLong(0),
                    usage.path("output_tokens").asLong(0),
                    usage.path("cache_creation_input_tokens").asLong(0),
                    usage.path("cache_creation")
                            .path("ephemeral_1h_input_tokens")
                            .asLong(0),
                    usage.path("cache_read_input_tokens").asLong(0));
        }

        /** OpenAI's {@code usage} object for these counts. */
        public ObjectNode toOpenAi() {
            ObjectNode u = NODES.objectNode();
            u.put("prompt_tokens", promptTokens());
            u.put("completion_tokens", outputTokens);
            u.put("total_tokens", promptTokens() + outputTokens);
            u.putObject("prompt_tokens_details").put("cached_tokens", cacheReadTokens);
            return u;
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
        String finish = forcedContent != null && toolCalls.isEmpty() && "tool_use".equals(stopReason)
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
     * {@code refusal} is {@code content_filter}; null stays null (a stream's start); an unknown
     * reason is {@code stop}. Shared with the streamed translation.
     */
    public static @Nullable String finishReason(@Nullable String stopReason) {
        if (stopReason == null) {
            return null;
        }
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
