package io.brainstorm.proxy.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * However an OpenAI-type upstream cuts an answer into chunks, the Anthropic events made from them,
 * read as the Anthropic SDKs read a stream (blocks opened by {@code content_block_start}, text and
 * thinking appended, {@code partial_json} gathered and parsed at {@code content_block_stop}), give
 * the same content blocks, stop reason and usage as {@link MessagesResponse} gives for the whole
 * answer; and the events keep Anthropic's order (one {@code message_start} first, blocks that never
 * overlap with indexes from 0, {@code message_delta} then {@code message_stop} last).
 */
class MessagesStreamPropertiesTest {
    private static final String REQUEST_ID = "req_P";

    /** One generated tool call: a name and the string values of its arguments object. */
    record Call(String name, List<String> values) {}

    @Test
    void anyCutOfAnAnswerReadsAsTheWholeAnswer() {
        qt().withExamples(400)
                .forAll(text(), text(), lists().of(calls()).ofSizeBetween(0, 3), longs().all())
                .checkAssert((reasoning, content, calls, seed) ->
                        check(reasoning, content, calls, new SplittableRandom(seed)));
    }

    private static Gen<String> text() {
        Gen<String> latin = strings().basicLatinAlphabet().ofLengthBetween(0, 40);
        // below the surrogates, and emoji (surrogate pairs in Java strings)
        Gen<String> wide = strings().betweenCodePoints(0x20, 0xD7FF).ofLengthBetween(0, 12);
        Gen<String> emoji = strings().betweenCodePoints(0x1F600, 0x1F64F).ofLengthBetween(0, 6);
        return latin.mix(wide, 20).mix(emoji, 10);
    }

    private static Gen<Call> calls() {
        return strings()
                .basicLatinAlphabet()
                .ofLengthBetween(1, 8)
                .zip(lists().of(text()).ofSizeBetween(0, 3), Call::new);
    }

    private static void check(String reasoning, String content, List<Call> calls, SplittableRandom random) {
        String finish = calls.isEmpty() ? (random.nextBoolean() ? "stop" : "length") : "tool_calls";
        ObjectNode message = Json.MAPPER.createObjectNode().put("role", "assistant");
        if (!reasoning.isEmpty()) {
            message.put("reasoning_content", reasoning);
        }
        message.put("content", content.isEmpty() ? null : content);
        List<String> arguments = new ArrayList<>();
        if (!calls.isEmpty()) {
            ArrayNode toolCalls = message.putArray("tool_calls");
            for (int k = 0; k < calls.size(); k++) {
                ObjectNode args = Json.MAPPER.createObjectNode();
                List<String> values = calls.get(k).values();
                for (int v = 0; v < values.size(); v++) {
                    args.put("p" + v, values.get(v));
                }
                arguments.add(Json.write(args));
                ObjectNode call = toolCalls.addObject().put("id", "call_" + k).put("type", "function");
                call.putObject("function").put("name", calls.get(k).name()).put("arguments", arguments.get(k));
            }
        }
        ObjectNode usage = Json.MAPPER.createObjectNode();
        usage.put("prompt_tokens", 300).put("completion_tokens", 25).put("total_tokens", 325);
        usage.putObject("prompt_tokens_details").put("cached_tokens", 128);
        ObjectNode completion = Json.MAPPER.createObjectNode();
        ObjectNode choice = completion.putArray("choices").addObject().put("index", 0);
        choice.set("message", message);
        choice.put("finish_reason", finish);
        completion.set("usage", usage);
        MessagesResponse.Message whole = MessagesResponse.translate(completion, REQUEST_ID, "m");

        List<String> chunks = new ArrayList<>();
        chunks.add(chunk("{\"role\":\"assistant\",\"content\":\"\"}", null, null));
        for (String piece : cut(reasoning, random)) {
            chunks.add(chunk("{\"reasoning_content\":" + quote(piece) + "}", null, null));
        }
        for (String piece : cut(content, random)) {
            chunks.add(chunk("{\"content\":" + quote(piece) + "}", null, null));
        }
        for (int k = 0; k < calls.size(); k++) {
            chunks.add(chunk(
                    "{\"tool_calls\":[{\"index\":" + k + ",\"id\":\"call_" + k + "\",\"type\":\"function\","
                            + "\"function\":{\"name\":" + quote(calls.get(k).name()) + ",\"arguments\":\"\"}}]}",
                    null,
                    null));
            for (String piece : cut(arguments.get(k), random)) {
                chunks.add(chunk(
                        "{\"tool_calls\":[{\"index\":" + k + ",\"function\":{\"arguments\":" + quote(piece) + "}}]}",
                        null,
                        null));
            }
        }
        boolean usageOnFinish = random.nextInt(4) == 0;
        chunks.add(chunk("{}", finish, usageOnFinish ? usage : null));
        if (!usageOnFinish) {
            chunks.add("{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":" + usage + "}");
        }
        chunks.add("[DONE]");

        MessagesStream stream = new MessagesStream(REQUEST_ID, "m");
        List<MessagesStream.Event> events = new ArrayList<>();
        for (String c : chunks) {
            events.addAll(stream.feed(c));
        }
        assertTrue(stream.complete(), () -> "not complete: " + stream.failure());
        ObjectNode read = readAsAnSdkDoes(events);
        assertEquals(whole.body().get("content"), read.get("content"));
        assertEquals(whole.body().get("stop_reason"), read.get("stop_reason"));
        assertEquals(whole.body().get("usage"), read.get("usage"));
        assertEquals(whole.body().get("id"), read.get("id"));
    }

