package io.brainstorm.proxy.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.relay.SseEvents;
import io.brainstorm.proxy.settle.AnswerContent;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.StreamCapture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * However Anthropic cuts an answer into deltas, the translated stream says what the whole answer
 * says: read as an OpenAI SDK reads it, and as the gateway's own scorer captures it, it has the
 * content, reasoning and tool calls (ids, names, arguments) of the {@code chat.completion} that the
 * non-streamed translation rules of issue 13 give for the same Anthropic message.
 */
class AnthropicStreamPropertiesTest {
    /** One content block of a generated Anthropic message. */
    record Block(Kind kind, String text) {}

    enum Kind {
        TEXT,
        THINKING,
        TOOL
    }

    @Test
    void anyCutOfAnAnswerAccumulatesToTheWholeAnswer() {
        qt().withExamples(400)
                .forAll(
                        lists().of(blocks()).ofSizeBetween(0, 6),
                        longs().all(),
                        booleans().all())
                .checkAssert((blocks, seed, includeUsage) -> check(blocks, new SplittableRandom(seed), includeUsage));
    }

    private static void check(List<Block> blocks, SplittableRandom random, boolean includeUsage) {
        AnthropicStreamTranslator t =
                new AnthropicStreamTranslator("anthropic/claude-sonnet-4-5", 1, includeUsage, false);
        List<String> out = new ArrayList<>();
        out.addAll(t.feed(AnthropicStreamTranslatorTest.messageStart("msg_p", 40, 3, 7)));
        boolean anyTool = false;
        int tools = 0;
        for (int index = 0; index < blocks.size(); index++) {
            Block block = blocks.get(index);
            if (random.nextInt(4) == 0) {
                out.addAll(t.feed("{\"type\": \"ping\"}"));
            }
            switch (block.kind()) {
                case TEXT -> {
                    out.addAll(t.feed("{\"type\":\"content_block_start\",\"index\":" + index
                            + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
                    for (String piece : cut(block.text(), random)) {
                        out.addAll(t.feed(AnthropicStreamTranslatorTest.textDelta(index, piece)));
                    }
                }
                case THINKING -> {
                    out.addAll(t.feed("{\"type\":\"content_block_start\",\"index\":" + index
                            + ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"));
                    for (String piece : cut(block.text(), random)) {
                        out.addAll(t.feed("{\"type\":\"content_block_delta\",\"index\":" + index
                                + ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":"
                                + AnthropicStreamTranslatorTest.quote(piece) + "}}"));
                    }
                    out.addAll(t.feed("{\"type\":\"content_block_delta\",\"index\":" + index
                            + ",\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}}"));
                }
                case TOOL -> {
                    anyTool = true;
                    out.addAll(
                            t.feed(AnthropicStreamTranslatorTest.toolStart(index, "toolu_" + tools, "tool" + tools)));
                    for (String piece : cut(input(block, tools).toString(), random)) {
                        out.addAll(t.feed(AnthropicStreamTranslatorTest.inputJsonDelta(index, piece)));
                    }
                    tools++;
                }
            }
            out.addAll(t.feed("{\"type\":\"content_block_stop\",\"index\":" + index + "}"));
        }
        out.addAll(t.feed(AnthropicStreamTranslatorTest.messageDelta(
                anyTool ? "tool_use" : "end_turn", "{\"output_tokens\":" + (5 + blocks.size()) + "}")));
        out.addAll(t.feed("{\"type\":\"message_stop\"}"));

        ObjectNode whole = wholeAnswer(blocks, anyTool ? "tool_calls" : "stop");
        JsonNode message = whole.at("/choices/0/message");

        OpenAiStreamAccumulator sdk = AnthropicStreamTranslatorTest.accumulate(out);
        assertTrue(sdk.done, "ends in [DONE]");
        assertEquals("assistant", sdk.role);
        assertEquals(message.path("content").asText(""), sdk.content.toString());
        assertEquals(message.path("reasoning_content").asText(""), sdk.reasoning.toString());
        assertEquals(whole.at("/choices/0/finish_reason").asText(), sdk.finishReason);
        JsonNode calls = message.path("tool_calls");
        assertEquals(calls.size(), sdk.toolCalls.size());
        for (int k = 0; k < calls.size(); k++) {
            OpenAiStreamAccumulator.ToolCall call = sdk.toolCalls.get(k);
            assertEquals(calls.get(k).path("id").asText(), call.id);
            assertEquals("function", call.type);
            assertEquals(calls.get(k).at("/function/name").asText(), call.name);
            assertEquals(
                    OpenAiStreamAccumulator.parse(
                            calls.get(k).at("/function/arguments").asText()),
                    OpenAiStreamAccumulator.parse(call.arguments.toString()));
        }
        assertEquals(includeUsage, sdk.usage.isObject());
        if (includeUsage) {
            assertEquals(50, sdk.usage.path("prompt_tokens").asLong());
            assertEquals(7, sdk.usage.at("/prompt_tokens_details/cached_tokens").asLong());
        }

        // what the gateway's scorer sees of the stream is what it sees of the whole answer
        StreamCapture capture = new StreamCapture(1 << 20);
        for (String data : out) {
            ByteBuf event = data.equals(AnthropicStreamTranslator.DONE)
                    ? SseEvents.done()
                    : SseEvents.dataEvent(UnpooledByteBufAllocator.DEFAULT, data);
            try {
                capture.onEvent(event);
            } finally {
                event.release();
            }
        }
        AnswerContent expected =
                Scorer.readAnswer(Unpooled.wrappedBuffer(whole.toString().getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, capture.answer());
    }

    /**
     * The {@code chat.completion} for the same Anthropic message by the non-streamed rules:
     * text blocks joined into {@code content}, thinking into {@code reasoning_content}, each
     * {@code tool_use} a tool call with its input as a JSON string.
     */
    private static ObjectNode wholeAnswer(List<Block> blocks, String finishReason) {
        StringBuilder text = new StringBuilder();
        StringBuilder thinking = new StringBuilder();
        ArrayNode calls = Json.MAPPER.createArrayNode();
        for (Block block : blocks) {
            switch (block.kind()) {
                case TEXT -> text.append(block.text());
                case THINKING -> thinking.append(block.text());
                case TOOL -> {
                    int k = calls.size();
                    ObjectNode call = calls.addObject();
                    call.put("id", "toolu_" + k).put("type", "function");
                    call.putObject("function")
                            .put("name", "tool" + k)
                            .put("arguments", input(block, k).toString());
                }
            }
        }
        ObjectNode whole = Json.MAPPER.createObjectNode();
        whole.put("id", "msg_p").put("object", "chat.completion");
        ObjectNode choice = whole.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        // the stream always opens with content "", so a tool-only answer's content is "" too
        message.put("content", text.toString());
        if (thinking.length() > 0) {
            message.put("reasoning_content", thinking.toString());
        }
        if (!calls.isEmpty()) {
            message.set("tool_calls", calls);
        }
        choice.put("finish_reason", finishReason);
        return whole;
    }

    /** A tool's input: the block's text inside an object, with a number and a nested array. */
    private static ObjectNode input(Block block, int k) {
        ObjectNode input = Json.MAPPER.createObjectNode();
        input.put("q", block.text()).put("n", k);
        input.putArray("tags").add(block.text().length()).add(true).addNull();
        return input;
    }

    /** {@code s} in random pieces, cut anywhere (inside escapes too), possibly with empty ones. */
    private static List<String> cut(String s, SplittableRandom random) {
        List<String> pieces = new ArrayList<>();
        int from = 0;
        while (from < s.length()) {
            int to = Math.min(s.length(), from + random.nextInt(0, 8));
            pieces.add(s.substring(from, to));
            from = to;
        }
        return pieces;
    }

    private static Gen<Block> blocks() {
        // basic multilingual plane below the surrogates: quotes, backslashes, accents, CJK; no
        // control characters, which would only test Jackson's escaping
        Gen<String> texts = strings().betweenCodePoints(0x20, 0x9FFF).ofLengthBetween(0, 40);
        return integers().between(0, 2).zip(texts, (k, text) -> new Block(Kind.values()[k], text));
    }
}
