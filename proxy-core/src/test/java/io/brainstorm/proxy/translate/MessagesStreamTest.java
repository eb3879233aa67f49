package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Usage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessagesStreamTest {
    static final String REQUEST_ID = "req_R1";

    /** An OpenAI chunk with one choice; {@code delta} and {@code finish} as JSON text. */
    static String chunk(String delta, String finish) {
        return "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"
                + "\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":"
                + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}],\"usage\":null}";
    }

    static String delta(String delta) {
        return chunk(delta, "null");
    }

    static String text(String text) {
        return delta("{\"content\":" + Json.MAPPER.valueToTree(text) + "}");
    }

    static String usageChunk(long prompt, long completion, long cached) {
        return "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1733000000,"
                + "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt
                + ",\"completion_tokens\":" + completion + ",\"total_tokens\":" + (prompt + completion)
                + ",\"prompt_tokens_details\":{\"cached_tokens\":" + cached + "}}}";
    }

    static final String ROLE = delta("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}");

    static List<MessagesStream.Event> feed(MessagesStream s, String... chunks) {
        List<MessagesStream.Event> out = new ArrayList<>();
        for (String c : chunks) {
            out.addAll(s.feed(c));
        }
        return out;
    }

    /** The events' data as one JSON array; each event's name must be its data's type. */
    static void assertEvents(String expected, List<MessagesStream.Event> events) {
        ArrayNode actual = Json.MAPPER.createArrayNode();
        for (MessagesStream.Event e : events) {
            assertEquals(e.name(), e.data().path("type").asText(), () -> "event name of " + e.data());
            actual.add(e.data());
        }
        assertJson(expected, actual);
    }

    static final String START = "{'type':'message_start','message':{'id':'msg_R1','type':'message','role':'assistant',"
            + "'model':'openai/gpt-4o','content':[],'stop_reason':null,'stop_sequence':null,'usage':{'input_tokens':0,"
            + "'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':0}}}";

    @Test
    void textWithTheUsageChunkAfterTheFinish() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "openai/gpt-4o");
        List<MessagesStream.Event> body = feed(s, ROLE, text("Hel"), text("lo!"), chunk("{}", "\"stop\""));
        assertEvents(
                "[" + START + ","
                        + "{'type':'content_block_start','index':0,'content_block':{'type':'text','text':''}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'Hel'}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'text_delta','text':'lo!'}},"
                        + "{'type':'content_block_stop','index':0}]",
                body);
        assertEquals(MessagesStream.State.OPEN, s.state(), "message_delta waits for the usage");
        assertNull(s.stopReason());

        List<MessagesStream.Event> end = s.feed(usageChunk(1500, 12, 1024));
        assertEvents(
                "[{'type':'message_delta','delta':{'stop_reason':'end_turn','stop_sequence':null},"
                        + "'usage':{'input_tokens':476,'cache_creation_input_tokens':0,'cache_read_input_tokens':1024,"
                        + "'output_tokens':12}},{'type':'message_stop'}]",
                end);
        assertTrue(s.complete());
        assertEquals("end_turn", s.stopReason());
        assertEquals(new Usage(1500, 12, 1024, 0), s.usage());
        assertEquals(List.of(), s.feed("[DONE]"));
    }

    @Test
    void twoParallelToolCallsWithArgumentsSplitMidToken() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "openai/gpt-4o");
        List<MessagesStream.Event> events = feed(
                s,
                delta("{\"role\":\"assistant\",\"content\":null}"),
                delta("{\"tool_calls\":[{\"index\":0,\"id\":\"call_A\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}"),
                delta("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}"),
                delta("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"Par\"}}]}"),
                delta("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"is\\\"}\"}}]}"),
                delta("{\"tool_calls\":[{\"index\":1,\"id\":\"call_B\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\"}}]}"),
                delta("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"\\\":\\\"CET\\\"}\"}}]}"),
                chunk("{}", "\"tool_calls\""),
                usageChunk(80, 40, 0),
                "[DONE]");
        assertEvents(
                "[" + START + ","
                        + "{'type':'content_block_start','index':0,'content_block':{'type':'tool_use','id':'call_A',"
                        + "'name':'get_weather','input':{}}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta','partial_json':'{\\\"ci'}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta','partial_json':'ty\\\": \\\"Par'}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'input_json_delta','partial_json':'is\\\"}'}},"
                        + "{'type':'content_block_stop','index':0},"
                        + "{'type':'content_block_start','index':1,'content_block':{'type':'tool_use','id':'call_B',"
                        + "'name':'get_time','input':{}}},"
                        + "{'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta','partial_json':'{\\\"tz'}},"
                        + "{'type':'content_block_delta','index':1,'delta':{'type':'input_json_delta','partial_json':'\\\":\\\"CET\\\"}'}},"
                        + "{'type':'content_block_stop','index':1},"
                        + "{'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':null},"
                        + "'usage':{'input_tokens':80,'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':40}},"
                        + "{'type':'message_stop'}]",
                events);
        assertEquals("tool_use", s.stopReason());
    }

    @Test
    void reasoningThenTextAreAThinkingBlockThenATextBlock() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "openai/gpt-4o");
        List<MessagesStream.Event> events = feed(
                s,
                delta("{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"\"}"),
                delta("{\"reasoning_content\":\"Two plus\"}"),
                delta("{\"reasoning_content\":\" two.\"}"),
                delta("{\"content\":\"4\",\"reasoning_content\":null}"),
                chunk("{}", "\"stop\""),
                usageChunk(10, 20, 0));
        assertEvents(
                "[" + START + ","
                        + "{'type':'content_block_start','index':0,'content_block':{'type':'thinking','thinking':'','signature':''}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta','thinking':'Two plus'}},"
                        + "{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta','thinking':' two.'}},"
                        + "{'type':'content_block_stop','index':0},"
                        + "{'type':'content_block_start','index':1,'content_block':{'type':'text','text':''}},"
                        + "{'type':'content_block_delta','index':1,'delta':{'type':'text_delta','text':'4'}},"
                        + "{'type':'content_block_stop','index':1},"
                        + "{'type':'message_delta','delta':{'stop_reason':'end_turn','stop_sequence':null},"
                        + "'usage':{'input_tokens':10,'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':20}},"
                        + "{'type':'message_stop'}]",
                events);
    }

    @Test
    void doneWithoutUsageSendsTheHeldMessageDeltaWithNoCounts() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "openai/gpt-4o");
        feed(s, ROLE, text("Hi"), chunk("{}", "\"length\""));
        assertEquals(MessagesStream.State.OPEN, s.state());
        assertEvents(
                "[{'type':'message_delta','delta':{'stop_reason':'max_tokens','stop_sequence':null},"
                        + "'usage':{'output_tokens':0}},{'type':'message_stop'}]",
                s.feed("[DONE]"));
        assertTrue(s.complete());
        assertNull(s.usage());
    }

    @Test
    void usageOnTheFinishChunkEndsTheMessageAtOnce() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        feed(s, text("Hi"));
        String finishWithUsage = chunk("{}", "\"stop\"")
                .replace("\"usage\":null", "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}");
        List<MessagesStream.Event> end = s.feed(finishWithUsage);
        assertEquals(
                List.of("content_block_stop", "message_delta", "message_stop"),
                end.stream().map(MessagesStream.Event::name).toList());
        assertTrue(s.complete());
    }

    @Test
    void doneBeforeAnyFinishReasonEndsTheOpenBlockAsEndTurn() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        feed(s, text("Hi"));
        assertEquals(
                List.of("content_block_stop", "message_delta", "message_stop"),
                s.feed("[DONE]").stream().map(MessagesStream.Event::name).toList());
        assertEquals("end_turn", s.stopReason());
    }

    @Test
    void anErrorChunkEndsTheStreamWithAnErrorEventAndNoMessageStop() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        feed(s, text("Hi"));
        List<MessagesStream.Event> events = s.feed(
                "{\"error\":{\"message\":\"idle timeout\",\"type\":\"api_error\",\"param\":null,\"code\":\"upstream_timeout\"},"
                        + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"error\"}]}");
        assertEvents(
                "[{'type':'error','error':{'type':'api_error','message':'upstream_timeout: idle timeout'}}]", events);
        assertEquals(MessagesStream.State.BROKEN, s.state());
        assertEquals(List.of(), s.feed("[DONE]"));
    }

    @Test
    void errorGivesAnthropicsErrorEventAsSse() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        feed(s, text("Hi"));
        MessagesStream.Event e = s.error("overloaded_error", "The upstream closed the stream.");
        assertEquals(
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                        + "\"message\":\"The upstream closed the stream.\"}}\n\n",
                e.sse());
        assertEquals(MessagesStream.State.BROKEN, s.state());
        assertEquals("overloaded_error: The upstream closed the stream.", s.failure());
    }

    @Test
    void argumentsForAnEarlierToolCallBreakTheStream() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        feed(
                s,
                delta(
                        "{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"x\",\"arguments\":\"{\"}}]}"),
                delta(
                        "{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"y\",\"arguments\":\"{\"}}]}"));
        assertEquals(List.of(), s.feed(delta("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"}\"}}]}")));
        assertEquals(MessagesStream.State.BROKEN, s.state());
        assertEquals("tool call 0 continued after another block began (expected: one call at a time)", s.failure());
    }

    @Test
    void unreadableDataBreaksTheStream() {
        MessagesStream s = new MessagesStream(REQUEST_ID, "m");
        assertEquals(List.of(), s.feed("{not json"));
        assertEquals(MessagesStream.State.BROKEN, s.state());
        assertTrue(s.failure().startsWith("unreadable chunk"), s.failure());
    }
}
