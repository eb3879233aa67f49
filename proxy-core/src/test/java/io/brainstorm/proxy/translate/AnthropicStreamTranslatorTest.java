package io.brainstorm.proxy.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.relay.SseEventSplitter;
import io.brainstorm.proxy.relay.SseEvents;
import io.brainstorm.proxy.translate.AnthropicResponse.Usage;
import io.brainstorm.proxy.translate.AnthropicStreamTranslator.State;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Event sequences in the shapes of Anthropic's "Streaming Messages" documentation, translated to
 * the chunk stream an OpenAI client reads: the exact chunk JSON where the shape matters, and what
 * an SDK accumulates from it everywhere else.
 */
class AnthropicStreamTranslatorTest {
    private static final String MODEL = "anthropic/claude-sonnet-4-5";
    private static final long CREATED = 1_765_000_000L;
    private static final String HEAD = "{\"id\":\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
            + "\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"anthropic/claude-sonnet-4-5\",";

    /** The documentation's basic streaming request, as the upstream sends it on the wire. */
    private static final String TEXT_STREAM = "event: message_start\n"
            + "data: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
            + " \"type\": \"message\", \"role\": \"assistant\", \"content\": [], \"model\": \"claude-sonnet-4-5\","
            + " \"stop_reason\": null, \"stop_sequence\": null, \"usage\": {\"input_tokens\": 25, \"output_tokens\": 1}}}\n\n"
            + "event: content_block_start\n"
            + "data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n"
            + "event: ping\n"
            + "data: {\"type\": \"ping\"}\n\n"
            + "event: content_block_delta\n"
            + "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"Hello\"}}\n\n"
            + "event: content_block_delta\n"
            + "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"!\"}}\n\n"
            + "event: ping\n"
            + "data: {\"type\": \"ping\"}\n\n"
            + "event: content_block_stop\n"
            + "data: {\"type\": \"content_block_stop\", \"index\": 0}\n\n"
            + "event: message_delta\n"
            + "data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\":null},"
            + " \"usage\": {\"output_tokens\": 15}}\n\n"
            + "event: message_stop\n"
            + "data: {\"type\": \"message_stop\"}\n\n";

