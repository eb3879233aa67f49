package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The answer to {@code POST /v1/messages/count_tokens}, {@code {"input_tokens": N}}, <em>estimated</em>
 * without a tokenizer: the gateway carries none (a tokenizer per model family would cost more than
 * the rest of the request path), so N is {@link ParsedRequest#estimateTokens(byte[])}, the rule the
 * gateway reserves budgets with, applied to what the model reads: the system prompt, each message's
 * text, tool calls (name and input JSON) and tool results, and each tool definition (name,
 * description and input schema JSON), plus {@value #IMAGE_TOKENS} per image. That rule errs high
 * (about a token per 3 characters where English runs near 4), so a client that compacts its
 * context by this count does so early rather than late. Thinking blocks count nothing: the
 * translation to OpenAI-type models drops them, and Anthropic does not count earlier turns'
 * thinking either.
 *
 * <p><b>Errors:</b> {@link ApiError#invalidRequest} (400) for a body that is not an object or has
 * no {@code messages} list, as {@code count_tokens} requires them.
 *
 * <p><b>Threading:</b> stateless.
 */
public final class MessagesTokenCount {
    /**
     * Tokens counted per image: about what Anthropic's vision guide gives its largest image that is
     * not scaled down (width × height / 750 for about 1.15 megapixels); the image's bytes say
     * nothing about its pixel size without decoding it.
     */
    public static final int IMAGE_TOKENS = 1600;

    private MessagesTokenCount() {}

    /** {@code {"input_tokens": N}} for a {@code count_tokens} body. */
    public static ObjectNode answer(JsonNode body) {
        return Json.MAPPER.createObjectNode().put("input_tokens", estimate(body));
    }

    /**
     * The estimated input tokens of a Messages request (a {@code count_tokens} body, or a {@code
     * /v1/messages} one).
     *
     * @throws ApiError (400) when {@code body} is not an object with a {@code messages} list
     */
    public static long estimate(JsonNode body) {
        if (!body.isObject()) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray()) {
            throw ApiError.invalidRequest(
                    "messages", "messages: " + MessagesRequest.describe(messages) + " (expected: a list of messages)");
        }
        Text text = new Text();
        blocks(body.get("system"), text);
        for (JsonNode m : messages) {
            blocks(m.get("content"), text);
        }
        for (JsonNode tool : body.path("tools")) {
            text.add(tool.get("name"));
            text.add(tool.get("description"));
            text.json(tool.get("input_schema"));
        }
        return ParsedRequest.estimateTokens(text.sb.toString().getBytes(StandardCharsets.UTF_8))
                + (long) IMAGE_TOKENS * text.images;
    }

    /** The readable parts of a content value: a string, or blocks. */
    private static void blocks(@Nullable JsonNode content, Text text) {
        if (content == null || content.isNull()) {
            return;
        }
        if (content.isTextual()) {
            text.add(content);
            return;
        }
        for (JsonNode block : content) {
            switch (block.path("type").asText("")) {
                case "text" -> text.add(block.get("text"));
                case "image" -> text.images++;
                case "tool_use" -> {
                    text.add(block.get("name"));
                    text.json(block.get("input"));
                }
                case "tool_result" -> blocks(block.get("content"), text);
                default -> {
                    // thinking (see the class doc); other blocks are refused when the request is sent
                }
            }
        }
    }

    /** The text gathered, one piece per line, and the images seen. */
    private static final class Text {
        final StringBuilder sb = new StringBuilder();
        int images;

        void add(@Nullable JsonNode s) {
            if (s != null && s.isTextual()) {
                sb.append(s.textValue()).append('\n');
            }
        }

        void json(@Nullable JsonNode tree) {
            if (tree != null && !tree.isNull()) {
                sb.append(Json.write(tree)).append('\n');
            }
        }
    }
}
