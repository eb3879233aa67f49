package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * Decides what a simulated model says: a plain sentence, a JSON object (free or following a
 * {@code json_schema}), or a tool call, cut into pieces that stand for tokens. One piece is one
 * completion token and one streamed chunk, so usage and chunk counts always agree.
 *
 * <p>Everything is drawn from the request's {@link SplittableRandom}, so the same seed and the
 * same request order give the same answers. Under random faults (or a scripted quality) an
 * answer is made bad with probability {@code 1 - quality}: JSON is truncated, a tool call gets broken arguments or the name
 * of a tool that was never declared, and a plain answer comes back empty (no content, zero
 * completion tokens), which routing learns as a failure.
 */
final class SimAnswers {

    /** What kind of message the answer is. */
    enum Kind {
        TEXT,
        JSON,
        TOOL_CALL
    }

    /**
     * One generated answer.
     *
     * @param kind         text, JSON content or a tool call
     * @param pieces       the content (or, for a tool call, the arguments) in token-sized pieces
     * @param toolCallId   {@code call_…} for a tool call, else null
     * @param toolName     the called function, else null
     * @param finishReason {@code stop}, {@code length} or {@code tool_calls}
     */
    record Answer(
            Kind kind,
            List<String> pieces,
            @Nullable String toolCallId,
            @Nullable String toolName,
            String finishReason) {
        String text() {
            return String.join("", pieces);
        }
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_SCHEMA_DEPTH = 8;
    private static final String[] WORDS = {
        "the",
        "gateway",
        "routes",
        "each",
        "request",
        "to",
        "a",
        "simulated",
        "endpoint",
        "that",
        "answers",
        "quickly",
        "with",
        "tokens",
        "drawn",
        "from",
        "small",
        "fixed",
        "vocabulary",
        "so",
        "tests",
        "and",
        "benchmarks",
        "stay",
        "deterministic",
        "under",
        "one",
        "seed",
        "while",
        "latency",
        "price",
        "quality",
        "vary",
        "between",
        "endpoints",
        "streams",
        "arrive",
        "in",
        "order",
        "budget",
        "cost",
        "usage",
    };

    private SimAnswers() {}

    /**
     * Builds the answer to a chat request.
     *
     * @param body       the request body (already validated: {@code messages} is an array)
     * @param modelId    {@code sim/…}, named in the answer
     * @param endpointId named in the answer
     * @param rng        this request's random source
     * @param faults     whether an answer may be spoiled: random faults are on, or the request's
     *                   test hook scripts this endpoint's quality
     * @param quality    the probability of a good answer: the endpoint's, or the scripted one
     * @param chunks     exact number of pieces, or -1
     * @param maxTokens  cap on pieces, or -1 for none
     */
    static Answer chat(
            JsonNode body,
            String modelId,
            String endpointId,
            SplittableRandom rng,
            boolean faults,
            double quality,
            int chunks,
            long maxTokens,
            ObjectMapper json) {
        // drawn for every request so that a request's later draws do not depend on its kind
        boolean invalid = rng.nextDouble() >= quality;
        boolean breakName = rng.nextBoolean();
        boolean spoil = faults && invalid;

        JsonNode tool = chosenTool(body);
        if (tool != null) {
            String name = tool.path("function").path("name").asText("tool");
            String args = write(
                    json,
                    value(
                            tool.path("function").path("parameters"),
                            tool.path("function").path("parameters"),
                            rng,
                            0));
            if (spoil && breakName) {
                name = name + "_undeclared";
            } else if (spoil) {
                args = truncate(args);
            }
            List<String> pieces = chunks >= 0 ? splitEven(args, chunks) : splitChars(args, rng);
            String id = "call_sim" + hex(rng.nextLong());
            return capped(new Answer(Kind.TOOL_CALL, pieces, id, name, "tool_calls"), maxTokens);
        }

        String format = body.path("response_format").path("type").asText("text");
        if (format.equals("json_object") || format.equals("json_schema")) {
            JsonNode schema = body.path("response_format").path("json_schema").path("schema");
            JsonNode value = format.equals("json_schema") && schema.isObject()
                    ? value(schema, schema, rng, 0)
                    : freeJson(modelId, endpointId, rng);
            String text = write(json, value);
            if (spoil) {
                text = truncate(text);
            }
            List<String> pieces = chunks >= 0 ? splitEven(text, chunks) : splitChars(text, rng);
            return capped(new Answer(Kind.JSON, pieces, null, null, "stop"), maxTokens);
        }

        if (spoil) {
            return new Answer(Kind.TEXT, List.of(), null, null, "stop");
        }
        return capped(new Answer(Kind.TEXT, words(modelId, endpointId, rng, chunks), null, null, "stop"), maxTokens);
    }

    /** The tool the model calls, or null when the request has no tools or {@code tool_choice} is "none". */
    private static @Nullable JsonNode chosenTool(JsonNode body) {
        JsonNode tools = body.path("tools");
        if (!tools.isArray() || tools.isEmpty()) {
            return null;
        }
        JsonNode choice = body.path("tool_choice");
        if (choice.isTextual() && choice.asText().equals("none")) {
            return null;
        }
        String named = choice.path("function").path("name").asText(null);
        if (named != null) {
            for (JsonNode tool : tools) {
                if (named.equals(tool.path("function").path("name").asText())) {
                    return tool;
                }
            }
        }
        return tools.get(0);
    }

    private static Answer capped(Answer answer, long maxTokens) {
        if (maxTokens < 0 || answer.pieces().size() <= maxTokens) {
            return answer;
        }
        return new Answer(
                answer.kind(),
                List.copyOf(answer.pieces().subList(0, (int) maxTokens)),
                answer.toolCallId(),
                answer.toolName(),
                "length");
    }

    /** "Simulated answer from sim/x via ep: ..." as word pieces, each after the first led by a space. */
    private static List<String> words(String modelId, String endpointId, SplittableRandom rng, int chunks) {
        List<String> words = new ArrayList<>(List.of("Simulated", "answer", "from", modelId, "via", endpointId + ":"));
        int total = chunks >= 0 ? chunks : 20 + rng.nextInt(41);
        boolean capital = true;
        int sinceStop = 0;
        while (words.size() < total) {
            String word = WORDS[rng.nextInt(WORDS.length)];
            if (capital) {
                word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
            }
            sinceStop++;
            capital = words.size() == total - 1 || (sinceStop >= 6 && rng.nextInt(4) == 0);
            if (capital) {
                word += ".";
                sinceStop = 0;
            }
            words.add(word);
        }
        List<String> pieces = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            pieces.add(i == 0 ? words.get(i) : " " + words.get(i));
        }
        return pieces;
    }

