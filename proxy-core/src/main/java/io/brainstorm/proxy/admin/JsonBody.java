package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.KeyKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An admin request's JSON object body, read field by field with type checks. Every problem is a 400
 * whose {@code param} names the field and whose message says what was expected, in the form
 * {@code "rpm: -1 (expected: an integer >= 0, or null for no limit)"}. Unknown fields are refused
 * too: a misspelt {@code daily_budget} must not quietly leave a key without a budget.
 *
 * <p>The value of {@code api_key} (a provider's secret) is never repeated in a message.
 */
final class JsonBody {
    /** The most USD a daily budget may be: 10^9 USD is 10^18 nano-USD, inside a {@code long}. */
    static final BigDecimal MAX_USD = BigDecimal.valueOf(1_000_000_000L);

    private static final int NANO_DIGITS = 9;
    private static final ObjectReader READER =
            Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode node;

    private JsonBody(ObjectNode node) {
        this.node = node;
    }

    /**
     * Parses {@code content} (not released here) as one JSON object whose fields are all in {@code allowed}.
     *
     * @throws ApiError 400 for an empty body, bad JSON, a non-object or an unknown field
     */
    static JsonBody parse(ByteBuf content, Set<String> allowed) {
        if (!content.isReadable()) {
            throw ApiError.invalidRequest(null, "The request body is empty; expected a JSON object.");
        }
        JsonNode root;
        try (InputStream in = new ByteBufInputStream(content.duplicate())) {
            root = READER.readTree(in);
        } catch (JsonProcessingException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON: " + e.getOriginalMessage());
        } catch (NumberFormatException e) {
            throw ApiError.invalidRequest(null, "The request body has a number out of range.");
        } catch (IOException e) {
            throw ApiError.invalidRequest(null, "The request body could not be read.");
        }
        if (!(root instanceof ObjectNode object)) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ApiError.invalidRequest(
                        name,
                        "Unknown parameter: '" + name + "' (expected one of: "
                                + String.join(", ", allowed.stream().sorted().toList()) + ").");
            }
        }
        return new JsonBody(object);
    }

    /** True when the field is present, even as {@code null}. */
    boolean has(String param) {
        return node.has(param);
    }

    private boolean absentOrNull(String param) {
        JsonNode n = node.get(param);
        return n == null || n.isNull();
    }

    /** A required non-blank string. */
    String requiredString(String param) {
        if (absentOrNull(param)) {
            throw ApiError.invalidRequest(param, "Missing required parameter: '" + param + "'.");
        }
        return nonBlank(param, node.get(param));
    }

    /** A non-blank string, or {@code fallback} when absent or null. */
    @Nullable
    String string(String param, @Nullable String fallback) {
        if (absentOrNull(param)) {
            return fallback;
        }
        return nonBlank(param, node.get(param));
    }

    private static String nonBlank(String param, JsonNode n) {
        if (!n.isTextual() || n.textValue().isBlank()) {
            throw ApiError.invalidRequest(param, param + ": " + shown(param, n) + " (expected: a non-empty string).");
        }
        return n.textValue();
    }

    /** {@code "api"} (the default) or {@code "admin"}. */
    KeyKind kind(String param) {
        String kind = Objects.requireNonNullElse(string(param, null), "api");
        return switch (kind) {
            case "api" -> KeyKind.API;
            case "admin" -> KeyKind.ADMIN;
            default ->
                throw ApiError.invalidRequest(param, param + ": \"" + kind + "\" (expected: \"api\" or \"admin\").");
        };
    }

    /**
     * A USD amount as nano-USD, exactly: at most 9 decimals and {@link #MAX_USD}; {@code unlimited}
     * when absent or null.
     */
    long usdNano(String param, long unlimited) {
        if (absentOrNull(param)) {
            return unlimited;
        }
        JsonNode n = node.get(param);
        String expected = " (expected: a number of USD from 0 to " + MAX_USD.toPlainString()
                + " with at most 9 decimals, or null for no budget).";
        if (!n.isNumber()) {
            throw ApiError.invalidRequest(param, param + ": " + n + expected);
        }
        BigDecimal usd = n.decimalValue();
        // range and scale before any arithmetic: 1e-999999999 would otherwise cost a power of ten that size
        if (usd.signum() < 0
                || usd.compareTo(MAX_USD) > 0
                || usd.stripTrailingZeros().scale() > NANO_DIGITS) {
            throw ApiError.invalidRequest(param, param + ": " + n + expected);
        }
        return usd.movePointRight(NANO_DIGITS).longValue();
    }

    /** An integer from 0 to {@code max}; 0 (no limit) when absent or null. */
    long limit(String param, long max) {
        if (absentOrNull(param)) {
            return 0;
        }
        JsonNode n = node.get(param);
        // the range first: turning 1e999999999 into an integer would take the heap
        if (!n.isNumber()
                || n.decimalValue().signum() < 0
                || n.decimalValue().compareTo(BigDecimal.valueOf(max)) > 0
                || n.decimalValue().stripTrailingZeros().scale() > 0) {
            throw ApiError.invalidRequest(
                    param, param + ": " + n + " (expected: an integer from 0 to " + max + ", 0 or null for no limit).");
        }
        return n.decimalValue().longValue();
    }

    /** A list of non-blank strings; empty when absent or null. */
    List<String> strings(String param) {
        if (absentOrNull(param)) {
            return List.of();
        }
        JsonNode n = node.get(param);
        String expected = " (expected: an array of model ids or provider/* strings).";
        if (!n.isArray()) {
            throw ApiError.invalidRequest(param, param + ": " + n + expected);
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode item : n) {
            if (!item.isTextual() || item.textValue().isBlank()) {
                throw ApiError.invalidRequest(param, param + ": element " + item + expected);
            }
            out.add(item.textValue());
        }
        return out;
    }

    /** An IANA time zone ({@code Europe/Berlin}); {@code fallback} when absent or null. */
    @Nullable
    ZoneId zone(String param, @Nullable ZoneId fallback) {
        if (absentOrNull(param)) {
            return fallback;
        }
        JsonNode n = node.get(param);
        String expected = " (expected: an IANA time zone such as \"Europe/Berlin\" or \"UTC\").";
        if (!n.isTextual()) {
            throw ApiError.invalidRequest(param, param + ": " + n + expected);
        }
        try {
            return ZoneId.of(n.textValue());
        } catch (DateTimeException e) {
            throw ApiError.invalidRequest(param, param + ": " + n + expected);
        }
    }

    /** A field's value for a message: never a secret's. */
    private static String shown(String param, JsonNode n) {
        return param.equals("api_key")
                ? "(a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ")"
                : n.toString();
    }
}
