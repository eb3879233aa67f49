package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The test hook of one request: the optional {@code "sim": {...}} object of its body, parsed.
 * See {@link SimServer} for what each field does.
 *
 * @param fail        status to answer with instead of an answer, or 0
 * @param retryAfter  seconds for {@code retry-after} when {@code fail} is 429
 * @param resetAfter  content chunks to send before resetting the connection, or -1
 * @param hang        accept the request and never answer
 * @param chunks      exact number of content pieces, or -1
 * @param intervalMs  pause between streamed chunks (and before the first), or -1 for the profile's
 * @param noUsage     leave usage out of the answer
 * @param quality     endpoint id → the quality that endpoint answers with instead of its
 *                    profile's, random faults on or off (empty: none)
 */
record SimScript(
        int fail,
        long retryAfter,
        int resetAfter,
        boolean hang,
        int chunks,
        long intervalMs,
        boolean noUsage,
        Map<String, Double> quality) {

    static final SimScript NONE = new SimScript(0, 1, -1, false, -1, -1, false, Map.of());

    /**
     * Reads the {@code sim} field of a request body.
     *
     * @throws IllegalArgumentException naming the field when a value is out of range
     */
    static SimScript of(JsonNode body) {
        JsonNode sim = body.get("sim");
        if (sim == null || sim.isNull()) {
            return NONE;
        }
        if (!sim.isObject()) {
            throw new IllegalArgumentException("sim: " + sim + " (expected: an object)");
        }
        int fail = sim.path("fail").asInt(0);
        if (fail != 0 && (fail < 400 || fail > 599)) {
            throw new IllegalArgumentException("sim.fail: " + fail + " (expected: 400..599)");
        }
        long retryAfter = sim.path("retry_after").asLong(1);
        if (retryAfter < 0) {
            throw new IllegalArgumentException("sim.retry_after: " + retryAfter + " (expected: >= 0)");
        }
        int resetAfter = sim.has("reset_after") ? sim.get("reset_after").asInt(-1) : -1;
        int chunks = sim.has("chunks") ? sim.get("chunks").asInt(-1) : -1;
        if (sim.has("chunks") && chunks < 0) {
            throw new IllegalArgumentException("sim.chunks: " + sim.get("chunks") + " (expected: >= 0)");
        }
        long intervalMs = sim.has("interval_ms") ? sim.get("interval_ms").asLong(-1) : -1;
        if (sim.has("interval_ms") && intervalMs < 0) {
            throw new IllegalArgumentException("sim.interval_ms: " + sim.get("interval_ms") + " (expected: >= 0)");
        }
        return new SimScript(
                fail,
                retryAfter,
                resetAfter,
                sim.path("hang").asBoolean(false),
                chunks,
                intervalMs,
                sim.path("no_usage").asBoolean(false),
                quality(sim.path("quality")));
    }

    /** The {@code quality} field: an object of endpoint id to a probability. */
    private static Map<String, Double> quality(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(
                    "sim.quality: " + node + " (expected: an object of endpoint id to a quality 0..1)");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode q = e.getValue();
            if (!q.isNumber() || !(q.asDouble() >= 0 && q.asDouble() <= 1)) {
                throw new IllegalArgumentException("sim.quality." + e.getKey() + ": " + q + " (expected: 0..1)");
            }
            out.put(e.getKey(), q.asDouble());
        }
        return Map.copyOf(out);
    }
}
