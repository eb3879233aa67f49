package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.ScoringConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The side copy of a streamed answer: what it keeps from real-looking OpenAI chunks, and what it ignores. */
class StreamCaptureTest {
    private static final String HEAD =
            "{\"id\":\"chatcmpl-AbC\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,"
                    + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[";

    static String chunk(String delta, String finishReason) {
        return "data: " + HEAD + "{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":"
                + (finishReason == null ? "null" : "\"" + finishReason + "\"") + "}]}\n\n";
    }

    /** Feeds each event (from a pooled direct buffer), checking the capture neither moves nor releases it. */
    static void feed(StreamCapture capture, String... events) {
        for (String e : events) {
            byte[] bytes = e.getBytes(StandardCharsets.UTF_8);
            ByteBuf buf =
                    PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            try {
                capture.onEvent(buf);
                assertEquals(0, buf.readerIndex());
                assertEquals(bytes.length, buf.writerIndex());
                assertEquals(1, buf.refCnt());
                byte[] after = new byte[bytes.length];
                buf.getBytes(0, after);
                assertArrayEquals(bytes, after, "the relayed bytes are untouched");
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void contentDeltasAreJoined() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                chunk("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", null),
                chunk("{\"content\":\"{\\\"name\\\":\"}", null),
                chunk("{\"content\":\" \\\"Zoë \\uD83D\\uDE00\\\"\"}", null),
                chunk("{\"content\":\"}\"}", null),
                chunk("{}", "stop"),
                "data: {\"id\":\"chatcmpl-AbC\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                        + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}\n\n",
                "data: [DONE]\n\n");
        assertEquals(new AnswerContent("{\"name\": \"Zoë 😀\"}", List.of(), "stop"), c.answer());
        assertFalse(c.overLimit());
        assertEquals(StreamCapture.keptBytes(c.answer()), c.keptBytes());
    }

    @Test
    void toolCallArgumentsAreAssembledByIndex() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                chunk(
                        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\","
                                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}],\"refusal\":null}",
                        null),
                chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}", null),
                chunk(
                        "{\"tool_calls\":[{\"index\":1,\"id\":\"call_B\",\"type\":\"function\","
                                + "\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]}",
                        null),
                chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"Paris\\\"}\"}}]}", null),
                chunk("{}", "tool_calls"),
                "data: [DONE]\n\n");
        assertEquals(
                new AnswerContent(
                        null,
                        List.of(
                                new AnswerContent.ToolCall("get_weather", "{\"city\": \"Paris\"}"),
                                new AnswerContent.ToolCall("get_time", "{}")),
                        "tool_calls"),
                c.answer());
    }

    @Test
    void toolCallsWithoutIndexAreToldApartById() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                chunk(
                        "{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}",
                        null),
                chunk("{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}", null),
                chunk("{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}", null),
                chunk("{}", "tool_calls"));
        assertEquals(
                List.of(new AnswerContent.ToolCall("f", "{\"x\":1}"), new AnswerContent.ToolCall("g", "{}")),
                c.answer().toolCalls());
    }

    @Test
    void legacyFunctionCallDeltasAreOneCall() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                chunk(
                        "{\"role\":\"assistant\",\"content\":null,\"function_call\":{\"name\":\"get_weather\",\"arguments\":\"\"}}",
                        null),
                chunk("{\"function_call\":{\"arguments\":\"{\\\"city\\\":\"}}", null),
                chunk("{\"function_call\":{\"arguments\":\"\\\"Lima\\\"}\"}}", null),
                chunk("{}", "function_call"));
        assertEquals(
                List.of(new AnswerContent.ToolCall("get_weather", "{\"city\":\"Lima\"}")),
                c.answer().toolCalls());
    }

    @Test
    void sseFramingVariantsAreRead() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                ": keep-alive comment\n\n",
                "event: message\r\nid: 1\r\ndata: " + HEAD + "{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\n",
                // one JSON object over two data lines: joined with "\n", which JSON allows between tokens
                "data:" + HEAD + "{\"index\":0,\n" + "data: \"delta\":{\"content\":\"b\"}}]}\n\n",
                "data: " + HEAD + "{\"index\":0,\"delta\":{\"content\":\"c\"}}]}\r\r",
                ": comment\ndata: " + HEAD + "{\"index\":0,\"delta\":{\"content\":\"d\"}}]}\n: another\n\n",
                "\n",
                "retry: 1000\n\n");
        assertEquals("abcd", c.answer().content());
    }

    @Test
    void eventsThatAreNotChunksAreIgnored() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                chunk("{\"content\":\"kept\"}", null),
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"broken\"}}]\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"trailing\"}}]} x\n\n",
                "data: not json\n\n",
                "data: [1,2]\n\n",
                "data: [DONE]\n\n",
                "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
                "id: 7\n\n",
                chunk("{\"content\":\" too\"}", null));
        assertEquals("kept too", c.answer().content());
    }

    @Test
    void otherChoicesAreIgnored() {
        StreamCapture c = new StreamCapture(1 << 20);
        feed(
                c,
                "data: " + HEAD
                        + "{\"index\":1,\"delta\":{\"content\":\"B\"}},{\"index\":0,\"delta\":{\"content\":\"A\"}}]}\n\n",
                "data: " + HEAD + "{\"delta\":{\"content\":\"b\"},\"index\":1,\"finish_reason\":\"length\"}]}\n\n",
                "data: " + HEAD + "{\"delta\":{\"content\":\"a\"},\"index\":0,\"finish_reason\":\"stop\"}]}\n\n");
        assertEquals(new AnswerContent("Aa", List.of(), "stop"), c.answer());
    }

    @Test
    void anAnswerLargerThanTheLimitIsDroppedAndNotScored() {
        StreamCapture c = new StreamCapture(100);
        feed(c, chunk("{\"content\":\"" + "x".repeat(60) + "\"}", null));
        assertFalse(c.overLimit());
        assertEquals(60, c.keptBytes());
        feed(c, chunk("{\"content\":\"" + "é".repeat(30) + "\"}", null)); // 60 bytes in UTF-8
        assertTrue(c.overLimit());
        feed(c, chunk("{\"content\":\"more\"}", "stop"));
        assertEquals(new AnswerContent(null, List.of(), null), c.answer(), "nothing kept, later events not read");

        Scorer scorer = new Scorer(new ScoringConfig(true, 100, 64 * 1024, 1));
        ScoreSpec json = ScoreSpec.of(ScorerTest.request(ScorerTest.jsonObjectFormat()), scorer);
        assertEquals(new Scorer.Result(Completion.NO_SCORE, ScoreOutcome.OVER_LIMIT), scorer.score(json, c));
        assertEquals(ScoreOutcome.PLAIN_OK, scorer.score(ScoreSpec.PLAIN, c).outcome());
    }

    @Test
    void manyEmptyToolCallsCountAgainstTheLimit() {
        StreamCapture c = new StreamCapture(1000);
        for (int i = 0; i < 40 && !c.overLimit(); i++) {
            feed(c, chunk("{\"tool_calls\":[{\"index\":" + i + ",\"function\":{\"arguments\":\"\"}}]}", null));
        }
        assertTrue(c.overLimit(), "calls with no text still cost " + StreamCapture.CALL_OVERHEAD + " bytes each");
    }

    @Test
    void eventsSplitAcrossBuffersAreReadWhole() {
        String event = chunk("{\"content\":\"joined\"}", null);
        byte[] bytes = event.getBytes(StandardCharsets.UTF_8);
        CompositeByteBuf composite = Unpooled.compositeBuffer();
        composite.addComponent(true, Unpooled.copiedBuffer(bytes, 0, 17));
        composite.addComponent(
                true, PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes, 17, bytes.length - 17));
        composite.readerIndex(0);
        StreamCapture c = new StreamCapture(1 << 20);
        try {
            c.onEvent(composite);
            assertEquals(0, composite.readerIndex());
        } finally {
            composite.release();
        }
        assertEquals("joined", c.answer().content());
    }

    @Test
    void aNegativeLimitIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new StreamCapture(-1));
        assertEquals("maxBytes: -1 (expected: >= 0)", e.getMessage());
    }

    @Test
    void streamedAnswersScoreLikeWholeOnes() {
        Scorer scorer = new Scorer(ScoringConfig.DEFAULTS);
        ScoreSpec tools = ScoreSpec.of(ScorerTest.request(ScorerTest.tools("\"required\"")), scorer);
        StreamCapture good = scorer.capture();
        feed(
                good,
                chunk(
                        "{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
                        null),
                chunk(
                        "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\",\"}}]}",
                        null),
                chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"days\\\":2}\"}}]}", null),
                chunk("{}", "tool_calls"));
        assertEquals(new Scorer.Result(1, ScoreOutcome.VALID), scorer.score(tools, good));

        StreamCapture cut = scorer.capture();
        feed(
                cut,
                chunk(
                        "{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]}",
                        null),
                chunk("{}", "length"));
        assertEquals(ScoreOutcome.CUT_BY_LENGTH, scorer.score(tools, cut).outcome());

        StreamCapture words = scorer.capture();
        feed(words, chunk("{\"content\":\"Oslo is cold.\"}", "stop"));
        assertEquals(ScoreOutcome.UNKNOWN_TOOL, scorer.score(tools, words).outcome());
    }
}
