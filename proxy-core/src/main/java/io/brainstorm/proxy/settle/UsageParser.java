package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;

/** Reads OpenAI's {@code usage} object into {@link Usage}, tolerating missing or odd fields. */
public final class UsageParser {
    private UsageParser() {}

    /** The usage in {@code usageNode}, or null when it is absent or not an object. */
    public static @Nullable Usage parse(JsonNode usageNode) {
        if (usageNode == null || !usageNode.isObject()) {
            return null;
        }
        long prompt = count(usageNode.get("prompt_tokens"));
        long completion = count(usageNode.get("completion_tokens"));
        long cached = count(usageNode.path("prompt_tokens_details").get("cached_tokens"));
        long reasoning = count(usageNode.path("completion_tokens_details").get("reasoning_tokens"));
        return new Usage(prompt, completion, Math.min(cached, prompt), reasoning);
    }

    /**
     * The usage of a whole (non-streamed) answer: the top-level {@code usage} object, read with
     * Jackson's streaming parser (no tree; everything else is skipped). Null when there is none, it
     * is not an object, or the body is not one JSON object. Does not change {@code body}'s indexes or
     * reference count. The relay gets the same figures from {@code AnswerCheck}'s one pass over the
     * answer; this is the same reading on its own.
     */
    public static @Nullable Usage fromAnswer(ByteBuf body, ObjectMapper json) {
        try (InputStream in = new ByteBufInputStream(body.duplicate());
                JsonParser parser = json.createParser(in)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            Usage found = null;
            for (JsonToken t = parser.nextToken(); t == JsonToken.FIELD_NAME; t = parser.nextToken()) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("usage".equals(name)) {
                    // a repeated key: the last one counts, as it does for the clients' JSON readers
                    found = value == JsonToken.START_OBJECT ? read(parser) : null;
                } else {
                    parser.skipChildren();
                }
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Reads a {@code usage} object with a streaming parser standing on its {@code START_OBJECT};
     * leaves the parser on the matching {@code END_OBJECT}. Fields that are missing, not integers or
     * negative count as 0, as in {@link #parse(JsonNode)}.
     *
     * @throws IOException when the JSON is broken
     */
    public static Usage read(JsonParser p) throws IOException {
        long prompt = 0;
        long completion = 0;
        long cached = 0;
        long reasoning = 0;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            switch (name) {
                case "prompt_tokens" -> prompt = count(p, value);
                case "completion_tokens" -> completion = count(p, value);
                case "prompt_tokens_details" -> cached = detail(p, value, "cached_tokens");
                case "completion_tokens_details" -> reasoning = detail(p, value, "reasoning_tokens");
                default -> p.skipChildren();
            }
        }
        return new Usage(prompt, completion, Math.min(cached, prompt), reasoning);
    }

    /** The count {@code field} of a details object (0 when absent or odd); consumes the value. */
    private static long detail(JsonParser p, JsonToken value, String field) throws IOException {
        if (value != JsonToken.START_OBJECT) {
            p.skipChildren();
            return 0;
        }
        long n = 0;
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (field.equals(name)) {
                n = count(p, v);
            } else {
                p.skipChildren();
            }
        }
        return n;
    }

    private static long count(JsonParser p, JsonToken value) throws IOException {
        if (value != JsonToken.VALUE_NUMBER_INT) {
            p.skipChildren();
            return 0;
        }
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            return 0;
        }
        return Math.max(0, p.getLongValue());
    }

    private static long count(JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            return 0;
        }
        return Math.max(0, n.longValue());
    }
}
