package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What structure a request asked its answer to have (docs/architecture.md §8), read once from the client's body:
 * {@code response_format} ({@code json_object}, {@code json_schema} with its schema) and
 * {@code tools} (each function's name and {@code parameters} schema, and {@code tool_choice});
 * the legacy {@code functions} and {@code function_call} count as tools.
 *
 * <p>Schemas go through the scorer's cache ({@link Scorer#compiledSchemas()}): making a spec hashes
 * them and looks them up; they are compiled on the first answer that needs them, off the event loop.
 * A schema the scorer cannot use (larger than {@code scoring.max_schema_bytes}, a {@code $ref} that
 * is not in the document, not a valid schema, a compile error) makes every answer to the request
 * unscored ({@link ScoreOutcome#SCHEMA_UNUSABLE}).
 *
 * <p>Which rule scores the answer ({@link #kind()}): {@code tools} when tools are declared and
 * {@code tool_choice} is not {@code "none"}; else {@code json_schema} or {@code json_object} from
 * {@code response_format}; else {@code plain}. When both tools and a response format are given,
 * an answer without tool calls is checked against the response format. With scoring disabled
 * ({@code scoring.enabled: false}) every spec is {@link #PLAIN}.
 *
 * <p><b>Threading:</b> immutable; made on the event loop, used on the scoring threads.
 */
public final class ScoreSpec {
    /** A plain request: no structure asked for. */
    public static final ScoreSpec PLAIN = new ScoreSpec(Format.NONE, null, Map.of(), false, Choice.NONE, null, null);

    enum Format {
        NONE,
        JSON_OBJECT,
        JSON_SCHEMA
    }

    enum Choice {
        NONE,
        AUTO,
        REQUIRED,
        NAMED
    }

    private final Format format;
    /** The response format's schema; null when {@code json_schema} gave none (the content must then only parse). */
    private final SchemaCache.@Nullable Entry formatSchema;
    /** Declared functions by name; the value is null for a function without {@code parameters}. */
    private final Map<String, SchemaCache.Entry> tools;
    /** Tools other than functions were declared (their calls are not checked). */
    private final boolean otherTools;

    private final Choice choice;
    private final @Nullable String forcedTool;
    /** Why the spec is unusable, when known from the request alone; else null. */
    private final @Nullable String unusable;

    private ScoreSpec(
            Format format,
            SchemaCache.@Nullable Entry formatSchema,
            Map<String, SchemaCache.Entry> tools,
            boolean otherTools,
            Choice choice,
            @Nullable String forcedTool,
            @Nullable String unusable) {
        this.format = format;
        this.formatSchema = formatSchema;
        this.tools = tools;
        this.otherTools = otherTools;
        this.choice = choice;
        this.forcedTool = forcedTool;
        this.unusable = unusable;
    }

    /**
     * The spec of a chat request body. Never throws on any body: a schema the scorer cannot use
     * makes a spec whose answers are not scored ({@link ScoreOutcome#SCHEMA_UNUSABLE}).
     *
     * @param requestBody the client's parsed body (null or not an object: {@link #PLAIN})
     * @param scorer      the scorer whose schema cache and limits apply (not null)
     */
    public static ScoreSpec of(JsonNode requestBody, Scorer scorer) {
        Objects.requireNonNull(scorer, "scorer");
        if (requestBody == null || !requestBody.isObject() || !scorer.config().enabled()) {
            return PLAIN;
        }
        try {
            return read(requestBody, scorer.schemaCache());
        } catch (RuntimeException e) {
            // a body shape this code did not foresee: not scored rather than scored wrongly
            return new ScoreSpec(
                    Format.NONE,
                    null,
                    Map.of(),
                    false,
                    Choice.NONE,
                    null,
                    "request: cannot be read for scoring (" + e + ")");
        }
    }

    private static ScoreSpec read(JsonNode body, SchemaCache cache) {
        Format format = Format.NONE;
        SchemaCache.Entry formatSchema = null;
        JsonNode rf = body.get("response_format");
        if (rf != null && rf.isObject()) {
            String type = rf.path("type").asText("");
            if (type.equals("json_object")) {
                format = Format.JSON_OBJECT;
            } else if (type.equals("json_schema")) {
                format = Format.JSON_SCHEMA;
                JsonNode schema = rf.path("json_schema").get("schema");
                if (schema != null && !schema.isNull()) {
                    formatSchema = cache.entry(schema);
                }
            }
        }

        Map<String, SchemaCache.Entry> tools = new HashMap<>();
        boolean otherTools = false;
        JsonNode declared = body.get("tools");
        if (declared != null && declared.isArray()) {
            for (JsonNode t : declared) {
                String type = t.path("type").asText("function");
                if (type.equals("function")) {
                    declare(tools, t.get("function"), cache);
                } else {
                    otherTools = true;
                }
            }
        }
        JsonNode functions = body.get("functions");
        if (functions != null && functions.isArray()) {
            for (JsonNode f : functions) {
                declare(tools, f, cache);
            }
        }

        Choice choice = Choice.AUTO;
        String forced = null;
        JsonNode tc = body.has("tool_choice") ? body.get("tool_choice") : body.get("function_call");
        if (tc != null && tc.isTextual()) {
            choice = switch (tc.asText()) {
                case "none" -> Choice.NONE;
                case "required", "any" -> Choice.REQUIRED;
                default -> Choice.AUTO;
            };
        } else if (tc != null && tc.isObject()) {
            // {"type":"function","function":{"name":…}}, or the legacy {"name":…}
            JsonNode name = tc.has("function") ? tc.path("function").get("name") : tc.get("name");
            if (name != null && name.isTextual()) {
                choice = Choice.NAMED;
                forced = name.asText();
            }
        }
        if (tools.isEmpty() && !otherTools) {
            choice = Choice.NONE;
        }

        String unusable = formatSchema != null ? formatSchema.knownUnusable() : null;
        if (choice != Choice.NONE) {
            for (SchemaCache.Entry e : tools.values()) {
                if (unusable == null && e != null) {
                    unusable = e.knownUnusable();
                }
            }
        }
        if (format == Format.NONE && choice == Choice.NONE) {
            return PLAIN;
        }
        return new ScoreSpec(
                format,
                formatSchema,
                choice == Choice.NONE ? Map.of() : Collections.unmodifiableMap(tools),
                otherTools,
                choice,
                forced,
                unusable);
    }

    private static void declare(Map<String, SchemaCache.Entry> tools, JsonNode function, SchemaCache cache) {
        if (function == null || !function.path("name").isTextual()) {
            return;
        }
        JsonNode parameters = function.get("parameters");
        tools.put(
                function.get("name").asText(),
                parameters == null || parameters.isNull() ? null : cache.entry(parameters));
    }

    /** Whether structure was asked for ({@code json_object}, {@code json_schema} or tools). */
    public boolean structured() {
        return format != Format.NONE || toolsApply();
    }

    /** Whether scoring an answer needs schema validation, which may take more than a few µs: run it off the event loop. */
    public boolean expensive() {
        if (unusable != null) {
            return false;
        }
        if (formatSchema != null) {
            return true;
        }
        if (toolsApply()) {
            for (SchemaCache.Entry e : tools.values()) {
                if (e != null) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code plain}, {@code json_object}, {@code json_schema} or {@code tools}: a label for metrics. */
    public String kind() {
        if (toolsApply()) {
            return "tools";
        }
        return switch (format) {
            case JSON_OBJECT -> "json_object";
            case JSON_SCHEMA -> "json_schema";
            case NONE -> "plain";
        };
    }

    /**
     * Why answers to this request will not be scored, when the request alone says so (a schema
     * too large or not a schema); null otherwise. A schema that fails to compile is found when the
     * first answer is scored.
     */
    public @Nullable String unusableReason() {
        return unusable;
    }

    boolean toolsApply() {
        return choice != Choice.NONE;
    }

    Format format() {
        return format;
    }

    SchemaCache.@Nullable Entry formatSchema() {
        return formatSchema;
    }

    Map<String, SchemaCache.Entry> tools() {
        return tools;
    }

    boolean otherTools() {
        return otherTools;
    }

    Choice choice() {
        return choice;
    }

    @Nullable
    String forcedTool() {
        return forcedTool;
    }

    /** Compiles the spec's schemas (once per schema, in the cache); why one is unusable, or null. */
    @Nullable
    String resolve() {
        if (unusable != null) {
            return unusable;
        }
        if (formatSchema != null && formatSchema.compiled() == null) {
            return formatSchema.unusable();
        }
        for (SchemaCache.Entry e : tools.values()) {
            if (e != null && e.compiled() == null) {
                return e.unusable();
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "ScoreSpec[" + kind() + (unusable != null ? ", unusable: " + unusable : "") + "]";
    }
}
