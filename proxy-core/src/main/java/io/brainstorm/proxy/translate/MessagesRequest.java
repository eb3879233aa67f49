package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import org.jspecify.annotations.Nullable;

/**
 * An Anthropic Messages API request body ({@code POST /v1/messages}, as Claude Code and the
 * Anthropic SDKs send it) turned into an OpenAI chat-completions body, for a {@code /v1/messages}
 * request routed to an OpenAI-type model. The inbound half of issue 13, the mirror of {@link
 * AnthropicRequest}; {@link MessagesResponse}, {@link MessagesStream} and {@link MessagesErrors} are
 * the way back.
 *
 * <p><b>Calling it:</b> {@link #translate(JsonNode)} once per request on the client's parsed body;
 * serialize {@link Translation#openAi()} and give it to the gateway's OpenAI path as if the client
 * had sent it (its {@code model} is the client's, for the router to resolve). Keep the {@link
 * Translation}: {@link Translation#stream()} says whether to answer with {@link MessagesStream}
 * or {@link MessagesResponse}, and {@link Translation#clientModel()} is the {@code model} the
 * client sees.
 *
 * <p><b>Mapping</b> (Anthropic's fields not listed are dropped: OpenAI refuses unknown fields):
 *
 * <ul>
 *   <li>{@code system} (a string or text blocks) becomes the first message, {@code role: system},
 *       its blocks joined by a blank line into one string (every OpenAI-compatible server takes a
 *       string there; not all take parts);
 *   <li>a {@code user} or {@code assistant} message with string content keeps it; block content
 *       becomes a plain string when it is one text block and content parts otherwise: {@code text}
 *       a text part, {@code image} an {@code image_url} part (a base64 source as a {@code data:}
 *       URL, a url source as its URL);
 *   <li>an assistant's {@code tool_use} blocks become its {@code tool_calls} ({@code input} as the
 *       JSON text of {@code function.arguments}), its text the content (null when it has none);
 *       its {@code thinking} and {@code redacted_thinking} blocks are dropped: an OpenAI model
 *       cannot take reasoning back as input, and their signatures mean something only to
 *       Anthropic;
 *   <li>a user's {@code tool_result} blocks become {@code role: tool} messages, in order, before
 *       the rest of that turn (OpenAI wants the tool answers right after the assistant's calls):
 *       {@code content} as a string, text blocks joined by a newline, prefixed with {@value
 *       #TOOL_ERROR_PREFIX} when {@code is_error} is true; images in a tool result (OpenAI's tool
 *       messages take text only) move to the user message that follows, after a text part naming
 *       the call ({@value #TOOL_IMAGE_NOTE} and the id);
 *   <li>{@code max_tokens} (required) becomes {@code max_tokens}: every OpenAI-compatible server
 *       reads it, and the gateway's own parse reads either; OpenAI's reasoning models (o-series,
 *       gpt-5) take only {@code max_completion_tokens}, so for those the caller renames it with
 *       {@link Translation#maxTokens()};
 *   <li>{@code stop_sequences} becomes {@code stop}; {@code temperature} and {@code top_p} are
 *       carried (Anthropic's 0 to 1 is inside OpenAI's 0 to 2); {@code metadata.user_id} becomes
 *       {@code user};
 *   <li>custom {@code tools} ({@code type} absent or {@code custom}) become function tools ({@code
 *       name}, {@code description}, {@code input_schema} as {@code parameters}); {@code
 *       tool_choice} {@code auto}/{@code any}/{@code none}/{@code tool} becomes {@code
 *       auto}/{@code required}/{@code none}/a named function, and {@code disable_parallel_tool_use:
 *       true} becomes {@code parallel_tool_calls: false}; a {@code tool_choice} without tools is
 *       dropped (OpenAI refuses it, and there is nothing to choose);
 *   <li>{@code thinking: {type: enabled, budget_tokens}} becomes {@code reasoning_effort}: below
 *       {@value AnthropicRequest#MEDIUM_BUDGET} tokens {@code low}, below {@value
 *       AnthropicRequest#HIGH_BUDGET} {@code medium}, else {@code high} (so {@link
 *       AnthropicRequest}'s budgets come back to the effort they came from); {@code disabled} and
 *       {@code adaptive} (the model decides) send none;
 *   <li>{@code stream: true} becomes {@code stream: true} with {@code stream_options:
 *       {include_usage: true}}, since the gateway settles from usage.
 * </ul>
 *
 * <p>Dropped on purpose: {@code top_k} (OpenAI has no top-k sampling; refusing it would break
 * clients that set it for a small change in sampling), {@code cache_control} on any block (OpenAI
 * caches prompt prefixes by itself), {@code service_tier}, {@code container}, {@code
 * context_management}, citations on text blocks.
 *
 * <p><b>Errors:</b> {@link ApiError#invalidRequest} (400), naming the field and what was expected,
 * for: a body that is not an object, a missing or non-positive {@code max_tokens}, missing or
 * empty {@code messages}, a role other than user and assistant, a block type the OpenAI shape
 * cannot carry ({@code document}, {@code search_result}, server tool blocks; {@code
 * messages[2].content[0].type}), a server tool ({@code web_search_20250305}, {@code
 * bash_20250124}, any {@code type} but {@code custom}: it runs at Anthropic), {@code mcp_servers},
 * a {@code thinking} budget under Anthropic's minimum {@value AnthropicRequest#MIN_BUDGET}, and an
 * unknown {@code tool_choice} or {@code thinking} type.
 *
 * <p><b>Threading:</b> stateless; the input tree is only read, the output is a new tree.
 */
