package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.OutputFormat;
import com.networknt.schema.Schema;
import io.brainstorm.proxy.config.ScoringConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Scores answers 0..1 (docs/architecture.md §8); {@code docs/scoring.md} is the user's account of the rules.
 * Holds the compiled-schema cache (by the schema's hash).
 *
 * <p><b>The rules</b>, in order (the first that applies decides):
 * <ol>
 *   <li>The body is not a chat completion: {@link ScoreOutcome#ERROR}, 0.</li>
 *   <li>A schema of the request is unusable: {@link ScoreOutcome#SCHEMA_UNUSABLE}, not scored.</li>
 *   <li>Plain request: non-blank content or a tool call is {@link ScoreOutcome#PLAIN_OK}, 1 (also
 *       when cut by {@code length}); else {@link ScoreOutcome#EMPTY}, 0.</li>
 *   <li>Structured request: content and arguments together larger than
 *       {@code scoring.max_capture_bytes}: {@link ScoreOutcome#OVER_LIMIT}, not scored.</li>
 *   <li>Blank content and no tool call: {@link ScoreOutcome#EMPTY}, 0.</li>
 *   <li>{@code finish_reason: length}: {@link ScoreOutcome#CUT_BY_LENGTH}, 0.</li>
 *   <li>Tools apply and the answer calls tools: every call must name a declared function (and the
 *       one {@code tool_choice} names, if it names one), else {@link ScoreOutcome#UNKNOWN_TOOL};
 *       its arguments must be one JSON object (blank counts as {@code {}}) that validates against
 *       the function's {@code parameters}, else {@link ScoreOutcome#BAD_ARGUMENTS}; all good:
 *       {@link ScoreOutcome#VALID}, 1.</li>
 *   <li>Tools apply, no call, {@code tool_choice} is {@code "required"} or names a function:
 *       {@link ScoreOutcome#UNKNOWN_TOOL}, 0.</li>
 *   <li>{@code json_object}: the content (surrounding whitespace allowed) must be exactly one
 *       JSON <i>object</i> — what OpenAI's JSON mode promises; an array, a bare value, text around
 *       it or a {@code ```json} fence is {@link ScoreOutcome#INVALID_JSON}.
 *       {@code json_schema}: one JSON value ({@link ScoreOutcome#INVALID_JSON} otherwise) that
 *       validates against the schema ({@link ScoreOutcome#SCHEMA_MISMATCH} otherwise). Either way,
 *       blank content (the model only called a tool) is {@link ScoreOutcome#EMPTY}.</li>
 *   <li>Tools with {@code tool_choice} {@code "auto"}, no response format, an answer in words:
 *       {@link ScoreOutcome#VALID}, 1 (the model may choose not to call a tool).</li>
 * </ol>
 * A {@code pattern} that runs out of its step budget ({@link BoundedRegex}) or a validator error
 * makes the answer {@link ScoreOutcome#SCHEMA_UNUSABLE}: the schema, not the model, is at fault.
 *
 * <p><b>Cost.</b> Plain and {@code json_object} answers cost a parse (µs); schema validation may
 * cost more, and a schema's first answer compiles it: {@link ScoreSpec#expensive()} says when to
 * score off the event loop.
 *
 * <p><b>Reference counting:</b> {@link #scoreAnswer} only reads its buffer.
 *
 * <p><b>Threading:</b> thread-safe.
 */
public final class Scorer {
    /** A verdict: the score (0..1, or {@link Completion#NO_SCORE}) and why. */
    public record Result(double score, ScoreOutcome outcome) {}

    public static final Result ERROR = new Result(0, ScoreOutcome.ERROR);
    public static final Result NOT_APPLICABLE = new Result(Completion.NO_SCORE, ScoreOutcome.NOT_APPLICABLE);

    private static final Map<ScoreOutcome, Result> RESULTS = new EnumMap<>(ScoreOutcome.class);

    static {
        for (ScoreOutcome o : ScoreOutcome.values()) {
            double score = switch (o) {
                case PLAIN_OK, VALID -> 1;
                case ERROR, EMPTY, CUT_BY_LENGTH, INVALID_JSON, SCHEMA_MISMATCH, UNKNOWN_TOOL, BAD_ARGUMENTS -> 0;
                default -> Completion.NO_SCORE; // not scored: OVER_LIMIT, SCHEMA_UNUSABLE, OVERLOADED, NOT_APPLICABLE
            };
            RESULTS.put(
                    o,
                    o == ScoreOutcome.ERROR
                            ? ERROR
                            : o == ScoreOutcome.NOT_APPLICABLE ? NOT_APPLICABLE : new Result(score, o));
        }
    }

    /** Answers: parsed with bounded nesting (the validator recurses per level) and number length. */
    static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(256)
                            .maxNumberLength(1000)
                            .build())
                    .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
                    .build())
            .build();
    /** Content and arguments must be exactly one JSON value: text after it is not JSON. */
    private static final ObjectReader ONE_VALUE = JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final System.Logger log = System.getLogger(Scorer.class.getName());

    private final ScoringConfig config;
    private final SchemaCache schemas;

    public Scorer(ScoringConfig config) {
        this.config = config;
        this.schemas = new SchemaCache(config.maxSchemaBytes());
    }

    public ScoringConfig config() {
        return config;
    }

    /** The result that {@code outcome} always gets (its score: 1, 0 or {@link Completion#NO_SCORE}). */
    public static Result result(ScoreOutcome outcome) {
        return Objects.requireNonNull(RESULTS.get(outcome), "every outcome has its result");
    }

    /** A side copy for one streamed answer, bounded by {@code scoring.max_capture_bytes}. */
    public StreamCapture capture() {
        return new StreamCapture(config.maxCaptureBytes());
    }

    /** How many client schemas this scorer compiled (or tried to) since it was made: each distinct schema once while cached. */
    public long compiledSchemas() {
        return schemas.compiles();
    }

    SchemaCache schemaCache() {
        return schemas;
    }

    /**
     * Scores a whole {@code chat.completion} body (2xx). Does not release {@code body} nor move its
     * indexes.
     */
    public Result scoreAnswer(ScoreSpec spec, ByteBuf body) {
        AnswerContent answer = readAnswer(body);
        return answer == null ? ERROR : score(spec, answer);
    }

    /**
     * What a whole {@code chat.completion} body says: its first choice's content, tool calls and
     * finish reason (an empty answer when {@code choices} is empty). Null when the body is not a
     * JSON object with a {@code choices} array. Does not release {@code body} nor move its indexes.
     */
    public static @Nullable AnswerContent readAnswer(ByteBuf body) {
        ChoiceReader reader = new ChoiceReader();
        try (JsonParser p = body.hasArray()
                ? JSON.createParser(body.array(), body.arrayOffset() + body.readerIndex(), body.readableBytes())
                : JSON.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (!reader.read(p) || !reader.hasChoices) {
                return null;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        List<AnswerContent.ToolCall> calls = new ArrayList<>(reader.toolCalls.size());
        for (ChoiceReader.ToolDelta d : reader.toolCalls) {
            calls.add(new AnswerContent.ToolCall(d.name(), d.arguments()));
        }
        return new AnswerContent(reader.content, calls, reader.finishReason);
    }

    /**
     * Scores a streamed answer from its side copy: {@link ScoreOutcome#OVER_LIMIT} when the copy
     * outgrew its limit and structure was asked for (a plain answer that large is not empty:
     * {@link ScoreOutcome#PLAIN_OK}).
     */
    public Result score(ScoreSpec spec, StreamCapture capture) {
        if (!capture.overLimit()) {
            return score(spec, capture.answer());
        }
        if (!config.enabled()) {
            return result(ScoreOutcome.PLAIN_OK);
        }
        if (spec.resolve() != null) {
            return result(ScoreOutcome.SCHEMA_UNUSABLE);
        }
        return result(spec.structured() ? ScoreOutcome.OVER_LIMIT : ScoreOutcome.PLAIN_OK);
    }

    /** Scores an answer's content, e.g. assembled from a stream. */
    public Result score(ScoreSpec spec, AnswerContent answer) {
        if (answer == null) {
            return ERROR;
        }
        if (!config.enabled()) {
            return plain(answer);
        }
        if (spec.resolve() != null) {
            return result(ScoreOutcome.SCHEMA_UNUSABLE);
        }
        if (!spec.structured()) {
            return plain(answer);
        }
        if (StreamCapture.keptBytes(answer) > config.maxCaptureBytes()) {
            return result(ScoreOutcome.OVER_LIMIT);
        }
        boolean hasContent = !blank(answer.content());
        List<AnswerContent.ToolCall> calls = answer.toolCalls();
        if (!hasContent && calls.isEmpty()) {
            return result(ScoreOutcome.EMPTY);
        }
        if ("length".equals(answer.finishReason())) {
            return result(ScoreOutcome.CUT_BY_LENGTH);
        }
        if (spec.toolsApply()) {
            if (!calls.isEmpty()) {
                return result(checkCalls(spec, calls));
            }
            if (spec.choice() == ScoreSpec.Choice.REQUIRED || spec.choice() == ScoreSpec.Choice.NAMED) {
                return result(ScoreOutcome.UNKNOWN_TOOL);
            }
        }
        return result(
                switch (spec.format()) {
                    case NONE -> ScoreOutcome.VALID;
                    case JSON_OBJECT ->
                        !hasContent
                                ? ScoreOutcome.EMPTY
                                : isObject(parse(answer.content())) ? ScoreOutcome.VALID : ScoreOutcome.INVALID_JSON;
                    case JSON_SCHEMA ->
                        !hasContent ? ScoreOutcome.EMPTY : checkSchema(spec.formatSchema(), answer.content());
                });
    }

    private static Result plain(AnswerContent answer) {
        return result(
                blank(answer.content()) && answer.toolCalls().isEmpty() ? ScoreOutcome.EMPTY : ScoreOutcome.PLAIN_OK);
    }

    private static ScoreOutcome checkSchema(SchemaCache.@Nullable Entry entry, @Nullable String content) {
        JsonNode value = parse(content);
        if (value == null) {
            return ScoreOutcome.INVALID_JSON;
        }
        if (entry == null) {
            return ScoreOutcome.VALID;
        }
        Boolean valid = validate(entry.compiled(), value);
        return valid == null ? ScoreOutcome.SCHEMA_UNUSABLE : valid ? ScoreOutcome.VALID : ScoreOutcome.SCHEMA_MISMATCH;
    }

    private static ScoreOutcome checkCalls(ScoreSpec spec, List<AnswerContent.ToolCall> calls) {
        for (AnswerContent.ToolCall call : calls) {
            String name = call.name();
            if (name == null && spec.otherTools()) {
                // a call of a tool that is not a function (its type's own shape): not checked
                continue;
            }
            if (name == null
                    || !spec.tools().containsKey(name)
                    || (spec.choice() == ScoreSpec.Choice.NAMED && !name.equals(spec.forcedTool()))) {
                return ScoreOutcome.UNKNOWN_TOOL;
            }
            JsonNode arguments = parse(blank(call.arguments()) ? "{}" : call.arguments());
            if (arguments == null || !arguments.isObject()) {
                return ScoreOutcome.BAD_ARGUMENTS;
            }
            SchemaCache.Entry parameters = spec.tools().get(name);
            if (parameters != null) {
                Boolean valid = validate(parameters.compiled(), arguments);
                if (valid == null) {
                    return ScoreOutcome.SCHEMA_UNUSABLE;
                }
                if (!valid) {
                    return ScoreOutcome.BAD_ARGUMENTS;
                }
            }
        }
        return ScoreOutcome.VALID;
    }

    /** Whether {@code value} validates; null when the schema could not be evaluated (pattern budget, validator error). */
    private static @Nullable Boolean validate(@Nullable Schema schema, JsonNode value) {
        if (schema == null) {
            return null;
        }
        BoundedRegex.startValidation();
        try {
            return schema.validate(value, OutputFormat.BOOLEAN);
        } catch (BoundedRegex.BudgetExceeded e) {
            return null;
        } catch (RuntimeException | StackOverflowError e) {
            log.log(System.Logger.Level.DEBUG, "schema validation failed", e);
            return null;
        }
    }

    /** The one JSON value {@code text} holds, or null when it is not exactly one JSON value. */
    private static @Nullable JsonNode parse(@Nullable String text) {
        try {
            JsonNode n = ONE_VALUE.readTree(text);
            return n == null || n.isMissingNode() ? null : n;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean isObject(@Nullable JsonNode n) {
        return n != null && n.isObject();
    }

    private static boolean blank(@Nullable String s) {
        return s == null || s.isBlank();
    }
}