    private static ObjectNode freeJson(String modelId, String endpointId, SplittableRandom rng) {
        ObjectNode node = NODES.objectNode();
        node.put("answer", String.join("", words(modelId, endpointId, rng, 10 + rng.nextInt(10))));
        node.put("model", modelId);
        node.put("endpoint", endpointId);
        node.put("simulated", true);
        node.put("confidence", Math.round(rng.nextDouble() * 100) / 100.0);
        return node;
    }

    /** A value that satisfies the common parts of a JSON Schema; the first enum value when there is one. */
    static JsonNode value(JsonNode schema, JsonNode root, SplittableRandom rng, int depth) {
        if (depth > MAX_SCHEMA_DEPTH || !schema.isObject()) {
            return depth > MAX_SCHEMA_DEPTH ? NODES.nullNode() : NODES.objectNode();
        }
        if (schema.has("$ref")) {
            return value(resolve(schema.get("$ref").asText(), root), root, rng, depth + 1);
        }
        if (schema.has("const")) {
            return schema.get("const").deepCopy();
        }
        JsonNode enumValues = schema.path("enum");
        if (enumValues.isArray() && !enumValues.isEmpty()) {
            return enumValues.get(0).deepCopy();
        }
        for (String combinator : new String[] {"anyOf", "oneOf", "allOf"}) {
            JsonNode options = schema.path(combinator);
            if (options.isArray() && !options.isEmpty()) {
                for (JsonNode option : options) {
                    if (!option.path("type").asText().equals("null")) {
                        return value(option, root, rng, depth + 1);
                    }
                }
                return NODES.nullNode();
            }
        }
        switch (type(schema)) {
            case "object": {
                ObjectNode node = NODES.objectNode();
                for (Map.Entry<String, JsonNode> property :
                        schema.path("properties").properties()) {
                    node.set(property.getKey(), value(property.getValue(), root, rng, depth + 1));
                }
                for (JsonNode required : schema.path("required")) {
                    if (!node.has(required.asText())) {
                        node.put(required.asText(), word(rng));
                    }
                }
                return node;
            }
            case "array": {
                ArrayNode node = NODES.arrayNode();
                int count = Math.max(schema.path("minItems").asInt(0), 2);
                if (schema.has("maxItems")) {
                    count = Math.min(count, schema.get("maxItems").asInt());
                }
                for (int i = 0; i < count; i++) {
                    node.add(value(schema.path("items"), root, rng, depth + 1));
                }
                return node;
            }
            case "integer": {
                long min = schema.path("minimum").asLong(0);
                long max = schema.path("maximum").asLong(Math.max(min, 0) + 100);
                return NODES.numberNode(max <= min ? min : min + rng.nextLong(max - min + 1));
            }
            case "number": {
                double min = schema.path("minimum").asDouble(0);
                double max = schema.path("maximum").asDouble(min + 100);
                double raw = max <= min ? min : min + rng.nextDouble() * (max - min);
                return NODES.numberNode(Math.min(max, Math.max(min, Math.round(raw * 100) / 100.0)));
            }
            case "boolean":
                return NODES.booleanNode(rng.nextBoolean());
            case "null":
                return NODES.nullNode();
            default:
                return NODES.textNode(string(schema, rng));
        }
    }