public final class MessagesRequest {
    /** Put before a tool result's text when the client marked it {@code is_error}. */
    public static final String TOOL_ERROR_PREFIX = "[tool error] ";

    /** The text part before images moved out of a tool result, followed by the tool call's id. */
    public static final String TOOL_IMAGE_NOTE = "Images returned by tool call ";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private MessagesRequest() {}

    /**
     * What one translation gives the caller.
     *
     * @param openAi          the chat-completions body; {@code model} as the client wrote it
     * @param stream          the client asked for a stream of Anthropic events
     * @param clientModel     the {@code model} the client sent, for the answer's {@code model}
     * @param maxTokens       the client's {@code max_tokens}, sent as {@code max_tokens}
     * @param reasoningEffort the {@code reasoning_effort} sent, or null for none
     */
    public record Translation(
            ObjectNode openAi,
            boolean stream,
            String clientModel,
            int maxTokens,
            @Nullable String reasoningEffort) {}

    /**
     * The OpenAI request for an Anthropic Messages body.
     *
     * @param anthropic the client's body, as parsed; not modified
     * @throws ApiError (400) when the request cannot be said in OpenAI's shape; see the class doc
     */
    public static Translation translate(JsonNode anthropic) {
        if (!anthropic.isObject()) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        String model = AnthropicRequest.text(anthropic.get("model"));
        if (model == null || model.isBlank()) {
            throw ApiError.invalidRequest(
                    "model", "model: " + describe(anthropic.get("model")) + " (expected: a model name)");
        }
        JsonNode max = anthropic.get("max_tokens");
        if (max == null || !max.isIntegralNumber() || !max.canConvertToInt() || max.intValue() <= 0) {
            throw ApiError.invalidRequest(
                    "max_tokens", "max_tokens: " + describe(max) + " (expected: an integer > 0; it is required)");
        }
        JsonNode mcp = anthropic.get("mcp_servers");
        if (mcp != null && !mcp.isNull() && !(mcp.isArray() && mcp.isEmpty())) {
            throw ApiError.invalidRequest(
                    "mcp_servers",
                    "mcp_servers: given (expected: none; the MCP connector runs only at Anthropic, not on OpenAI-type"
                            + " models)");
        }

        ObjectNode out = NODES.objectNode();
        out.put("model", model);
        ArrayNode messages = out.putArray("messages");
        String system = system(anthropic.get("system"));
        if (system != null) {
            messages.addObject().put("role", "system").put("content", system);
        }
        JsonNode in = anthropic.get("messages");
        if (in == null || !in.isArray() || in.isEmpty()) {
            throw ApiError.invalidRequest(
                    "messages", "messages: " + describe(in) + " (expected: a non-empty list of messages)");
        }
        for (int i = 0; i < in.size(); i++) {
            message(in.get(i), "messages[" + i + "]", messages);
        }
        out.put("max_tokens", max.intValue());

        JsonNode stop = anthropic.get("stop_sequences");
        if (stop != null && !stop.isNull()) {
            if (!stop.isArray()) {
                throw ApiError.invalidRequest(
                        "stop_sequences", "stop_sequences: " + describe(stop) + " (expected: a list of strings)");
            }
            ArrayNode sequences = NODES.arrayNode();
            for (int i = 0; i < stop.size(); i++) {
                if (!stop.get(i).isTextual()) {
                    throw ApiError.invalidRequest(
                            "stop_sequences",
                            "stop_sequences[" + i + "]: " + describe(stop.get(i)) + " (expected: a string)");
                }
                sequences.add(stop.get(i).textValue());
            }
            if (!sequences.isEmpty()) {
                out.set("stop", sequences);
            }
        }
        for (String field : new String[] {"temperature", "top_p"}) {
            JsonNode v = anthropic.get(field);
            if (v != null && !v.isNull()) {
                if (!v.isNumber() || v.doubleValue() < 0 || v.doubleValue() > 1) {
                    throw ApiError.invalidRequest(
                            field, field + ": " + describe(v) + " (expected: a number from 0 to 1)");
                }
                out.set(field, v.deepCopy());
            }
        }
        String user = AnthropicRequest.text(anthropic.path("metadata").get("user_id"));
        if (user != null && !user.isEmpty()) {
            out.put("user", user);
        }

        ArrayNode tools = tools(anthropic.get("tools"));
        if (!tools.isEmpty()) {
            out.set("tools", tools);
        }
        toolChoice(anthropic.get("tool_choice"), out);

        String effort = reasoningEffort(anthropic.get("thinking"));
        if (effort != null) {
            out.put("reasoning_effort", effort);
        }

        JsonNode streamNode = anthropic.get("stream");
        if (streamNode != null && !streamNode.isNull() && !streamNode.isBoolean()) {
            throw ApiError.invalidRequest("stream", "stream: " + describe(streamNode) + " (expected: true or false)");
        }
        boolean stream = streamNode != null && streamNode.asBoolean(false);
        if (stream) {
            out.put("stream", true);
            out.putObject("stream_options").put("include_usage", true);
        }
        return new Translation(out, stream, model, max.intValue(), effort);
    }