    /** Accumulates events into a message, as the Anthropic SDKs do, checking their order on the way. */
    private static ObjectNode readAsAnSdkDoes(List<MessagesStream.Event> events) {
        assertEquals("message_start", events.get(0).name());
        ObjectNode message = events.get(0).data().get("message").deepCopy();
        ArrayNode content = (ArrayNode) message.get("content");
        StringBuilder json = new StringBuilder();
        int open = -1;
        for (int i = 1; i < events.size(); i++) {
            MessagesStream.Event e = events.get(i);
            JsonNode d = e.data();
            assertEquals(e.name(), d.get("type").asText());
            switch (e.name()) {
                case "content_block_start" -> {
                    assertEquals(-1, open, "a block opened inside another");
                    open = d.get("index").asInt();
                    assertEquals(content.size(), open, "block indexes count from 0");
                    content.add(d.get("content_block").deepCopy());
                    json.setLength(0);
                }
                case "content_block_delta" -> {
                    assertEquals(open, d.get("index").asInt());
                    ObjectNode block = (ObjectNode) content.get(open);
                    JsonNode delta = d.get("delta");
                    switch (delta.get("type").asText()) {
                        case "text_delta" ->
                            block.put(
                                    "text",
                                    block.get("text").asText()
                                            + delta.get("text").asText());
                        case "thinking_delta" ->
                            block.put(
                                    "thinking",
                                    block.get("thinking").asText()
                                            + delta.get("thinking").asText());
                        case "input_json_delta" ->
                            json.append(delta.get("partial_json").asText());
                        default -> throw new AssertionError("delta " + delta);
                    }
                }
                case "content_block_stop" -> {
                    assertEquals(open, d.get("index").asInt());
                    ObjectNode block = (ObjectNode) content.get(open);
                    if (block.get("type").asText().equals("tool_use") && json.length() > 0) {
                        block.set("input", parse(json.toString()));
                    }
                    open = -1;
                }
                case "message_delta" -> {
                    assertEquals(-1, open, "message_delta inside a block");
                    assertEquals(events.size() - 2, i, "message_delta is next to last");
                    message.set("stop_reason", d.get("delta").get("stop_reason"));
                    ((ObjectNode) message.get("usage")).setAll((ObjectNode) d.get("usage"));
                }
                case "message_stop" -> assertEquals(events.size() - 1, i, "message_stop is last");
                default -> throw new AssertionError("event " + e.name());
            }
        }
        return message;
    }

    private static String chunk(String delta, String finish, JsonNode usage) {
        return "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"x\",\"choices\":[{\"index\":0,"
                + "\"delta\":" + delta + ",\"finish_reason\":" + (finish == null ? "null" : quote(finish)) + "}],"
                + "\"usage\":" + (usage == null ? "null" : usage.toString()) + "}";
    }

    /** {@code s} in pieces of random length, never splitting a surrogate pair; none for "". */
    private static List<String> cut(String s, SplittableRandom random) {
        List<String> pieces = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int end = Math.min(s.length(), i + 1 + random.nextInt(6));
            if (end < s.length() && Character.isHighSurrogate(s.charAt(end - 1))) {
                end++;
            }
            pieces.add(s.substring(i, end));
            i = end;
        }
        return pieces;
    }

    private static String quote(String s) {
        return Json.write(Json.MAPPER.getNodeFactory().textNode(s));
    }

    private static JsonNode parse(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
