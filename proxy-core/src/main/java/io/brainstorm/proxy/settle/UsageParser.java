package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads OpenAI's {@code usage} object into {@link Usage}, tolerating missing or odd fields. */
public final class UsageParser {
    private UsageParser() {
    }

    /** The usage in {@code usageNode}, or null when it is absent or not an object. */
    public static Usage parse(JsonNode usageNode) {
        if (usageNode == null || !usageNode.isObject()) {
            return null;
        }
        long prompt = count(usageNode.get("prompt_tokens"));
        long completion = count(usageNode.get("completion_tokens"));
        long cached = count(usageNode.path("prompt_tokens_details").get("cached_tokens"));
        long reasoning = count(usageNode.path("completion_tokens_details").get("reasoning_tokens"));
        return new Usage(prompt, completion, Math.min(cached, prompt), reasoning);
    }

    private static long count(JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            return 0;
        }
        return Math.max(0, n.longValue());
    }
}