    /** The system prompt as one string, or null when there is none. */
    private static @Nullable String system(@Nullable JsonNode system) {
        if (system == null || system.isNull()) {
            return null;
        }
        if (system.isTextual()) {
            return system.textValue().isEmpty() ? null : system.textValue();
        }
        if (!system.isArray()) {
            throw ApiError.invalidRequest(
                    "system", "system: " + describe(system) + " (expected: a string or text blocks)");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < system.size(); i++) {
            JsonNode block = system.get(i);
            String text = AnthropicRequest.text(block.get("text"));
            if (!"text".equals(AnthropicRequest.text(block.get("type"))) || text == null) {
                throw ApiError.invalidRequest(
                        "system", "system[" + i + "].type: " + describe(block.get("type")) + " (expected: text)");
            }
            if (text.isEmpty()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("\n\n");
            }
            sb.append(text);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private static void message(JsonNode m, String where, ArrayNode out) {
        if (!m.isObject()) {
            throw ApiError.invalidRequest("messages", where + ": " + describe(m) + " (expected: an object)");
        }
        String role = AnthropicRequest.text(m.get("role"));
        JsonNode content = m.get("content");
        if (content == null || !(content.isTextual() || content.isArray())) {
            throw ApiError.invalidRequest(
                    "messages", where + ".content: " + describe(content) + " (expected: a string or a list of blocks)");
        }
        if ("user".equals(role)) {
            user(content, where, out);
        } else if ("assistant".equals(role)) {
            assistant(content, where, out);
        } else {
            throw ApiError.invalidRequest(
                    "messages", where + ".role: " + describe(m.get("role")) + " (expected: user or assistant)");
        }
    }

    private static void user(JsonNode content, String where, ArrayNode out) {
        if (content.isTextual()) {
            out.addObject().put("role", "user").put("content", content.textValue());
            return;
        }
        ArrayNode parts = NODES.arrayNode();
        for (int j = 0; j < content.size(); j++) {
            JsonNode block = content.get(j);
            String at = where + ".content[" + j + "]";
            String type = AnthropicRequest.text(block.get("type"));
            if ("tool_result".equals(type)) {
                toolResult(block, at, out, parts);
            } else if ("text".equals(type)) {
                parts.add(textPart(block, at));
            } else if ("image".equals(type)) {
                parts.add(imagePart(block, at));
            } else {
                throw unsupportedBlock(block, at, "text, image or tool_result");
            }
        }
        if (!parts.isEmpty()) {
            out.addObject().put("role", "user").set("content", plainWhenOneText(parts));
        }
    }

    private static void toolResult(JsonNode block, String at, ArrayNode out, ArrayNode userParts) {
        String id = AnthropicRequest.text(block.get("tool_use_id"));
        if (id == null || id.isEmpty()) {
            throw ApiError.invalidRequest(
                    "messages",
                    at + ".tool_use_id: " + describe(block.get("tool_use_id")) + " (expected: the id of a tool_use)");
        }
        StringBuilder text = new StringBuilder();
        if (block.path("is_error").asBoolean(false)) {
            text.append(TOOL_ERROR_PREFIX);
        }
        JsonNode content = block.get("content");
        ArrayNode images = NODES.arrayNode();
        if (content != null && content.isTextual()) {
            text.append(content.textValue());
        } else if (content != null && content.isArray()) {
            boolean first = true;
            for (int k = 0; k < content.size(); k++) {
                JsonNode part = content.get(k);
                String partAt = at + ".content[" + k + "]";
                String type = AnthropicRequest.text(part.get("type"));
                if ("text".equals(type)) {
                    if (!first) {
                        text.append('\n');
                    }
                    text.append(textPart(part, partAt).get("text").textValue());
                    first = false;
                } else if ("image".equals(type)) {
                    images.add(imagePart(part, partAt));
                } else {
                    throw unsupportedBlock(part, partAt, "text or image");
                }
            }
        } else if (content != null && !content.isNull()) {
            throw ApiError.invalidRequest(
                    "messages", at + ".content: " + describe(content) + " (expected: a string or a list of blocks)");
        }
        out.addObject().put("role", "tool").put("tool_call_id", id).put("content", text.toString());
        if (!images.isEmpty()) {
            userParts.addObject().put("type", "text").put("text", TOOL_IMAGE_NOTE + id + ":");
            userParts.addAll(images);
        }
    }

    private static void assistant(JsonNode content, String where, ArrayNode out) {
        ObjectNode message = NODES.objectNode().put("role", "assistant");
        if (content.isTextual()) {
            message.put("content", content.textValue());
            out.add(message);
            return;
        }
        ArrayNode parts = NODES.arrayNode();
        ArrayNode calls = NODES.arrayNode();
        for (int j = 0; j < content.size(); j++) {
            JsonNode block = content.get(j);
            String at = where + ".content[" + j + "]";
            String type = AnthropicRequest.text(block.get("type"));
            if ("text".equals(type)) {
                parts.add(textPart(block, at));
            } else if ("tool_use".equals(type)) {
                calls.add(toolCall(block, at));
            } else if ("thinking".equals(type) || "redacted_thinking".equals(type)) {
                // see the class doc: reasoning is not input to an OpenAI model
                continue;
            } else {
                throw unsupportedBlock(block, at, "text, tool_use, thinking or redacted_thinking");
            }
        }
        if (parts.isEmpty() && calls.isEmpty()) {
            // a turn of thinking only: nothing an OpenAI model can read
            return;
        }
        if (parts.isEmpty()) {
            message.putNull("content");
        } else {
            message.set("content", plainWhenOneText(parts));
        }
        if (!calls.isEmpty()) {
            message.set("tool_calls", calls);
        }
        out.add(message);
    }

    private static ObjectNode toolCall(JsonNode block, String at) {
        String id = AnthropicRequest.text(block.get("id"));
        String name = AnthropicRequest.text(block.get("name"));
        if (id == null || id.isEmpty()) {
            throw ApiError.invalidRequest(
                    "messages", at + ".id: " + describe(block.get("id")) + " (expected: a tool_use id)");
        }
        if (name == null || name.isEmpty()) {
            throw ApiError.invalidRequest(
                    "messages", at + ".name: " + describe(block.get("name")) + " (expected: a tool name)");
        }
        JsonNode input = block.get("input");
        if (input != null && !input.isNull() && !input.isObject()) {
            throw ApiError.invalidRequest("messages", at + ".input: " + describe(input) + " (expected: an object)");
        }
        ObjectNode call = NODES.objectNode().put("id", id).put("type", "function");
        call.putObject("function")
                .put("name", name)
                .put("arguments", input == null || input.isNull() ? "{}" : Json.write(input));
        return call;
    }

    private static ObjectNode textPart(JsonNode block, String at) {
        JsonNode text = block.get("text");
        if (text == null || !text.isTextual()) {
            throw ApiError.invalidRequest("messages", at + ".text: " + describe(text) + " (expected: a string)");
        }
        return NODES.objectNode().put("type", "text").put("text", text.textValue());
    }

    private static ObjectNode imagePart(JsonNode block, String at) {
        JsonNode source = block.path("source");
        String type = AnthropicRequest.text(source.get("type"));
        String url;
        if ("base64".equals(type)) {
            String mediaType = AnthropicRequest.text(source.get("media_type"));
            String data = AnthropicRequest.text(source.get("data"));
            if (mediaType == null || data == null) {
                throw ApiError.invalidRequest(
                        "messages",
                        at + ".source: " + (mediaType == null ? "media_type" : "data")
                                + " missing (expected: a base64 source with media_type and data)");
            }
            url = "data:" + mediaType + ";base64," + data;
        } else if ("url".equals(type)) {
            url = AnthropicRequest.text(source.get("url"));
            if (url == null) {
                throw ApiError.invalidRequest("messages", at + ".source.url: missing (expected: an image URL)");
            }
        } else {
            throw ApiError.invalidRequest(
                    "messages",
                    at + ".source.type: " + describe(source.get("type"))
                            + " (expected: base64 or url for OpenAI-type models)");
        }
        ObjectNode part = NODES.objectNode().put("type", "image_url");
        part.putObject("image_url").put("url", url);
        return part;
    }

    /** One text part is said as a plain string, which every OpenAI-compatible server takes. */
    private static JsonNode plainWhenOneText(ArrayNode parts) {
        if (parts.size() == 1 && "text".equals(parts.get(0).path("type").asText())) {
            return parts.get(0).get("text");
        }
        return parts;
    }

    private static ArrayNode tools(@Nullable JsonNode tools) {
        ArrayNode out = NODES.arrayNode();
        if (tools == null || tools.isNull()) {
            return out;
        }
        if (!tools.isArray()) {
            throw ApiError.invalidRequest("tools", "tools: " + describe(tools) + " (expected: a list of tools)");
        }
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            JsonNode type = tool.get("type");
            String name = AnthropicRequest.text(tool.get("name"));
            if (type != null && !type.isNull() && !"custom".equals(type.asText())) {
                throw ApiError.invalidRequest(
                        "tools",
                        "tools[" + i + "]: " + describe(type) + (name == null ? "" : " (" + name + ")")
                                + " is an Anthropic server tool (expected: custom tools only; OpenAI-type models cannot"
                                + " run Anthropic's server tools)");
            }
            if (name == null || name.isEmpty()) {
                throw ApiError.invalidRequest(
                        "tools", "tools[" + i + "].name: " + describe(tool.get("name")) + " (expected: a tool name)");
            }
            JsonNode schema = tool.get("input_schema");
            if (schema == null || !schema.isObject()) {
                throw ApiError.invalidRequest(
                        "tools",
                        "tools[" + i + "].input_schema: " + describe(schema) + " (expected: a JSON schema object)");
            }
            ObjectNode function = out.addObject().put("type", "function").putObject("function");
            function.put("name", name);
            String description = AnthropicRequest.text(tool.get("description"));
            if (description != null) {
                function.put("description", description);
            }
            function.set("parameters", schema.deepCopy());
        }
        return out;
    }

    private static void toolChoice(@Nullable JsonNode choice, ObjectNode out) {
        if (choice == null || choice.isNull()) {
            return;
        }
        String type = AnthropicRequest.text(choice.get("type"));
        if (type == null) {
            throw ApiError.invalidRequest(
                    "tool_choice", "tool_choice: " + describe(choice) + " (expected: an object with a type)");
        }
        JsonNode openAi;
        switch (type) {
            case "auto" -> openAi = NODES.textNode("auto");
            case "any" -> openAi = NODES.textNode("required");
            case "none" -> openAi = NODES.textNode("none");
            case "tool" -> {
                String name = AnthropicRequest.text(choice.get("name"));
                if (name == null || name.isEmpty()) {
                    throw ApiError.invalidRequest(
                            "tool_choice", "tool_choice.name: missing (expected: the name of the tool to use)");
                }
                ObjectNode named = NODES.objectNode().put("type", "function");
                named.putObject("function").put("name", name);
                openAi = named;
            }
            default ->
                throw ApiError.invalidRequest(
                        "tool_choice",
                        "tool_choice.type: " + describe(choice.get("type")) + " (expected: auto, any, tool or none)");
        }
        if (!out.has("tools")) {
            // OpenAI refuses a tool_choice without tools; with none there is nothing to choose
            return;
        }
        out.set("tool_choice", openAi);
        if (choice.path("disable_parallel_tool_use").asBoolean(false) && !"none".equals(type)) {
            out.put("parallel_tool_calls", false);
        }
    }

    private static @Nullable String reasoningEffort(@Nullable JsonNode thinking) {
        if (thinking == null || thinking.isNull()) {
            return null;
        }
        String type = AnthropicRequest.text(thinking.get("type"));
        if ("disabled".equals(type) || "adaptive".equals(type)) {
            return null;
        }
        if (!"enabled".equals(type)) {
            throw ApiError.invalidRequest(
                    "thinking",
                    "thinking.type: " + describe(thinking.get("type")) + " (expected: enabled, disabled or adaptive)");
        }
        JsonNode budget = thinking.get("budget_tokens");
        if (budget == null
                || !budget.isIntegralNumber()
                || !budget.canConvertToInt()
                || budget.intValue() < AnthropicRequest.MIN_BUDGET) {
            throw ApiError.invalidRequest(
                    "thinking",
                    "thinking.budget_tokens: " + describe(budget) + " (expected: an integer >= "
                            + AnthropicRequest.MIN_BUDGET + ")");
        }
        int b = budget.intValue();
        if (b < AnthropicRequest.MEDIUM_BUDGET) {
            return "low";
        }
        return b < AnthropicRequest.HIGH_BUDGET ? "medium" : "high";
    }

    private static ApiError unsupportedBlock(JsonNode block, String at, String expected) {
        return ApiError.invalidRequest(
                "messages",
                at + ".type: " + describe(block.get("type")) + " (expected: " + expected + " for OpenAI-type models)");
    }

    /** A value as a message shows it: JSON text, shortened; {@code missing} for none. */
    static String describe(@Nullable JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "missing";
        }
        String s = value.toString();
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }
}