    private static String type(JsonNode schema) {
        JsonNode type = schema.path("type");
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (!t.asText().equals("null")) {
                    return t.asText();
                }
            }
            return "null";
        }
        if (type.isTextual()) {
            return type.asText();
        }
        if (schema.has("properties")) {
            return "object";
        }
        return schema.has("items") ? "array" : "string";
    }

    private static String string(JsonNode schema, SplittableRandom rng) {
        String format = schema.path("format").asText("");
        String text = switch (format) {
            case "date" -> "2025-01-01";
            case "date-time" -> "2025-01-01T00:00:00Z";
            case "email" -> "sim@example.com";
            case "uri", "url" -> "https://example.com/sim";
            case "uuid" -> "00000000-0000-4000-8000-" + String.format(Locale.ROOT, "%012x", rng.nextLong(1L << 48));
            default -> word(rng) + " " + word(rng);
        };
        int minLength = schema.path("minLength").asInt(0);
        StringBuilder padded = new StringBuilder(text);
        while (padded.length() < minLength) {
            padded.append(' ').append(word(rng));
        }
        int maxLength = schema.path("maxLength").asInt(Integer.MAX_VALUE);
        return padded.length() > maxLength ? padded.substring(0, Math.max(minLength, maxLength)) : padded.toString();
    }

    private static JsonNode resolve(String ref, JsonNode root) {
        if (!ref.startsWith("#")) {
            return NODES.objectNode();
        }
        JsonNode target = root.at(ref.substring(1));
        return target.isMissingNode() ? NODES.objectNode() : target;
    }

    private static String word(SplittableRandom rng) {
        return WORDS[rng.nextInt(WORDS.length)];
    }

    /** Cuts a JSON text so that it no longer parses: no proper prefix of an object or array is valid JSON. */
    private static String truncate(String json) {
        return json.substring(0, Math.max(1, json.length() / 2));
    }

    /** Pieces of 2 to 6 characters, about a token each. */
    private static List<String> splitChars(String text, SplittableRandom rng) {
        List<String> pieces = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + 2 + rng.nextInt(5));
            pieces.add(text.substring(i, end));
            i = end;
        }
        return pieces;
    }

    /** Exactly {@code n} pieces; with more pieces than characters some are empty. */
    private static List<String> splitEven(String text, int n) {
        List<String> pieces = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pieces.add(text.substring(text.length() * i / n, text.length() * (i + 1) / n));
        }
        return pieces;
    }

    private static String write(ObjectMapper json, JsonNode value) {
        try {
            return json.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("sim: cannot write a generated value", e);
        }
    }

    static String hex(long value) {
        return String.format(Locale.ROOT, "%016x", value);
    }
}
