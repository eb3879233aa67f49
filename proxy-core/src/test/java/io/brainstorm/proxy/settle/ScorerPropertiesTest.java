package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.ScoringConfig;
import io.brainstorm.proxy.relay.SseEventSplitter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A streamed answer, however its bytes are cut into chunks on the way through the relay's
 * {@link SseEventSplitter}, is captured as the same answer as the whole {@code chat.completion}
 * that says the same thing, and scores the same — including tool-call arguments split over many
 * deltas, and answers larger than the capture limit.
 */
class ScorerPropertiesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHARS = "abcXYZ 09éü数😀\"\\/\n\t{}[]:,";

    /** One generated answer: its SSE stream, the whole body that says the same, and the spec it answers. */
    record Sample(byte[] stream, String body, AnswerContent expected, String requestExtra, long seed) {}

    // ---- the properties ----------------------------------------------------------------------

    @Test
    void everyTwoChunkSplitCapturesTheWholeAnswer() {
        Scorer scorer = new Scorer(ScoringConfig.DEFAULTS);
        Set<ScoreOutcome> seen = EnumSet.noneOf(ScoreOutcome.class);
        // two tool calls with arguments in several deltas (valid, then one with a bad argument), and a
        // json_schema answer; the seeds are checked below to still give those
        List<Sample> samples = List.of(sample(4, null), sample(2, null), sample(5, null));
        for (Sample s : samples) {
            ScoreSpec spec = ScoreSpec.of(ScorerTest.request(s.requestExtra()), scorer);
            Scorer.Result whole = ScorerTest.score(scorer, spec, s.body());
            seen.add(whole.outcome());
            for (int cut = 0; cut <= s.stream().length; cut++) {
                check(scorer, s, spec, whole, List.of(cut, s.stream().length - cut), false);
            }
        }
        assertEquals(EnumSet.of(ScoreOutcome.VALID, ScoreOutcome.BAD_ARGUMENTS), seen);
        assertTrue(
                samples.stream().limit(2).allMatch(x -> x.expected().toolCalls().size() == 2), "two tool calls each");
        assertTrue(samples.get(2).expected().content() != null
                && samples.get(2).requestExtra().contains("json_schema"));
    }

    @Test
    void anyMultiSplitCapturesTheWholeAnswer() {
        Scorer scorer = new Scorer(ScoringConfig.DEFAULTS);
        qt().withExamples(150)
                .forAll(longs().all(), lists().of(integers().between(1, 80)).ofSizeBetween(1, 12))
                .checkAssert((seed, sizes) -> check(scorer, sample(seed, null), sizes, true));
    }

    @Test
    void outcomesAreVaried() {
        // guards the generator: the properties above must see valid and invalid answers of each kind
        Scorer scorer = new Scorer(ScoringConfig.DEFAULTS);
        Set<ScoreOutcome> seen = EnumSet.noneOf(ScoreOutcome.class);
        for (long seed = 0; seed < 150; seed++) {
            seen.add(check(scorer, sample(seed, null), List.of(Integer.MAX_VALUE), false));
        }
        assertTrue(
                seen.containsAll(EnumSet.of(
                        ScoreOutcome.VALID,
                        ScoreOutcome.INVALID_JSON,
                        ScoreOutcome.SCHEMA_MISMATCH,
                        ScoreOutcome.UNKNOWN_TOOL,
                        ScoreOutcome.BAD_ARGUMENTS,
                        ScoreOutcome.CUT_BY_LENGTH)),
                seen.toString());
    }

    @Test
    void overTheLimitTheStreamAndTheWholeAnswerAgree() {
        qt().withExamples(200)
                .forAll(
                        longs().all(),
                        integers().between(40, 400),
                        lists().of(integers().between(1, 60)).ofSizeBetween(1, 6))
                .checkAssert((seed, limit, sizes) -> {
                    Scorer scorer = new Scorer(new ScoringConfig(true, limit, 64 * 1024, 1));
                    check(scorer, sample(seed, null), sizes, false);
                });
        // and the limit is really reached by some of those samples
        Scorer tight = new Scorer(new ScoringConfig(true, 60, 64 * 1024, 1));
        assertEquals(ScoreOutcome.OVER_LIMIT, check(tight, sample(4, null), List.of(17), true));
    }

    // ---- the check -----------------------------------------------------------------------------

    /**
     * Runs the sample's stream, cut into chunks of {@code sizes} (cycled; 0 means an empty chunk),
     * through the splitter into a capture; asserts the capture and its score equal the whole answer's.
     * {@code tracked}: the chunks come from the pooled allocator, so a leak fails the class.
     */
    private static ScoreOutcome check(Scorer scorer, Sample s, List<Integer> sizes, boolean tracked) {
        ScoreSpec spec = ScoreSpec.of(ScorerTest.request(s.requestExtra()), scorer);
        return check(scorer, s, spec, ScorerTest.score(scorer, spec, s.body()), sizes, tracked);
    }

    /** {@link #check(Scorer, Sample, List, boolean)} with the spec and the whole answer's score already known. */
    private static ScoreOutcome check(
            Scorer scorer, Sample s, ScoreSpec spec, Scorer.Result whole, List<Integer> sizes, boolean tracked) {
        StreamCapture capture = scorer.capture();
        SseEventSplitter splitter = new SseEventSplitter(1 << 20);
        byte[] input = s.stream();
        int offset = 0;
        for (int k = 0; offset < input.length || k == 0; k++) {
            int size = (int) Math.min((long) sizes.get(k % sizes.size()), input.length - offset);
            if (k > 4 * input.length) {
                size = input.length - offset; // only empty chunks asked for: finish
            }
            // pooled buffers are leak-tracked (PARANOID in tests: slow); the every-split test runs thousands of
            // streams, so it uses plain heap buffers, and the random splits keep the leak check
            ByteBuf chunk = tracked
                    ? PooledByteBufAllocator.DEFAULT.buffer(Math.max(size, 1)).writeBytes(input, offset, size)
                    : Unpooled.wrappedBuffer(java.util.Arrays.copyOfRange(input, offset, offset + size));
            offset += size;
            splitter.feed(chunk, event -> {
                try {
                    capture.onEvent(event);
                } finally {
                    event.release();
                }
            });
        }
        ByteBuf rest = splitter.takeRemainder();
        try {
            capture.onEvent(rest);
        } finally {
            rest.release();
        }

        Scorer.Result streamed = scorer.score(spec, capture);
        assertEquals(whole, streamed, () -> "seed " + s.seed() + ", sizes " + sizes);
        boolean over = StreamCapture.keptBytes(s.expected()) > scorer.config().maxCaptureBytes();
        assertEquals(over, capture.overLimit(), () -> "seed " + s.seed());
        if (!over) {
            assertEquals(s.expected(), capture.answer(), () -> "seed " + s.seed() + ", sizes " + sizes);
        }
        return whole.outcome();
    }

    // ---- the generator -------------------------------------------------------------------------

    /** A random answer from {@code seed}; {@code tools} null: either kind. */
    static Sample sample(long seed, Boolean tools) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean withTools = tools != null ? tools : r.nextBoolean();
        String finish;
        String content = null;
        List<AnswerContent.ToolCall> calls = new ArrayList<>();
        String extra;
        if (withTools) {
            int n = 1 + r.nextInt(2);
            for (int i = 0; i < n; i++) {
                String name = pick(r, "get_weather", "get_weather", "get_weather", "get_time", "get_wether");
                ObjectNode args = JSON.createObjectNode();
                if (name.startsWith("get_wea")) {
                    args.put("city", text(r, 1 + r.nextInt(12)));
                    args.put("days", r.nextInt(-1, 16));
                    if (r.nextInt(4) == 0) {
                        args.put("unit", pick(r, "celsius", "fahrenheit", "kelvin"));
                    }
                }
                calls.add(new AnswerContent.ToolCall(name, maybeBreak(r, args.toString())));
            }
            finish = r.nextInt(8) == 0 ? "length" : "tool_calls";
            extra = ScorerTest.tools(pick(r, null, "\"auto\"", "\"required\""));
        } else {
            ObjectNode person = JSON.createObjectNode();
            person.put("name", text(r, r.nextInt(20)));
            person.put("age", r.nextInt(-3, 120));
            person.put("email", r.nextBoolean() ? "ada@example.com" : text(r, 6));
            if (r.nextInt(5) == 0) {
                person.put("extra", true);
            }
            content = r.nextInt(6) == 0 ? "```json\n" + person + "\n```" : maybeBreak(r, person.toString());
            finish = r.nextInt(8) == 0 ? "length" : "stop";
            extra = r.nextBoolean()
                    ? ScorerTest.jsonObjectFormat()
                    : ScorerTest.jsonSchemaFormat(ScorerTest.PERSON_SCHEMA);
        }
        AnswerContent expected = new AnswerContent(content, calls, finish);
        return new Sample(stream(r, expected), body(expected), expected, extra, seed);
    }

    /** The answer as OpenAI streams it: a role delta, content or argument deltas, the finish, usage, [DONE]. */
    private static byte[] stream(SplittableRandom r, AnswerContent a) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ObjectNode role = JSON.createObjectNode().put("role", "assistant");
        if (a.content() != null) {
            role.put("content", "");
        } else {
            role.putNull("content");
        }
        event(out, r, chunk(role, null));
        if (a.content() != null) {
            for (String piece : pieces(r, a.content())) {
                event(out, r, chunk(JSON.createObjectNode().put("content", piece), null));
            }
        }
        for (int i = 0; i < a.toolCalls().size(); i++) {
            AnswerContent.ToolCall call = a.toolCalls().get(i);
            boolean first = true;
            for (String piece : pieces(r, call.arguments())) {
                ObjectNode delta = JSON.createObjectNode();
                ObjectNode tc = delta.putArray("tool_calls").addObject().put("index", i);
                ObjectNode fn;
                if (first) {
                    tc.put("id", "call_" + i).put("type", "function");
                    fn = tc.putObject("function").put("name", call.name());
                } else {
                    fn = tc.putObject("function");
                }
                fn.put("arguments", first && r.nextBoolean() ? "" : piece);
                if (first && fn.get("arguments").asText().isEmpty() && !piece.isEmpty()) {
                    // the name came with empty arguments: the piece follows in its own delta
                    event(out, r, chunk(delta, null));
                    delta = JSON.createObjectNode();
                    delta.putArray("tool_calls")
                            .addObject()
                            .put("index", i)
                            .putObject("function")
                            .put("arguments", piece);
                }
                first = false;
                event(out, r, chunk(delta, null));
            }
        }
        event(out, r, chunk(JSON.createObjectNode(), a.finishReason()));
        if (r.nextBoolean()) {
            out.writeBytes(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
        }
        ObjectNode usage = JSON.createObjectNode().put("id", "chatcmpl-X").put("object", "chat.completion.chunk");
        usage.putArray("choices");
        usage.putObject("usage")
                .put("prompt_tokens", 20)
                .put("completion_tokens", 9)
                .put("total_tokens", 29);
        event(out, r, usage.toString());
        event(out, r, "[DONE]");
        return out.toByteArray();
    }

    private static String chunk(ObjectNode delta, String finish) {
        ObjectNode c = JSON.createObjectNode()
                .put("id", "chatcmpl-X")
                .put("object", "chat.completion.chunk")
                .put("created", 1_764_000_000)
                .put("model", "gpt-4o-mini");
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finish);
        return c.toString();
    }

    /** One SSE event with the line end of a random upstream ("\n", "\r\n", or now and then "\r"). */
    private static void event(ByteArrayOutputStream out, SplittableRandom r, String data) {
        String eol = pick(r, "\n", "\n", "\r\n", "\r\n", "\r");
        out.writeBytes(("data: " + data + eol + eol).getBytes(StandardCharsets.UTF_8));
    }

    /** The whole {@code chat.completion} saying {@code a}. */
    private static String body(AnswerContent a) {
        ObjectNode message = JSON.createObjectNode().put("role", "assistant");
        message.put("content", a.content());
        if (!a.toolCalls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (int i = 0; i < a.toolCalls().size(); i++) {
                AnswerContent.ToolCall call = a.toolCalls().get(i);
                calls.addObject()
                        .put("id", "call_" + i)
                        .put("type", "function")
                        .putObject("function")
                        .put("name", call.name())
                        .put("arguments", call.arguments());
            }
        }
        return ScorerTest.completion(message, a.finishReason());
    }

    /** {@code s} cut at 0–5 random code-point boundaries (never an empty piece unless {@code s} is empty). */
    private static List<String> pieces(SplittableRandom r, String s) {
        List<String> out = new ArrayList<>();
        int cuts = r.nextInt(6);
        int from = 0;
        for (int i = 0; i < cuts && from < s.length(); i++) {
            int to = s.offsetByCodePoints(from, 1 + r.nextInt(Math.max(1, s.codePointCount(from, s.length()))));
            if (to >= s.length()) {
                break;
            }
            out.add(s.substring(from, to));
            from = to;
        }
        out.add(s.substring(from));
        return out;
    }

    private static String maybeBreak(SplittableRandom r, String json) {
        return r.nextInt(5) == 0
                ? json.substring(0, json.offsetByCodePoints(0, r.nextInt(json.codePointCount(0, json.length()))))
                : json;
    }

    private static String text(SplittableRandom r, int codePoints) {
        StringBuilder b = new StringBuilder();
        int[] cps = CHARS.codePoints().toArray();
        for (int i = 0; i < codePoints; i++) {
            b.appendCodePoint(cps[r.nextInt(cps.length)]);
        }
        return b.toString();
    }

    @SafeVarargs
    private static <T> T pick(SplittableRandom r, T... options) {
        return options[r.nextInt(options.length)];
    }
}
