package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import org.jspecify.annotations.Nullable;

/**
 * An OpenAI {@code chat.completion} (a whole answer from an OpenAI-type upstream) turned into the
 * Anthropic {@code message} a {@code /v1/messages} client expects. The way back of {@link
 * MessagesRequest}; the mirror of {@link AnthropicResponse}.
 *
 * <p><b>Calling it:</b> {@link #translate(JsonNode, String, String)} on the parsed 2xx body, with
 * the gateway's request id and the model the client asked for ({@link
 * MessagesRequest.Translation#clientModel()}). Write {@link Message#body()} to the client; charge
 * from {@link Message#usage()}, the OpenAI counts as the gateway always reads them.
 *
 * <p><b>Mapping</b> (the first choice; the request never asks for more):
 *
 * <ul>
 *   <li>{@code id}: {@link #messageId(String)} of the request id; {@code type: message}, {@code
 *       role: assistant}, {@code model} as given, {@code stop_sequence: null} (OpenAI does not say
 *       which stop sequence matched);
 *   <li>{@code content}, in this order: {@code message.reasoning_content} (the field
 *       OpenAI-compatible reasoning servers use) as a {@code thinking} block with {@code signature:
 *       ""}: Anthropic's schema requires the field, and no signature can be made for reasoning
 *       Anthropic did not write (a client that sends the block back through this gateway has it
 *       dropped by {@link MessagesRequest}; sent to Anthropic itself, it would be refused); {@code
 *       content} (or a {@code refusal}) as a {@code text} block; each {@code tool_calls} entry as a
 *       {@code tool_use} block with its id, name and {@code input} parsed from {@code arguments}.
 *       Arguments that are not a JSON object (cut by {@code max_tokens}, or a model's mistake) give
 *       {@code input: {}}: a tool_use block must have an object there, and the client's tool then
 *       reports the missing fields, which the model can correct, where an error would lose the
 *       whole answer;
 *   <li>{@code stop_reason} by {@link #stopReason(String)};
 *   <li>{@code usage}: {@code input_tokens} = prompt − cached, {@code cache_read_input_tokens} =
 *       cached ({@code prompt_tokens_details.cached_tokens}), {@code cache_creation_input_tokens}
 *       0 (OpenAI does not charge cache writes), {@code output_tokens} = completion (reasoning
 *       included, as Anthropic counts thinking).
 * </ul>
 *
 * <p><b>Errors:</b> a body with no {@code choices[0].message} is {@link
 * ApiError#upstreamInvalidResponse} (502).
 *
 * <p><b>Threading:</b> stateless; the input tree is only read.
 */
public final class MessagesResponse {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private MessagesResponse() {}

    /** The client's answer and the OpenAI counts to charge (zero when the upstream gave none). */
    public record Message(ObjectNode body, Usage usage) {}

    /**
     * The Anthropic message for an OpenAI chat completion.
     *
     * @param completion  the parsed 2xx body of {@code /v1/chat/completions}
     * @param requestId   the gateway's request id ({@code req_...}), for the message id
     * @param clientModel the model the client asked for
     * @throws ApiError (502) when {@code completion} has no message
     */
    public static Message translate(JsonNode completion, String requestId, String clientModel) {
        JsonNode choice = completion.path("choices").path(0);
        JsonNode message = choice.get("message");
        if (message == null || !message.isObject()) {
            throw ApiError.upstreamInvalidResponse("The upstream's answer has no choices[0].message.");
        }
        String id = messageId(requestId);
        ArrayNode content = NODES.arrayNode();
        String reasoning = AnthropicRequest.text(message.get("reasoning_content"));
        if (reasoning != null && !reasoning.isEmpty()) {
            content.add(thinkingBlock(reasoning));
        }
        String text = AnthropicRequest.text(message.get("content"));
        if (text == null || text.isEmpty()) {
            text = AnthropicRequest.text(message.get("refusal"));
        }
        if (text != null && !text.isEmpty()) {
            content.addObject().put("type", "text").put("text", text);
        }
        JsonNode calls = message.path("tool_calls");
        for (int k = 0; k < calls.size(); k++) {
            JsonNode call = calls.get(k);
            content.add(toolUse(
                    toolUseId(AnthropicRequest.text(call.get("id")), id, k),
                    call.path("function").path("name").asText(""),
                    call.path("function").path("arguments").asText("")));
        }
        Usage usage = UsageParser.parse(completion.path("usage"));
        if (usage == null) {
            usage = Usage.ZERO;
        }
        ObjectNode out = NODES.objectNode();
        out.put("id", id);
        out.put("type", "message");
        out.put("role", "assistant");
        out.put("model", clientModel);
        out.set("content", content);
        out.put("stop_reason", stopReason(AnthropicRequest.text(choice.get("finish_reason"))));
        out.putNull("stop_sequence");
        out.set("usage", usage(usage));
        return new Message(out, usage);
    }

    /**
     * Anthropic's {@code stop_reason} for OpenAI's {@code finish_reason}: {@code stop} (and null,
     * and anything unknown) → {@code end_turn}; {@code length} → {@code max_tokens}; {@code
     * tool_calls} and {@code function_call} → {@code tool_use}; {@code content_filter} → {@code
     * refusal}. Shared with {@link MessagesStream}.
     */
    public static String stopReason(@Nullable String finishReason) {
        if (finishReason == null) {
            return "end_turn";
        }
        return switch (finishReason) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> "end_turn";
        };
    }

    /**
     * The Anthropic message id for a gateway request id: {@code req_abc} → {@code msg_abc}, so the
     * id the client logs leads to the gateway's audit record.
     */
    public static String messageId(String requestId) {
        return "msg_" + (requestId.startsWith("req_") ? requestId.substring(4) : requestId);
    }

    /** Anthropic's {@code usage} object for OpenAI's counts. */
    public static ObjectNode usage(Usage usage) {
        ObjectNode u = NODES.objectNode();
        u.put("input_tokens", usage.promptTokens() - usage.cachedPromptTokens());
        u.put("cache_creation_input_tokens", 0);
        u.put("cache_read_input_tokens", usage.cachedPromptTokens());
        u.put("output_tokens", usage.completionTokens());
        return u;
    }

    static ObjectNode thinkingBlock(String thinking) {
        return NODES.objectNode()
                .put("type", "thinking")
                .put("thinking", thinking)
                .put("signature", "");
    }

    static ObjectNode toolUse(String id, String name, String arguments) {
        ObjectNode block =
                NODES.objectNode().put("type", "tool_use").put("id", id).put("name", name);
        block.set("input", input(arguments));
        return block;
    }

    /** A tool call's arguments as a tool_use {@code input}: the object they say, else {@code {}} (see the class doc). */
    static ObjectNode input(String arguments) {
        if (arguments.isBlank()) {
            return NODES.objectNode();
        }
        try {
            JsonNode parsed = Json.MAPPER.readTree(arguments);
            return parsed != null && parsed.isObject() ? (ObjectNode) parsed : NODES.objectNode();
        } catch (JsonProcessingException e) {
            return NODES.objectNode();
        }
    }

    /** The upstream's tool call id, or one made from the message id when it gave none. */
    static String toolUseId(@Nullable String upstreamId, String messageId, int index) {
        if (upstreamId != null && !upstreamId.isEmpty()) {
            return upstreamId;
        }
        return "toolu_" + messageId.substring("msg_".length()) + "_" + index;
    }
}
