package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.constant;
import static org.quicktheories.generators.Generate.pick;
import static org.quicktheories.generators.Generate.range;
import static org.quicktheories.generators.SourceDSL.lists;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * An SSE stream splits into the same events, byte for byte and in order, however it is cut into
 * chunks; the per-event answers do not depend on the cut; nothing leaks.
 */
class SsePropertiesTest {
    private static final List<String> TEXT_TOKENS = List.of(
            "hello", " ", "usage", "\\\"", "\\\"usage\\\": {", ":", "{", "}", "null", "[DONE]", "é", "数", "\\n");
    private static final List<String> TERMINATORS = List.of("\n", "\r\n", "\r");

    /** One generated event: its bytes and what {@link SseEvents} should say about it. */
    record Event(String text, boolean done, boolean usage, boolean comment, String data) {
        byte[] bytes() {
            return text.getBytes(StandardCharsets.UTF_8);
        }

        boolean endsInBareCr() {
            return text.endsWith("\r") && !text.endsWith("\r\n");
        }
    }

    record Stream(List<Event> events, String partial) {
        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            events.forEach(e -> out.writeBytes(e.bytes()));
            out.writeBytes(partial.getBytes(StandardCharsets.UTF_8));
            return out.toByteArray();
        }
    }

    @Test
    void anySplitYieldsTheSameEvents() {
        qt().withExamples(500).forAll(streams(), chunkSizes(0, 40)).checkAssert(SsePropertiesTest::check);
    }

    @Test
    void oneByteChunksYieldTheSameEvents() {
        qt().withExamples(200).forAll(streams(), constant(List.of(1))).checkAssert(SsePropertiesTest::check);
    }

    private static void check(Stream stream, List<Integer> sizes) {
        byte[] input = stream.bytes();
        SseEventSplitter splitter = new SseEventSplitter(1 << 20);
        List<ByteBuf> chunks = new ArrayList<>();
        List<ByteBuf> got = new ArrayList<>();
        int offset = 0;
        for (int k = 0; offset < input.length; k++) {
            int size = Math.min(sizes.get(k % sizes.size()), input.length - offset);
            if (k >= sizes.size() && sizes.stream().allMatch(s -> s == 0)) {
                size = input.length - offset;
            }
            ByteBuf chunk =
                    PooledByteBufAllocator.DEFAULT.buffer(Math.max(size, 1)).writeBytes(input, offset, size);
            offset += size;
            chunks.add(chunk);
            splitter.feed(chunk, got::add);
        }
        ByteBuf remainder = splitter.takeRemainder();

        List<Event> events = stream.events();
        boolean lastHeld = stream.partial().isEmpty()
                && !events.isEmpty()
                && events.get(events.size() - 1).endsInBareCr();
        List<Event> expected = lastHeld ? events.subList(0, events.size() - 1) : events;
        String expectedRemainder = (lastHeld ? events.get(events.size() - 1).text() : "") + stream.partial();
        try {
            assertEquals(expected.size(), got.size(), () -> "events of " + show(input));
            for (int i = 0; i < expected.size(); i++) {
                Event e = expected.get(i);
                ByteBuf g = got.get(i);
                assertArrayEquals(e.bytes(), readable(g), "event " + i);
                assertEquals(e.done(), SseEvents.isDone(g), () -> "isDone " + show(e.bytes()));
                assertEquals(e.usage(), SseEvents.hasUsage(g), () -> "hasUsage " + show(e.bytes()));
                assertEquals(e.comment(), SseEvents.isComment(g), () -> "isComment " + show(e.bytes()));
                assertEquals(e.data(), SseEvents.data(g), () -> "data " + show(e.bytes()));
                assertEquals(1, g.refCnt());
            }
            assertEquals(expectedRemainder, remainder.toString(StandardCharsets.UTF_8));
            assertEquals(0, splitter.heldBytes());
        } finally {
            got.forEach(ByteBuf::release);
            remainder.release();
        }
        for (ByteBuf c : chunks) {
            assertEquals(0, c.refCnt(), "chunk released once its events are");
        }
    }

    // generators

    private static Gen<List<Integer>> chunkSizes(int min, int max) {
        return lists().of(range(min, max)).ofSizeBetween(1, 12);
    }

    private static Gen<Stream> streams() {
        Gen<String> partial = pick(List.of("", "data: {\"par", "data: x\r", "data: x\n", ": c", "id: 9\r\n"));
        return lists().of(events()).ofSizeBetween(0, 6).zip(partial, Stream::new);
    }

    private static Gen<Event> events() {
        Gen<String> text = lists().of(pick(TEXT_TOKENS)).ofSizeBetween(0, 8).map(l -> String.join("", l));
        Gen<List<String>> terms = lists().of(pick(TERMINATORS)).ofSizeBetween(5, 5);
        Gen<Integer> kind = range(0, 5);
        Gen<Integer> split = range(0, 60);
        return kind.zip(text, terms, split, SsePropertiesTest::event);
    }

    /**
     * Kinds: 0 content chunk, 1 usage object, 2 usage null, 3 [DONE], 4 comment, 5 content with
     * an event/id line. {@code split} > 0 spreads the JSON over two data lines.
     */
    private static Event event(int kind, String text, List<String> terms, int split) {
        String json = switch (kind) {
            case 1 -> "{\"choices\":[],\"usage\" : {\"prompt_tokens\":3,\"note\":\"" + text + "\"}}";
            case 2 -> "{\"choices\":[{\"delta\":{\"content\":\"" + text + "\"}}],\"usage\":null}";
            case 3 -> "[DONE]";
            default -> "{\"choices\":[{\"delta\":{\"content\":\"" + text + "\"}}]}";
        };
        List<String> lines = new ArrayList<>();
        String data;
        if (kind == 4) {
            lines.add(": " + text);
            lines.add(":keep-alive");
            data = "";
        } else {
            if (kind == 5) {
                lines.add("event: chunk");
            }
            int at = kind == 3 ? 0 : splitPoint(json, split);
            if (at == 0) {
                lines.add(prefix(split, json) + json);
                data = json;
            } else {
                String a = json.substring(0, at);
                String b = json.substring(at);
                lines.add(prefix(split, a) + a);
                if (kind == 5) {
                    lines.add("id: 7");
                }
                lines.add(prefix(split + 1, b) + b);
                data = a + "\n" + b;
            }
        }
        StringBuilder sb = new StringBuilder();
        String lastTerm = "";
        for (int i = 0; i < lines.size(); i++) {
            lastTerm = terms.get(i);
            sb.append(lines.get(i)).append(lastTerm);
        }
        // A line ended by a bare CR followed by a blank line ended by LF would read as one CRLF.
        String blank = terms.get(4);
        if (lastTerm.equals("\r") && blank.equals("\n")) {
            blank = "\r\n";
        }
        sb.append(blank);
        return new Event(sb.toString(), kind == 3, kind == 1, kind == 4, data);
    }

    /**
     * 0 (no split) or a place between JSON tokens: after a ',' or right after the "usage" key,
     * so a client joining the lines with "\n" gets the same JSON. Text never holds a raw ',' or
     * an unescaped quote.
     */
    private static int splitPoint(String json, int choice) {
        List<Integer> points = new ArrayList<>();
        points.add(0);
        for (int i = 1; i < json.length(); i++) {
            if (json.charAt(i - 1) == ',' || json.startsWith("\"usage\"", i - 7)) {
                points.add(i);
            }
        }
        return points.get(choice % points.size());
    }

    /** "data:" or "data: "; a value starting with a space needs the space form to survive. */
    private static String prefix(int choice, String value) {
        return value.startsWith(" ") || choice % 2 == 0 ? "data: " : "data:";
    }

    private static byte[] readable(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }

    private static String show(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8).replace("\r", "\\r").replace("\n", "\\n");
    }
}
