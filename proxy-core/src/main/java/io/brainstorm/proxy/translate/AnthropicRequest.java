package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An OpenAI chat-completions request body, as the client sent it, turned into the body of Anthropic's
 * {@code POST /v1/messages}, plus the headers that call needs. The outbound half of the {@code
 * anthropic} provider type (issue 13); {@link AnthropicResponse} and {@link AnthropicErrors} are the
 * way back.
 *
 * <p><b>Calling it:</b> {@link #translate(JsonNode, String, int)} once per attempt on an Anthropic
 * endpoint, with the upstream model name and the catalog's default output limit; send {@link
 * Translation#body()} with {@link #headers(String, String, String, Set)}. Keep the {@link Translation}: its
 * {@link Translation#forcedTool()} goes to {@link AnthropicResponse#translate} so a {@code
 * response_format} answer comes back as content, and {@link Translation#stream()} / {@link
 * Translation#includeUsage()} say what the client asked to see.
 *
 * <p><b>Mapping</b> (fields not listed are dropped, since Anthropic refuses unknown fields):
 *
 * <ul>
 *   <li>{@code system} and {@code developer} messages, wherever they stand, become the top-level
 *       {@code system} text blocks, in order;
 *   <li>{@code max_completion_tokens}, else {@code max_tokens}, else the caller's default, becomes
 *       {@code max_tokens};
 *   <li>{@code stop} (a string or a list) becomes {@code stop_sequences}; {@code user} becomes {@code
 *       metadata.user_id}; {@code temperature} (0 to 1 here, not OpenAI's 0 to 2) and {@code top_p}
 *       are carried; {@code stream: true} is carried;
 *   <li>function {@code tools} become {@code {name, description, input_schema}} ({@code strict} is
 *       dropped); {@code tool_choice} {@code auto}/{@code required}/{@code none}/named becomes
 *       {@code auto}/{@code any}/{@code none}/{@code {type: tool, name}}; {@code
 *       parallel_tool_calls: false} sets {@code disable_parallel_tool_use} on it;
 *   <li>user text and {@code image_url} parts become text and image blocks ({@code data:} URLs a
 *       base64 source, http(s) URLs a url source; {@code detail} is dropped); assistant {@code
 *       tool_calls} become {@code tool_use} blocks after the assistant's text; {@code tool}
 *       messages become {@code tool_result} blocks in a user turn. Consecutive turns of one role are
 *       merged into one (Anthropic wants them alternating), a user turn's {@code tool_result} blocks
 *       first as Anthropic requires; a conversation that opens with the assistant gets a user turn
 *       {@value #OPENING_USER_TEXT} before it; one that ends with the assistant (which Anthropic
 *       continues rather than answers) loses that turn's trailing whitespace, which Anthropic
 *       refuses. An assistant's {@code reasoning_content} and a message's {@code name} are dropped:
 *       Anthropic's thinking blocks need a signature the client never saw;
 *   <li>{@code response_format} {@code json_schema} becomes a tool named after the schema, with the
 *       schema (an object schema) as its input schema, forced by {@code tool_choice}; {@code
 *       json_object} becomes the same with the tool {@value #JSON_OBJECT_TOOL} and schema {@code
 *       {"type":"object"}}, since Anthropic has no JSON mode and a tool's input is always a JSON
 *       object. The tool's name is {@link Translation#forcedTool()}; the answer's tool input becomes
 *       its content. Not together with client {@code tools};
 *   <li>{@code reasoning_effort} {@code low}/{@code medium}/{@code high} becomes {@code thinking:
 *       {type: enabled, budget_tokens}} with {@value #LOW_BUDGET}/{@value #MEDIUM_BUDGET}/{@value
 *       #HIGH_BUDGET} tokens, lowered to {@code max_tokens - 1} when the limit is smaller (both count
 *       thinking as output, like OpenAI's {@code max_completion_tokens}), never below Anthropic's
 *       minimum {@value #MIN_BUDGET}; {@code minimal} and {@code none} mean no thinking.
 * </ul>
 *
 * <p>Ignored, because ignoring them changes nothing a client may rely on: {@code seed} (best effort
 * at OpenAI too), {@code store}, {@code metadata}, {@code service_tier}, {@code stream_options}
 * (read into {@link Translation#includeUsage()}), {@code n: 1}, zero penalties, an empty {@code
 * logit_bias}, {@code logprobs: false}.
 *
 * <p><b>Errors:</b> what Anthropic cannot honour is refused before any byte goes upstream with
 * {@link ApiError#invalidRequest} (400, OpenAI's shape), naming the parameter and the value: {@code
 * n} above 1, non-zero {@code presence_penalty} / {@code frequency_penalty}, a non-empty {@code
 * logit_bias}, {@code logprobs: true} or {@code top_logprobs}, {@code temperature} above 1, tool
 * call arguments that are not a JSON object, content parts other than text and images, image URLs of
 * another kind, {@code reasoning_effort} with a forced tool or a {@code temperature} other than 1 or
 * {@code top_p} under 0.95 (Anthropic's rules for thinking), and a request with no user or
 * assistant message.
 *
 * <p><b>Threading:</b> stateless; the input tree is only read, the output is a new tree.
 */
public final class AnthropicRequest {
    /** The {@code anthropic-version} header every call sends. */
    public static final String VERSION = "2023-06-01";

    /** The forced tool that stands for {@code response_format: json_object}. */
    public static final String JSON_OBJECT_TOOL = "json_object";

    /** The text of the user turn put before a conversation that opens with the assistant. */
    static final String OPENING_USER_TEXT = "(start)";

    static final int MIN_BUDGET = 1024;
    static final int LOW_BUDGET = 1024;
    static final int MEDIUM_BUDGET = 4096;
    static final int HIGH_BUDGET = 16384;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Set<String> MEDIA_TYPES = Set.of("image/jpeg", "image/png", "image/gif", "image/webp");

    private AnthropicRequest() {}

    /**
     * What one translation gives the caller.
     *
     * @param body           the {@code /v1/messages} body, {@code model} set to the upstream name
     * @param stream         the client asked for a stream ({@code body} then has {@code stream: true})
     * @param includeUsage   the client asked for the usage chunk ({@code stream_options.include_usage})
     * @param forcedTool     the tool that carries a {@code response_format} answer, else null: pass it to
     *                       {@link AnthropicResponse#translate}
     * @param thinkingBudget the {@code budget_tokens} sent, or 0 for no thinking
     */
    public record Translation(
            ObjectNode body,
            boolean stream,
            boolean includeUsage,
            @Nullable String forcedTool,
            int thinkingBudget) {}

    /**
     * The Anthropic request for an OpenAI chat-completions body.
     *
     * @param openAi           the client's body, as parsed; not modified
     * @param upstreamModel    the model name Anthropic knows
     * @param defaultMaxTokens the output limit when the client gives none (the catalog's), above 0
     * @throws ApiError (400) when the request asks for what Anthropic cannot do; see the class doc
     */
    public static Translation translate(JsonNode openAi, String upstreamModel, int defaultMaxTokens) {
        if (defaultMaxTokens <= 0) {
            throw new IllegalArgumentException("defaultMaxTokens: " + defaultMaxTokens + " (expected: > 0)");
        }
        if (!openAi.isObject()) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        refuseUnsupported(openAi);

        ObjectNode out = NODES.objectNode();
        out.put("model", upstreamModel);

        String maxParam = openAi.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens = defaultMaxTokens;
        JsonNode max = openAi.get(maxParam);
        if (max != null && !max.isNull()) {
            if (!max.canConvertToInt() || !max.isIntegralNumber() || max.intValue() <= 0) {
                throw ApiError.invalidRequest(maxParam, maxParam + ": " + max + " (expected: an integer > 0)");
            }
            maxTokens = max.intValue();
        } else {
            maxParam = "max_completion_tokens";
        }
        out.put("max_tokens", maxTokens);

        Conversation conversation = Conversation.of(openAi.get("messages"));
        if (!conversation.system().isEmpty()) {
            out.set("system", conversation.system());
        }
        out.set("messages", conversation.turns());

        JsonNode stop = openAi.get("stop");
        if (stop != null && !stop.isNull()) {
            out.set("stop_sequences", stopSequences(stop));
        }
        JsonNode user = openAi.get("user");
        if (user != null && user.isTextual()) {
            out.putObject("metadata").put("user_id", user.textValue());
        }
        JsonNode temperature = number(openAi, "temperature");
        if (temperature != null) {
            if (temperature.doubleValue() < 0 || temperature.doubleValue() > 1) {
                throw ApiError.invalidRequest(
                        "temperature",
                        "temperature: " + temperature + " (expected: between 0 and 1 for Anthropic models)");
            }
            out.set("temperature", temperature);
        }
        JsonNode topP = number(openAi, "top_p");
        if (topP != null) {
            out.set("top_p", topP);
        }

        ArrayNode tools = tools(openAi.get("tools"));
        ObjectNode toolChoice = toolChoice(openAi.get("tool_choice"));
        String forcedTool = null;
        JsonNode responseFormat = openAi.get("response_format");
        if (responseFormat != null && !responseFormat.isNull()) {
            ObjectNode tool = responseFormatTool(responseFormat);
            if (tool != null) {
                if (!tools.isEmpty()) {
                    throw ApiError.invalidRequest(
                            "response_format",
                            "response_format: " + responseFormat.path("type").asText()
                                    + " together with tools (expected: one of them for Anthropic models)");
                }
                forcedTool = tool.get("name").textValue();
                tools.add(tool);
                toolChoice = NODES.objectNode().put("type", "tool").put("name", forcedTool);
            }
        }
        JsonNode parallel = openAi.get("parallel_tool_calls");
        if (parallel != null && parallel.isBoolean() && !parallel.booleanValue() && !tools.isEmpty()) {
            if (toolChoice == null) {
                toolChoice = NODES.objectNode().put("type", "auto");
            }
            if (!"none".equals(toolChoice.get("type").textValue())) {
                toolChoice.put("disable_parallel_tool_use", true);
            }
        }
        if (!tools.isEmpty()) {
            out.set("tools", tools);
        }
        if (toolChoice != null) {
            out.set("tool_choice", toolChoice);
        }

        int budget = thinkingBudget(openAi, maxTokens, maxParam, toolChoice, temperature, topP);
        if (budget > 0) {
            out.putObject("thinking").put("type", "enabled").put("budget_tokens", budget);
        }

        boolean stream = openAi.path("stream").asBoolean(false);
        if (stream) {
            out.put("stream", true);
        }
        boolean includeUsage =
                stream && openAi.path("stream_options").path("include_usage").asBoolean(false);
        return new Translation(out, stream, includeUsage, forcedTool, budget);
    }

    /**
     * The headers of a call to Anthropic: {@code x-api-key}, {@code anthropic-version} ({@code version},
     * {@link #VERSION} unless the account says otherwise) and, when the
     * client sent {@code anthropic-beta}, the flags of it that {@code allowedBetas} names (a
     * comma-separated list, as Anthropic reads it); a flag outside the list is dropped, not refused.
     * The caller adds {@code content-type}.
     *
     * @param clientBeta the client's {@code anthropic-beta} header, or null
     */
    public static Map<String, String> headers(
            String apiKey, String version, @Nullable String clientBeta, Set<String> allowedBetas) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-api-key", apiKey);
        headers.put("anthropic-version", version);
        if (clientBeta != null) {
            List<String> kept = new ArrayList<>();
            for (String flag : clientBeta.split(",", -1)) {
                String f = flag.trim();
                if (!f.isEmpty() && allowedBetas.contains(f) && !kept.contains(f)) {
                    kept.add(f);
                }
            }
            if (!kept.isEmpty()) {
                headers.put("anthropic-beta", String.join(",", kept));
            }
        }
        return headers;
    }

    private static void refuseUnsupported(JsonNode openAi) {
        JsonNode n = openAi.get("n");
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.intValue() == 1)) {
            throw ApiError.invalidRequest("n", "n: " + n + " (expected: 1; Anthropic models give one choice)");
        }
        for (String penalty : new String[] {"presence_penalty", "frequency_penalty"}) {
            JsonNode p = openAi.get(penalty);
            if (p != null && !p.isNull() && !(p.isNumber() && p.doubleValue() == 0)) {
                throw ApiError.invalidRequest(
                        penalty, penalty + ": " + p + " (expected: 0; Anthropic models have no penalties)");
            }
        }
        JsonNode bias = openAi.get("logit_bias");
        if (bias != null && !bias.isNull() && !(bias.isObject() && bias.isEmpty())) {
            throw ApiError.invalidRequest(
                    "logit_bias", "logit_bias: " + bias + " (expected: none; Anthropic models take no logit bias)");
        }
        JsonNode logprobs = openAi.get("logprobs");
        if (logprobs != null && logprobs.asBoolean(false)) {
            throw ApiError.invalidRequest(
                    "logprobs", "logprobs: " + logprobs + " (expected: false; Anthropic models give no logprobs)");
        }
        JsonNode top = openAi.get("top_logprobs");
        if (top != null && !top.isNull()) {
            throw ApiError.invalidRequest(
                    "top_logprobs", "top_logprobs: " + top + " (expected: none; Anthropic models give no logprobs)");
        }
    }

    private static @Nullable JsonNode number(JsonNode openAi, String field) {
        JsonNode v = openAi.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiError.invalidRequest(field, field + ": " + v + " (expected: a number)");
        }
        return v;
    }

    private static ArrayNode stopSequences(JsonNode stop) {
        ArrayNode sequences = NODES.arrayNode();
        if (stop.isTextual()) {
            sequences.add(stop.textValue());
            return sequences;
        }
        if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiError.invalidRequest("stop", "stop: " + stop + " (expected: a string or a list of them)");
                }
                sequences.add(s.textValue());
            }
            return sequences;
        }
        throw ApiError.invalidRequest("stop", "stop: " + stop + " (expected: a string or a list of them)");
    }

    private static ArrayNode tools(@Nullable JsonNode tools) {
        ArrayNode out = NODES.arrayNode();
        if (tools == null || tools.isNull()) {
            return out;
        }
        if (!tools.isArray()) {
            throw ApiError.invalidRequest("tools", "tools: " + tools.getNodeType() + " (expected: a list)");
        }
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            JsonNode function = tool.get("function");
            String name = function == null ? null : text(function.get("name"));
            if (!"function".equals(text(tool.get("type"))) || name == null) {
                throw ApiError.invalidRequest(
                        "tools", "tools[" + i + "]: " + tool.path("type") + " (expected: a function tool with a name)");
            }
            ObjectNode t = out.addObject();
            t.put("name", name);
            String description = text(function.get("description"));
            if (description != null) {
                t.put("description", description);
            }
            JsonNode parameters = function.get("parameters");
            t.set(
                    "input_schema",
                    parameters != null && parameters.isObject()
                            ? parameters.deepCopy()
                            : NODES.objectNode().put("type", "object").set("properties", NODES.objectNode()));
        }
        return out;
    }

    private static @Nullable ObjectNode toolChoice(@Nullable JsonNode choice) {
        if (choice == null || choice.isNull()) {
            return null;
        }
        if (choice.isTextual()) {
            switch (choice.textValue()) {
                case "auto":
                    return NODES.objectNode().put("type", "auto");
                case "required":
                    return NODES.objectNode().put("type", "any");
                case "none":
                    return NODES.objectNode().put("type", "none");
                default:
                    break;
            }
        } else if (choice.isObject()) {
            String name = text(choice.path("function").get("name"));
            if ("function".equals(text(choice.get("type"))) && name != null) {
                return NODES.objectNode().put("type", "tool").put("name", name);
            }
        }
        throw ApiError.invalidRequest(
                "tool_choice",
                "tool_choice: " + choice + " (expected: \"auto\", \"required\", \"none\" or a named function)");
    }

    private static @Nullable ObjectNode responseFormatTool(JsonNode format) {
        String type = text(format.get("type"));
        if ("text".equals(type)) {
            return null;
        }
        if ("json_object".equals(type)) {
            ObjectNode tool = NODES.objectNode().put("name", JSON_OBJECT_TOOL);
            tool.put("description", "Answer with a JSON object.");
            tool.putObject("input_schema").put("type", "object");
            return tool;
        }
        if ("json_schema".equals(type)) {
            JsonNode spec = format.path("json_schema");
            String name = text(spec.get("name"));
            JsonNode schema = spec.get("schema");
            if (name == null) {
                throw ApiError.invalidRequest(
                        "response_format", "response_format.json_schema.name: missing (expected: a name)");
            }
            if (schema == null || !"object".equals(text(schema.get("type")))) {
                throw ApiError.invalidRequest(
                        "response_format",
                        "response_format.json_schema.schema: " + (schema == null ? "missing" : schema.path("type"))
                                + " (expected: a schema of type object for Anthropic models)");
            }
            ObjectNode tool = NODES.objectNode().put("name", name);
            String description = text(spec.get("description"));
            tool.put("description", description != null ? description : "Answer with JSON that fits this schema.");
            tool.set("input_schema", schema.deepCopy());
            return tool;
        }
        throw ApiError.invalidRequest(
                "response_format",
                "response_format.type: " + format.path("type") + " (expected: text, json_object or json_schema)");
    }

    private static int thinkingBudget(
            JsonNode openAi,
            int maxTokens,
            String maxParam,
            @Nullable ObjectNode toolChoice,
            @Nullable JsonNode temperature,
            @Nullable JsonNode topP) {
        JsonNode effort = openAi.get("reasoning_effort");
        if (effort == null || effort.isNull()) {
            return 0;
        }
        int budget;
        switch (effort.asText().toLowerCase(Locale.ROOT)) {
            case "none":
            case "minimal":
                return 0;
            case "low":
                budget = LOW_BUDGET;
                break;
            case "medium":
                budget = MEDIUM_BUDGET;
                break;
            case "high":
                budget = HIGH_BUDGET;
                break;
            default:
                throw ApiError.invalidRequest(
                        "reasoning_effort",
                        "reasoning_effort: " + effort + " (expected: none, minimal, low, medium or high)");
        }
        String forced = toolChoice == null ? null : text(toolChoice.get("type"));
        if ("any".equals(forced) || "tool".equals(forced)) {
            throw ApiError.invalidRequest(
                    "reasoning_effort",
                    "reasoning_effort: " + effort + " with a forced tool (tool_choice required or named, or"
                            + " response_format json) (expected: one of them; Anthropic thinks only with tool_choice"
                            + " auto or none)");
        }
        if (temperature != null && temperature.doubleValue() != 1) {
            throw ApiError.invalidRequest(
                    "temperature",
                    "temperature: " + temperature + " with reasoning_effort (expected: 1 or none; Anthropic"
                            + " thinks only at temperature 1)");
        }
        if (topP != null && topP.doubleValue() < 0.95) {
            throw ApiError.invalidRequest(
                    "top_p",
                    "top_p: " + topP + " with reasoning_effort (expected: between 0.95 and 1 for Anthropic"
                            + " thinking)");
        }
        budget = Math.min(budget, maxTokens - 1);
        if (budget < MIN_BUDGET) {
            throw ApiError.invalidRequest(
                    maxParam,
                    maxParam + ": " + maxTokens + " with reasoning_effort " + effort.asText() + " (expected: > "
                            + MIN_BUDGET + ", Anthropic's least thinking budget)");
        }
        return budget;
    }

    static @Nullable String text(@Nullable JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    /** The messages, split into the top-level system blocks and alternating user/assistant turns. */
    record Conversation(ArrayNode system, ArrayNode turns) {

        static Conversation of(@Nullable JsonNode messages) {
            if (messages == null || !messages.isArray()) {
                throw ApiError.invalidRequest("messages", "messages: missing (expected: a list of messages)");
            }
            ArrayNode system = NODES.arrayNode();
            ArrayNode turns = NODES.arrayNode();
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String where = "messages[" + i + "]";
                String role = text(m.get("role"));
                if (role == null) {
                    throw ApiError.invalidRequest("messages", where + ".role: missing (expected: a role)");
                }
                switch (role) {
                    case "system":
                    case "developer":
                        textParts(m.get("content"), where, system);
                        break;
                    case "user":
                        append(turns, "user", userBlocks(m.get("content"), where));
                        break;
                    case "assistant":
                        append(turns, "assistant", assistantBlocks(m, where));
                        break;
                    case "tool":
                        append(turns, "user", toolResult(m, where));
                        break;
                    default:
                        throw ApiError.invalidRequest(
                                "messages",
                                where + ".role: \"" + role + "\" (expected: system, developer, user, assistant or"
                                        + " tool)");
                }
            }
            if (turns.isEmpty()) {
                throw ApiError.invalidRequest(
                        "messages", "messages: no user or assistant message (expected: at least one)");
            }
            if ("assistant".equals(turns.get(0).get("role").textValue())) {
                ObjectNode opening = NODES.objectNode().put("role", "user");
                opening.putArray("content").addObject().put("type", "text").put("text", OPENING_USER_TEXT);
                turns.insert(0, opening);
            }
            trimFinalAssistantText(turns);
            return new Conversation(system, turns);
        }

        /**
         * A conversation that ends with the assistant asks Anthropic to continue that turn, and
         * Anthropic refuses one whose last text ends in whitespace: the trailing whitespace goes.
         */
        private static void trimFinalAssistantText(ArrayNode turns) {
            JsonNode last = turns.get(turns.size() - 1);
            if (!"assistant".equals(last.get("role").textValue())) {
                return;
            }
            ArrayNode content = (ArrayNode) last.get("content");
            JsonNode block = content.get(content.size() - 1);
            if (!"text".equals(text(block.get("type")))) {
                return;
            }
            String trimmed = block.get("text").textValue().stripTrailing();
            if (!trimmed.isEmpty()) {
                ((ObjectNode) block).put("text", trimmed);
                return;
            }
            // Anthropic refuses an empty text block too
            content.remove(content.size() - 1);
            if (content.isEmpty()) {
                turns.remove(turns.size() - 1);
            }
        }

        /** Adds {@code blocks} as a turn of {@code role}, or to the last turn when it has that role. */
        private static void append(ArrayNode turns, String role, ArrayNode blocks) {
            if (blocks.isEmpty()) {
                return;
            }
            JsonNode last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
            if (last != null && role.equals(last.get("role").textValue())) {
                ArrayNode content = (ArrayNode) last.get("content");
                content.addAll(blocks);
                if ("user".equals(role)) {
                    toolResultsFirst(content);
                }
                return;
            }
            ObjectNode turn = turns.addObject().put("role", role);
            turn.set("content", blocks);
        }

        /** Anthropic wants a user turn's tool results before its other blocks; the order is otherwise kept. */
        private static void toolResultsFirst(ArrayNode content) {
            List<JsonNode> results = new ArrayList<>();
            List<JsonNode> others = new ArrayList<>();
            for (JsonNode block : content) {
                ("tool_result".equals(text(block.get("type"))) ? results : others).add(block);
            }
            content.removeAll();
            content.addAll(results);
            content.addAll(others);
        }

        private static void textParts(@Nullable JsonNode content, String where, ArrayNode into) {
            if (content == null || content.isNull()) {
                return;
            }
            if (content.isTextual()) {
                if (!content.textValue().isEmpty()) {
                    into.addObject().put("type", "text").put("text", content.textValue());
                }
                return;
            }
            if (!content.isArray()) {
                throw ApiError.invalidRequest(
                        "messages", where + ".content: " + content.getNodeType() + " (expected: a string or parts)");
            }
            for (int j = 0; j < content.size(); j++) {
                JsonNode part = content.get(j);
                String text = text(part.get("text"));
                if (!"text".equals(text(part.get("type"))) || text == null) {
                    throw ApiError.invalidRequest(
                            "messages", where + ".content[" + j + "].type: " + part.path("type") + " (expected: text)");
                }
                if (!text.isEmpty()) {
                    into.addObject().put("type", "text").put("text", text);
                }
            }
        }

        private static ArrayNode userBlocks(@Nullable JsonNode content, String where) {
            ArrayNode blocks = NODES.arrayNode();
            if (content == null || !content.isArray()) {
                textParts(content, where, blocks);
                return blocks;
            }
            for (int j = 0; j < content.size(); j++) {
                JsonNode part = content.get(j);
                String type = text(part.get("type"));
                if ("image_url".equals(type)) {
                    blocks.add(image(part.path("image_url").get("url"), where + ".content[" + j + "]"));
                } else if ("text".equals(type) && part.get("text") != null) {
                    String text = part.get("text").asText();
                    if (!text.isEmpty()) {
                        blocks.addObject().put("type", "text").put("text", text);
                    }
                } else {
                    throw ApiError.invalidRequest(
                            "messages",
                            where + ".content[" + j + "].type: " + part.path("type")
                                    + " (expected: text or image_url for Anthropic models)");
                }
            }
            return blocks;
        }

        private static ObjectNode image(@Nullable JsonNode urlNode, String where) {
            String url = text(urlNode);
            ObjectNode block = NODES.objectNode().put("type", "image");
            if (url != null && url.startsWith("data:")) {
                int comma = url.indexOf(',');
                String meta = comma < 0 ? "" : url.substring(5, comma);
                int semi = meta.indexOf(';');
                String mediaType = (semi < 0 ? meta : meta.substring(0, semi)).toLowerCase(Locale.ROOT);
                if (comma < 0 || !meta.endsWith(";base64") || !MEDIA_TYPES.contains(mediaType)) {
                    throw ApiError.invalidRequest(
                            "messages",
                            where + ".image_url.url: data:" + (comma < 0 ? "" : meta) + ",…"
                                    + " (expected: base64 data of image/jpeg, image/png, image/gif or image/webp)");
                }
                block.putObject("source")
                        .put("type", "base64")
                        .put("media_type", mediaType)
                        .put("data", url.substring(comma + 1));
                return block;
            }
            String lower = url == null ? "" : url.toLowerCase(Locale.ROOT);
            if (url == null || !(lower.startsWith("https://") || lower.startsWith("http://"))) {
                throw ApiError.invalidRequest(
                        "messages",
                        where + ".image_url.url: " + (url == null ? "missing" : shorten(url))
                                + " (expected: a data: URL or an http(s) URL)");
            }
            block.putObject("source").put("type", "url").put("url", url);
            return block;
        }

        private static ArrayNode assistantBlocks(JsonNode m, String where) {
            ArrayNode blocks = NODES.arrayNode();
            JsonNode content = m.get("content");
            if (content != null && content.isArray()) {
                for (int j = 0; j < content.size(); j++) {
                    JsonNode part = content.get(j);
                    String type = text(part.get("type"));
                    String text = "refusal".equals(type) ? text(part.get("refusal")) : text(part.get("text"));
                    if (!("text".equals(type) || "refusal".equals(type)) || text == null) {
                        throw ApiError.invalidRequest(
                                "messages",
                                where + ".content[" + j + "].type: " + part.path("type") + " (expected: text)");
                    }
                    if (!text.isEmpty()) {
                        blocks.addObject().put("type", "text").put("text", text);
                    }
                }
            } else {
                textParts(content, where, blocks);
            }
            JsonNode calls = m.get("tool_calls");
            if (calls != null && calls.isArray()) {
                for (int k = 0; k < calls.size(); k++) {
                    blocks.add(toolUse(calls.get(k), where + ".tool_calls[" + k + "]"));
                }
            }
            return blocks;
        }

        private static ObjectNode toolUse(JsonNode call, String where) {
            String id = text(call.get("id"));
            String name = text(call.path("function").get("name"));
            if (id == null || name == null) {
                throw ApiError.invalidRequest(
                        "messages", where + ": " + (id == null ? "id" : "function.name") + " missing (expected: one)");
            }
            JsonNode arguments = call.path("function").get("arguments");
            JsonNode input;
            if (arguments == null
                    || arguments.isNull()
                    || arguments.isTextual() && arguments.textValue().isBlank()) {
                input = NODES.objectNode();
            } else if (arguments.isTextual()) {
                try {
                    input = Json.MAPPER.readTree(arguments.textValue());
                } catch (JsonProcessingException e) {
                    throw ApiError.invalidRequest(
                            "messages",
                            where + ".function.arguments: " + shorten(arguments.textValue())
                                    + " (expected: a JSON object)");
                }
            } else {
                input = arguments;
            }
            if (input == null || !input.isObject()) {
                throw ApiError.invalidRequest(
                        "messages",
                        where + ".function.arguments: "
                                + shorten(arguments.isTextual() ? arguments.textValue() : arguments.toString())
                                + " (expected: a JSON object)");
            }
            ObjectNode block =
                    NODES.objectNode().put("type", "tool_use").put("id", id).put("name", name);
            block.set("input", input.deepCopy());
            return block;
        }

        private static ArrayNode toolResult(JsonNode m, String where) {
            String id = text(m.get("tool_call_id"));
            if (id == null) {
                throw ApiError.invalidRequest(
                        "messages", where + ".tool_call_id: missing (expected: the id of the tool call answered)");
            }
            ObjectNode block = NODES.objectNode().put("type", "tool_result").put("tool_use_id", id);
            JsonNode content = m.get("content");
            if (content != null && content.isArray()) {
                ArrayNode parts = NODES.arrayNode();
                textParts(content, where, parts);
                block.set("content", parts);
            } else {
                block.put("content", content == null || content.isNull() ? "" : content.asText());
            }
            ArrayNode blocks = NODES.arrayNode();
            blocks.add(block);
            return blocks;
        }

        private static String shorten(String s) {
            return s.length() <= 60 ? '"' + s + '"' : '"' + s.substring(0, 60) + "…\"";
        }
    }
}
