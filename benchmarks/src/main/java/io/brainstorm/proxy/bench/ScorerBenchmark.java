package io.brainstorm.proxy.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.ScoringConfig;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.ScoreSpec;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.StreamCapture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the scorer (docs/architecture.md §8) adds per answer: {@link Scorer#scoreAnswer} on a whole
 * {@code chat.completion} in a pooled direct buffer (as the relay holds it), for a plain answer,
 * a {@code json_object} answer of about 300 bytes of content, a {@code json_schema} answer of
 * about 300 bytes against a 5-property schema (compiled once, from the cache), and one tool call
 * validated against 5-property {@code parameters}; {@link ScoreSpec#of} for the
 * {@code json_schema} request (hash of the canonical schema text and a cache hit); and
 * {@link StreamCapture#onEvent} per streamed content event, the part that runs on the event loop
 * for structured streams.
 *
 * <p>Each benchmark checks once, at setup, that its answer gets the expected verdict, so a
 * broken fixture cannot measure the cheap failure path by accident.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ScorerBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","minLength":1},
              "email":{"type":"string","pattern":"^[^@\\\\s]+@[^@\\\\s]+$"},
              "age":{"type":"integer","minimum":0,"maximum":150},
              "tags":{"type":"array","items":{"type":"string"},"maxItems":10},
              "bio":{"type":"string","maxLength":400}},
             "required":["name","email","age","tags","bio"],"additionalProperties":false}""";
    /** About 300 bytes: valid against {@link #SCHEMA}. */
    private static final String PERSON =
            "{\"name\":\"Ada Lovelace\",\"email\":\"ada@analytical-engine.org\",\"age\":36,"
                    + "\"tags\":[\"mathematics\",\"computing\",\"poetry\"],\"bio\":\"English mathematician and writer, chiefly known"
                    + " for her work on Charles Babbage's proposed mechanical general-purpose computer, the Analytical Engine."
                    + " She was the first to recognise that the machine had applications beyond pure calculation.\"}";

    private static final String ARGUMENTS =
            "{\"city\":\"Paris\",\"country\":\"FR\",\"days\":3,\"unit\":\"celsius\",\"hourly\":false}";

    private Scorer scorer;
    private JsonNode schemaRequest;
    private ScoreSpec plainSpec;
    private ScoreSpec jsonObjectSpec;
    private ScoreSpec jsonSchemaSpec;
    private ScoreSpec toolsSpec;
    private ByteBuf plainBody;
    private ByteBuf jsonObjectBody;
    private ByteBuf jsonSchemaBody;
    private ByteBuf toolsBody;
    private ByteBuf contentEvent;
    private StreamCapture capture;
    private int eventsInCapture;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        scorer = new Scorer(ScoringConfig.DEFAULTS);
        plainSpec = ScoreSpec.of(request(""), scorer);
        jsonObjectSpec = ScoreSpec.of(request("\"response_format\":{\"type\":\"json_object\"}"), scorer);
        schemaRequest = request("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\","
                + "\"strict\":true,\"schema\":" + SCHEMA + "}}");
        jsonSchemaSpec = ScoreSpec.of(schemaRequest, scorer);
        toolsSpec = ScoreSpec.of(
                request("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
                        + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"country\":{\"type\":\"string\","
                        + "\"pattern\":\"^[A-Z]{2}$\"},\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":14},"
                        + "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]},\"hourly\":{\"type\":\"boolean\"}},"
                        + "\"required\":[\"city\",\"days\"],\"additionalProperties\":false}}}]"),
                scorer);
        plainBody = body(completion("Hello! How can I help you today?", null));
        jsonObjectBody = body(completion(PERSON, null));
        jsonSchemaBody = body(completion(PERSON, null));
        toolsBody = body(completion(null, ARGUMENTS));
        contentEvent =
                body("data: {\"id\":\"chatcmpl-AbC\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,"
                        + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\" mathematician\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
        expect(ScoreOutcome.PLAIN_OK, scorer.scoreAnswer(plainSpec, plainBody));
        expect(ScoreOutcome.VALID, scorer.scoreAnswer(jsonObjectSpec, jsonObjectBody));
        expect(ScoreOutcome.VALID, scorer.scoreAnswer(jsonSchemaSpec, jsonSchemaBody));
        expect(ScoreOutcome.VALID, scorer.scoreAnswer(toolsSpec, toolsBody));
        capture = scorer.capture();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (scorer.compiledSchemas() != 2) {
            throw new IllegalStateException(
                    "schemas compiled: " + scorer.compiledSchemas() + " (expected: 2, once each)");
        }
        plainBody.release();
        jsonObjectBody.release();
        jsonSchemaBody.release();
        toolsBody.release();
        contentEvent.release();
    }

    @Benchmark
    public Scorer.@Nullable Result plain() {
        return scorer.scoreAnswer(plainSpec, plainBody);
    }

    @Benchmark
    public Scorer.@Nullable Result jsonObject() {
        return scorer.scoreAnswer(jsonObjectSpec, jsonObjectBody);
    }

    @Benchmark
    public Scorer.@Nullable Result jsonSchema() {
        return scorer.scoreAnswer(jsonSchemaSpec, jsonSchemaBody);
    }

    @Benchmark
    public Scorer.@Nullable Result tools() {
        return scorer.scoreAnswer(toolsSpec, toolsBody);
    }

    @Benchmark
    public ScoreSpec specOfJsonSchemaRequest() {
        return ScoreSpec.of(schemaRequest, scorer);
    }

    @Benchmark
    public long captureEvent() {
        // a fresh capture every 1,000 events (a long answer), so the copy does not grow without bound
        if (++eventsInCapture == 1000) {
            eventsInCapture = 0;
            capture = scorer.capture();
        }
        capture.onEvent(contentEvent);
        return capture.keptBytes();
    }

    private static void expect(ScoreOutcome expected, Scorer.@Nullable Result got) {
        if (got == null || got.outcome() != expected) {
            throw new IllegalStateException("fixture scored " + got + " (expected: " + expected + ")");
        }
    }

    private static JsonNode request(String extra) throws Exception {
        return JSON.readTree("{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]"
                + (extra.isEmpty() ? "" : "," + extra) + "}");
    }

    private static String completion(@Nullable String content, @Nullable String arguments) {
        ObjectNode body = JSON.createObjectNode()
                .put("id", "chatcmpl-AbC123")
                .put("object", "chat.completion")
                .put("created", 1_764_000_000)
                .put("model", "gpt-4o-mini-2024-07-18");
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        ObjectNode message = choice.putObject("message").put("role", "assistant");
        message.put("content", content);
        if (arguments != null) {
            message.putArray("tool_calls")
                    .addObject()
                    .put("id", "call_1")
                    .put("type", "function")
                    .putObject("function")
                    .put("name", "get_weather")
                    .put("arguments", arguments);
        }
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", arguments != null ? "tool_calls" : "stop");
        body.putObject("usage")
                .put("prompt_tokens", 52)
                .put("completion_tokens", 80)
                .put("total_tokens", 132);
        body.put("system_fingerprint", "fp_0ba0d124f1");
        return body.toString();
    }

    private static ByteBuf body(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }
}
