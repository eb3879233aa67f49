package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonParser;
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
     * The usage of a whole (non-streamed) answer, without parsing the answer: finds the last
     * <code>"usage": {</code> key (OpenAI writes it last, so the search from the end is short) and
     * parses only that object. Inside JSON strings quotes are escaped, so the raw bytes
     * {@code "usage"} followed by a colon can only be a key. Null when there is none or it does not
     * parse. Does not change {@code body}'s indexes or reference count.
     */
    public static @Nullable Usage fromAnswer(ByteBuf body, ObjectMapper json) {
        int object = UsageKey.findLastObject(body, body.readerIndex(), body.writerIndex());
        if (object < 0) {
            return null;
        }
        try (InputStream in = new ByteBufInputStream(body.slice(object, body.writerIndex() - object));
                JsonParser parser = json.createParser(in)) {
            return parse(json.readTree(parser));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long count(JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            return 0;
        }
        return Math.max(0, n.longValue());
    }
}
