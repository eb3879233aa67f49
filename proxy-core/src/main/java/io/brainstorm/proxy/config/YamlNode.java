package io.brainstorm.proxy.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One node of a parsed YAML tree together with its field path ({@code providers[1].base_url}), with
 * typed readers that fail with a {@link ConfigException} naming the path and what was expected.
 * Shared by {@link Catalog} and {@link ConfigLoader}.
 *
 * <p>An absent key and an explicit {@code null} ({@code key:} with nothing after it) both read as
 * "not set", so the reader's default applies. Numbers are read from YAML as {@link BigDecimal}
 * (never through {@code double}), and a numeric field may also be written as a string, which is what
 * a {@code ${VAR}} substitution produces.
 */
final class YamlNode {

    private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final JsonNode node;
    private final String prefix;
    private final String path;
    private final boolean secret;

    private YamlNode(JsonNode node, String prefix, String path, boolean secret) {
        this.node = node == null ? MissingNode.getInstance() : node;
        this.prefix = prefix;
        this.path = path;
        this.secret = secret;
    }

    /**
     * The root of a tree.
     *
     * @param prefix put before every path in error messages ({@code "conf/models.yaml: "}), or empty
     */
    static YamlNode root(JsonNode node, String prefix) {
        return new YamlNode(node, prefix, "", false);
    }

    /** Parses YAML text into a tree; an empty document is a missing node. */
    static JsonNode parse(InputStream in, String prefix) throws ConfigException {
        try {
            JsonNode tree = MAPPER.readTree(in);
            return tree == null ? MissingNode.getInstance() : tree;
        } catch (JsonProcessingException e) {
            throw syntaxError(e, prefix);
        } catch (IOException e) {
            throw new ConfigException(prefix + "unreadable: " + e.getMessage(), e);
        }
    }