    @Test
    void plainTextBecomesTheChunksOpenAiSends() {
        AnthropicStreamTranslator t = translator(false, false);

        List<String> out = feedWire(t, TEXT_STREAM);

        assertEquals(
                List.of(
                        HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                                + "\"finish_reason\":null}]}",
                        HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}",
                        HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":null}]}",
                        HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
                        "[DONE]"),
                out);
        assertEquals(State.COMPLETE, t.state());
        assertTrue(t.complete());
        assertEquals("stop", t.finishReason());
        assertEquals(new Usage(25, 15, 0, 0, 0), t.usage());
        assertNull(t.failure());
    }

    @Test
    void includeUsageAddsNullUsageToEveryChunkAndAUsageChunkBeforeDone() {
        AnthropicStreamTranslator t = translator(true, false);

        List<String> out = feedWire(t, TEXT_STREAM);

        assertEquals(6, out.size(), out::toString);
        assertEquals(
                HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}],"
                        + "\"usage\":null}",
                out.get(1));
        for (String chunk : out.subList(0, 4)) {
            assertTrue(OpenAiStreamAccumulator.parse(chunk).get("usage").isNull(), chunk);
        }
        assertEquals(
                HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":15,\"total_tokens\":40,"
                        + "\"prompt_tokens_details\":{\"cached_tokens\":0}}}",
                out.get(4));
        assertEquals("[DONE]", out.get(5));
    }

    @Test
    void withoutIncludeUsageNoChunkMentionsUsage() {
        List<String> out = feedWire(translator(false, false), TEXT_STREAM);

        for (String chunk : out.subList(0, out.size() - 1)) {
            assertFalse(OpenAiStreamAccumulator.parse(chunk).has("usage"), chunk);
            assertEquals(1, OpenAiStreamAccumulator.parse(chunk).get("choices").size(), chunk);
        }
    }

    @Test
    void toolArgumentsSplitMidTokenReassembleToTheOriginalInput() {
        AnthropicStreamTranslator t = translator(false, false);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed(messageStart("msg_014p7gG3wDgGV9EUtLvnow3U", 472, 0, 0)));
        out.addAll(t.feed("{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
        out.addAll(t.feed(textDelta(0, "Okay, let's check the weather for San Francisco, CA:")));
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":0}"));
        out.addAll(t.feed("{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
                + "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}"));
        String original =
                "{\"location\": \"San Francisco, CA\", \"unit\": \"fahrenheit\", \"note\": \"caf\\u00e9 \\\"x\\\"\"}";
        // cut inside a key, a string, an escape sequence and a \\u escape: fragments are not tokens
        int[] cuts = {0, 4, 18, 23, 45, 61, 69, 72, 76, original.length()};
        for (int k = 0; k + 1 < cuts.length; k++) {
            out.addAll(t.feed(inputJsonDelta(1, original.substring(cuts[k], cuts[k + 1]))));
        }
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":1}"));
        out.addAll(t.feed(messageDelta("tool_use", "{\"output_tokens\":89}")));
        out.addAll(t.feed("{\"type\":\"message_stop\"}"));

        assertEquals(
                HEAD.replace("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "msg_014p7gG3wDgGV9EUtLvnow3U")
                        + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                        + "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}",
                out.get(2));
        assertEquals(
                "{\"index\":0,\"function\":{\"arguments\":\"{\\\"lo\"}}",
                OpenAiStreamAccumulator.parse(out.get(3))
                        .at("/choices/0/delta/tool_calls/0")
                        .toString());
        OpenAiStreamAccumulator sdk = accumulate(out);
        assertEquals("Okay, let's check the weather for San Francisco, CA:", sdk.content.toString());
        assertEquals(1, sdk.toolCalls.size());
        OpenAiStreamAccumulator.ToolCall call = sdk.toolCalls.get(0);
        assertEquals("toolu_01T1x1fJ34qAmk2tNTrN7Up6", call.id);
        assertEquals("function", call.type);
        assertEquals("get_weather", call.name);
        assertEquals(OpenAiStreamAccumulator.parse(original), OpenAiStreamAccumulator.parse(call.arguments.toString()));
        assertEquals("tool_calls", sdk.finishReason);
        assertTrue(sdk.done);
    }

    @Test
    void twoParallelToolsAfterThinkingAreToolCallsZeroAndOne() {
        AnthropicStreamTranslator t = translator(false, false);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed(messageStart("msg_01", 100, 0, 0)));
        out.addAll(t.feed("{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"));
        out.addAll(t.feed("{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Two cities, \"}}"));
        out.addAll(t.feed("{\"type\":\"content_block_delta\",\"index\":0,"
                + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"two calls.\"}}"));
        out.addAll(t.feed("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
                + "\"signature\":\"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds\"}}"));
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":0}"));
        out.addAll(t.feed(toolStart(1, "toolu_A", "get_weather")));
        out.addAll(t.feed(inputJsonDelta(1, "{\"location\": \"Par")));
        out.addAll(t.feed(toolStart(2, "toolu_B", "get_time")));
        out.addAll(t.feed(inputJsonDelta(2, "{\"tz\": \"Asia/Tokyo\"}")));
        out.addAll(t.feed(inputJsonDelta(1, "is\"}")));
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":1}"));
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":2}"));
        out.addAll(t.feed(messageDelta("tool_use", "{\"output_tokens\":120}")));
        out.addAll(t.feed("{\"type\":\"message_stop\"}"));

        assertEquals(
                "{\"index\":1,\"function\":{\"arguments\":\"{\\\"tz\\\": \\\"Asia/Tokyo\\\"}\"}}",
                OpenAiStreamAccumulator.parse(out.get(6))
                        .at("/choices/0/delta/tool_calls/0")
                        .toString());
        OpenAiStreamAccumulator sdk = accumulate(out);
        assertEquals("Two cities, two calls.", sdk.reasoning.toString());
        assertEquals("", sdk.content.toString());
        assertEquals(2, sdk.toolCalls.size());
        assertEquals("toolu_A", sdk.toolCalls.get(0).id);
        assertEquals("get_weather", sdk.toolCalls.get(0).name);
        assertEquals("{\"location\": \"Paris\"}", sdk.toolCalls.get(0).arguments.toString());
        assertEquals("toolu_B", sdk.toolCalls.get(1).id);
        assertEquals("get_time", sdk.toolCalls.get(1).name);
        assertEquals("{\"tz\": \"Asia/Tokyo\"}", sdk.toolCalls.get(1).arguments.toString());
        assertEquals("tool_calls", sdk.finishReason);
        for (String chunk : out) {
            assertFalse(chunk.contains("EqQBCgIYAhIM"), "the thinking signature reached the client: " + chunk);
        }
    }

    @Test
    void errorEventMidStreamBreaksTheStreamWithoutDone() {
        AnthropicStreamTranslator t = translator(true, false);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed(messageStart("msg_01", 10, 0, 0)));
        out.addAll(t.feed(textDelta(0, "Once upon")));
        out.addAll(t.feed("{\"type\": \"ping\"}"));

        List<String> onError = t.feed(
                "{\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}");

        assertEquals(List.of(), onError);
        assertEquals(State.BROKEN, t.state());
        assertFalse(t.complete());
        assertEquals("overloaded_error", t.errorType());
        assertEquals("overloaded_error: Overloaded", t.failure());
        assertNull(t.finishReason());
        // what was counted before the break stays, for billing the broken stream
        assertEquals(new Usage(10, 1, 0, 0, 0), t.usage());
        // whatever still arrives is not relayed: a cut answer never looks whole
        assertEquals(List.of(), t.feed(textDelta(0, " a time")));
        assertEquals(List.of(), t.feed(messageDelta("end_turn", "{\"output_tokens\":5}")));
        assertEquals(List.of(), t.feed("{\"type\":\"message_stop\"}"));
        OpenAiStreamAccumulator sdk = accumulate(out);
        assertEquals("Once upon", sdk.content.toString());
        assertFalse(sdk.done);
        assertEquals("", sdk.finishReason);
        assertTrue(sdk.usage.isMissingNode(), "no usage chunk for a broken stream");
    }

    @Test
    void messageDeltaUsageWithoutInputCountsKeepsThoseOfMessageStart() {
        AnthropicStreamTranslator t = translator(true, false);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed("{\"type\":\"message_start\",\"message\":{\"id\":\"msg_c\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,"
                + "\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":2000,\"cache_read_input_tokens\":30000,"
                + "\"cache_creation\":{\"ephemeral_5m_input_tokens\":1500,\"ephemeral_1h_input_tokens\":500},"
                + "\"output_tokens\":1}}}"));
        out.addAll(t.feed(textDelta(0, "Cached.")));
        // one snapshot leaves the input counts out, a later one gives them as 0: neither lowers them
        out.addAll(t.feed(
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":{\"output_tokens\":3}}"));
        out.addAll(t.feed("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
                + "\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":null,"
                + "\"output_tokens\":7}}"));
        out.addAll(t.feed("{\"type\":\"message_stop\"}"));

        assertEquals(new Usage(12, 7, 2000, 500, 30000), t.usage());
        assertEquals(
                new io.brainstorm.proxy.settle.Usage(32012, 7, 30000, 0, 1500, 500),
                t.usage().toSettle());
        OpenAiStreamAccumulator sdk = accumulate(out);
        assertEquals(
                "{\"prompt_tokens\":32012,\"completion_tokens\":7,\"total_tokens\":32019,"
                        + "\"prompt_tokens_details\":{\"cached_tokens\":30000}}",
                sdk.usage.toString());
        assertEquals("stop", sdk.finishReason);
        assertEquals(
                1,
                out.stream()
                        .filter(c -> c.contains("\"finish_reason\":\"stop\""))
                        .count(),
                out::toString);
    }

    @Test
    void jsonSchemaForcedToolStreamsItsInputAsContent() {
        AnthropicStreamTranslator t = translator(false, true);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed(messageStart("msg_j", 50, 0, 0)));
        out.addAll(t.feed(toolStart(0, "toolu_J", "json_answer")));
        out.addAll(t.feed(inputJsonDelta(0, "")));
        out.addAll(t.feed(inputJsonDelta(0, "{\"name\": \"Ad")));
        out.addAll(t.feed(inputJsonDelta(0, "a\", \"age\": 3")));
        out.addAll(t.feed(inputJsonDelta(0, "6}")));
        out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":0}"));
        out.addAll(t.feed(messageDelta("tool_use", "{\"output_tokens\":20}")));
        out.addAll(t.feed("{\"type\":\"message_stop\"}"));

        assertEquals(
                HEAD.replace("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "msg_j")
                        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"name\\\": \\\"Ad\"},"
                        + "\"finish_reason\":null}]}",
                out.get(1));
        OpenAiStreamAccumulator sdk = accumulate(out);
        assertEquals("{\"name\": \"Ada\", \"age\": 36}", sdk.content.toString());
        assertEquals(List.of(), sdk.toolCalls);
        assertEquals("stop", sdk.finishReason);
        assertEquals("stop", t.finishReason());
        assertEquals(6, out.size(), "role, three fragments, finish, [DONE]: " + out);
    }

    @ParameterizedTest
    @CsvSource({
        "end_turn, stop",
        "stop_sequence, stop",
        "pause_turn, stop",
        "max_tokens, length",
        "model_context_window_exceeded, length",
        "tool_use, tool_calls",
        "refusal, content_filter",
        "some_future_reason, stop"
    })
    void stopReasonsMapToOpenAiFinishReasons(String stopReason, String finishReason) {
        AnthropicStreamTranslator t = translator(false, false);
        t.feed(messageStart("msg_s", 1, 0, 0));

        List<String> out = t.feed(messageDelta(stopReason, "{\"output_tokens\":1}"));

        assertEquals(1, out.size());
        JsonNode choice = OpenAiStreamAccumulator.parse(out.get(0)).at("/choices/0");
        assertEquals(finishReason, choice.get("finish_reason").asText());
        assertEquals(0, choice.get("delta").size());
        assertEquals(finishReason, t.finishReason());
    }

    @Test
    void unreadableOrOutOfOrderEventsBreakTheStream() {
        AnthropicStreamTranslator early = translator(false, false);
        assertEquals(List.of(), early.feed(textDelta(0, "no start")));
        assertEquals(State.BROKEN, early.state());
        assertEquals("event content_block_delta before message_start", early.failure());

        AnthropicStreamTranslator garbled = translator(false, false);
        garbled.feed(messageStart("msg_g", 1, 0, 0));
        assertEquals(List.of(), garbled.feed("{\"type\":\"content_block_delta\",\"index\":0,"));
        assertEquals(State.BROKEN, garbled.state());
        assertNull(garbled.errorType());

        AnthropicStreamTranslator stray = translator(false, false);
        stray.feed(messageStart("msg_t", 1, 0, 0));
        stray.feed(
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        assertEquals(List.of(), stray.feed(inputJsonDelta(0, "{")));
        assertEquals("input_json_delta for content block 0 (expected: a tool_use block)", stray.failure());
    }

    @Test
    void unknownEventsAndBlocksAndBlankDataGiveNothing() {
        AnthropicStreamTranslator t = translator(false, false);
        t.feed(messageStart("msg_u", 1, 0, 0));

        assertEquals(List.of(), t.feed(""));
        assertEquals(List.of(), t.feed("{\"type\":\"some_new_event\",\"x\":1}"));
        assertEquals(
                List.of(),
                t.feed("{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"server_tool_use\","
                        + "\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}}}"));
        assertEquals(List.of(), t.feed("{\"type\":\"content_block_stop\",\"index\":0}"));
        assertEquals(State.OPEN, t.state());
        // a server tool is not a client tool call: the next tool_use is still tool call 0
        List<String> tool = t.feed(toolStart(1, "toolu_X", "f"));
        assertEquals(
                0,
                OpenAiStreamAccumulator.parse(tool.get(0))
                        .at("/choices/0/delta/tool_calls/0/index")
                        .asInt(-1));
    }

    @Test
    void rejectsANegativeCreated() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new AnthropicStreamTranslator(MODEL, -1, false, false));
        assertEquals("created: -1 (expected: >= 0)", e.getMessage());
    }

    static AnthropicStreamTranslator translator(boolean includeUsage, boolean jsonSchemaTool) {
        return new AnthropicStreamTranslator(MODEL, CREATED, includeUsage, jsonSchemaTool);
    }

    /** Cuts {@code wire} into events as the relay does and feeds each event's data. */
    static List<String> feedWire(AnthropicStreamTranslator t, String wire) {
        SseEventSplitter splitter = new SseEventSplitter(64 * 1024);
        List<String> out = new ArrayList<>();
        splitter.feed(Unpooled.copiedBuffer(wire, StandardCharsets.UTF_8), event -> {
            try {
                out.addAll(t.feed(SseEvents.data(event)));
            } finally {
                event.release();
            }
        });
        splitter.release();
        return out;
    }

    static OpenAiStreamAccumulator accumulate(List<String> events) {
        OpenAiStreamAccumulator sdk = new OpenAiStreamAccumulator();
        sdk.accept(events);
        return sdk;
    }

    static String messageStart(String id, long input, long cacheCreation, long cacheRead) {
        return "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id
                + "\",\"type\":\"message\",\"role\":\"assistant\","
                + "\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,"
                + "\"usage\":{\"input_tokens\":" + input + ",\"cache_creation_input_tokens\":" + cacheCreation
                + ",\"cache_read_input_tokens\":" + cacheRead + ",\"output_tokens\":1}}}";
    }

    static String textDelta(int index, String text) {
        return "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"text_delta\",\"text\":"
                + quote(text) + "}}";
    }

    static String toolStart(int index, String id, String name) {
        return "{\"type\":\"content_block_start\",\"index\":" + index + ",\"content_block\":{\"type\":\"tool_use\","
                + "\"id\":\"" + id + "\",\"name\":\"" + name + "\",\"input\":{}}}";
    }

    static String inputJsonDelta(int index, String partial) {
        return "{\"type\":\"content_block_delta\",\"index\":" + index
                + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + quote(partial) + "}}";
    }

    static String messageDelta(String stopReason, String usage) {
        return "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason
                + "\",\"stop_sequence\":null},\"usage\":" + usage + "}";
    }

    static String quote(String s) {
        return Json.MAPPER.getNodeFactory().textNode(s).toString();
    }
}