    /** Parses YAML text into a tree; an empty document is a missing node. */
    static JsonNode parse(String yaml, String prefix) throws ConfigException {
        return parse(new java.io.ByteArrayInputStream(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)), prefix);
    }

    /*
     * SnakeYAML's own messages quote the offending source line, which may hold an API key, so only
     * the problem and the position are reported.
     */
    private static ConfigException syntaxError(JsonProcessingException e, String prefix) {
        String problem = null;
        for (Throwable t = e; t != null && problem == null; t = t.getCause()) {
            if (t instanceof org.yaml.snakeyaml.error.MarkedYAMLException) {
                problem = ((org.yaml.snakeyaml.error.MarkedYAMLException) t).getProblem();
            }
        }
        if (problem == null) {
            problem = e.getOriginalMessage();
        }
        JsonLocation at = e.getLocation();
        String where =
                at == null || at.getLineNr() < 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new ConfigException(prefix + "invalid YAML" + where + ": " + problem + " (expected: valid YAML)");
    }

    JsonNode json() {
        return node;
    }

    String path() {
        return path;
    }

    /** True unless the key is absent or {@code null}. */
    boolean isSet() {
        return !node.isMissingNode() && !node.isNull();
    }

    /** This node, with its value never shown in error messages. */
    YamlNode secret() {
        return new YamlNode(node, prefix, path, true);
    }

    /** The child {@code key} of this mapping (not set if absent). */
    YamlNode field(String key) {
        return new YamlNode(node.get(key), prefix, path.isEmpty() ? key : path + "." + key, secret);
    }

    /**
     * Requires this node to be a mapping (or not set) whose keys are all among {@code allowed}, so
     * that a typo is an error rather than a silently ignored setting.
     */
    void expectKeys(String... allowed) throws ConfigException {
        if (!isSet()) {
            return;
        }
        if (!node.isObject()) {
            throw error("a mapping with keys " + String.join(", ", allowed));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!List.of(allowed).contains(name)) {
                throw field(name).fail("unknown key (expected: one of " + String.join(", ", allowed) + ")");
            }
        }
    }

    /**
     * {@link #expectKeys}, and set: an element of a list that must be a mapping; {@code expected}
     * says what it describes when it is missing.
     */
    void expectMapping(String expected, String... allowed) throws ConfigException {
        expectKeys(allowed);
        if (!node.isObject()) {
            throw error(expected);
        }
    }

    /** A list of non-empty scalars, each matching {@code pattern} ({@code expected} when not); empty when not set. */
    List<String> textsMatching(Pattern pattern, String expected) throws ConfigException {
        List<String> out = new ArrayList<>();
        for (YamlNode element : elements()) {
            String value = element.requiredText();
            if (!pattern.matcher(value).matches()) {
                throw element.error(expected);
            }
            out.add(value);
        }
        return out;
    }

    /** The elements of this list; empty when not set. */
    List<YamlNode> elements() throws ConfigException {
        if (!isSet()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error("a list");
        }
        List<YamlNode> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(new YamlNode(node.get(i), prefix, path + "[" + i + "]", secret));
        }
        return out;
    }

    /** A scalar as text, or {@code fallback} when not set. */
    String text(String fallback) throws ConfigException {
        if (!isSet()) {
            return fallback;
        }
        if (!node.isValueNode()) {
            throw error("a string");
        }
        return node.isBigDecimal() ? node.decimalValue().toPlainString() : node.asText();
    }

    /** A scalar as text, or null when not set. */
    @Nullable
    String optionalText() throws ConfigException {
        return isSet() ? text("") : null;
    }

    /** A non-empty scalar as text. */
    String requiredText() throws ConfigException {
        String value = optionalText();
        if (value == null || value.isBlank()) {
            throw error("a non-empty string");
        }
        return value;
    }

    /** An integer in {@code min..max}, or {@code fallback} when not set. */
    long integer(long fallback, long min, long max) throws ConfigException {
        return isSet() ? requiredInteger(min, max) : fallback;
    }

    /** An integer in {@code min..max} that must be set. */
    long requiredInteger(long min, long max) throws ConfigException {
        String expected = max == Long.MAX_VALUE || max == Integer.MAX_VALUE
                ? "an integer >= " + min
                : "an integer in " + min + ".." + max;
        BigDecimal value = isSet() ? number(expected) : null;
        if (value == null) {
            throw error(expected);
        }
        try {
            long exact = value.longValueExact();
            if (exact >= min && exact <= max) {
                return exact;
            }
        } catch (ArithmeticException notAnInteger) {
            // reported below
        }
        throw error(expected);
    }

    /** A decimal number that must be set. */
    BigDecimal requiredDecimal(String expected) throws ConfigException {
        BigDecimal value = isSet() ? number(expected) : null;
        if (value == null) {
            throw error(expected);
        }
        return value;
    }

    /** {@code true} or {@code false}, or {@code fallback} when not set. */
    boolean bool(boolean fallback) throws ConfigException {
        if (!isSet()) {
            return fallback;
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isTextual()
                && (node.textValue().equals("true") || node.textValue().equals("false"))) {
            return Boolean.parseBoolean(node.textValue());
        }
        throw error("true or false");
    }

    private BigDecimal number(String expected) throws ConfigException {
        if (node.isBigDecimal()) {
            return node.decimalValue();
        }
        if (node.isIntegralNumber()) {
            BigInteger value = node.bigIntegerValue();
            return new BigDecimal(value);
        }
        if (node.isFloatingPointNumber()) {
            // only reached if a parser hands out a double; its text is the shortest exact rendering
            return new BigDecimal(node.asText());
        }
        if (node.isTextual()) {
            try {
                return new BigDecimal(node.textValue().trim());
            } catch (NumberFormatException e) {
                throw error(expected);
            }
        }
        throw error(expected);
    }

    /** {@code "<path>: <value> (expected: <expected>)"}. */
    ConfigException error(String expected) {
        return fail(shown() + " (expected: " + expected + ")");
    }

    /** {@code "<path>: <what>"}. */
    ConfigException fail(String what) {
        return new ConfigException(prefix + (path.isEmpty() ? "(top level)" : path) + ": " + what);
    }

    /** The value as an error message shows it: strings quoted, secrets hidden. */
    String shown() {
        if (node.isMissingNode()) {
            return "missing";
        }
        if (node.isNull()) {
            return "null";
        }
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (secret) {
            return "(hidden)";
        }
        if (node.isTextual()) {
            return quote(node.textValue());
        }
        return node.isBigDecimal() ? node.decimalValue().toPlainString() : node.asText();
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
