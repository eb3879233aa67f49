package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SseEventSplitterTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private final SseEventSplitter splitter = new SseEventSplitter(1024);
    private final List<ByteBuf> fed = new ArrayList<>();
    private final List<ByteBuf> events = new ArrayList<>();

    @AfterEach
    void releaseAndCheck() {
        splitter.release();
        scratch.forEach(ByteBuf::release);
        for (ByteBuf event : events) {
            assertEquals(1, event.refCnt(), "each event handed on is owned once");
            event.release();
        }
        for (ByteBuf chunk : fed) {
            assertEquals(0, chunk.refCnt(), "every chunk fully released");
        }
    }

    @Test
    void lfTerminatedEvents() {
        feed("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n");
        assertEvents("data: {\"a\":1}\n\n", "data: {\"b\":2}\n\n");
        assertEquals(0, splitter.heldBytes());
    }

    @Test
    void crlfTerminatedEvents() {
        feed("data: a\r\nid: 1\r\n\r\ndata: b\r\n\r\n");
        assertEvents("data: a\r\nid: 1\r\n\r\n", "data: b\r\n\r\n");
    }

    @Test
    void crTerminatedEventWaitsForTheNextByteThenEnds() {
        feed("data: a\r\rdata: b\r\r");
        assertEvents("data: a\r\r");
        assertEquals("data: b\r\r", take(splitter.takeRemainder()), "a final bare CR may still gain a LF");
    }

    @Test
    void mixedTerminators() {
        feed("data: a\r\n\ndata: b\n\r\ndata: c\r\r\n: x\n\r\n");
        assertEvents("data: a\r\n\n", "data: b\n\r\n", "data: c\r\r\n", ": x\n\r\n");
    }

    @Test
    void crAtChunkEndAndLfAtNextStartAreOneTerminator() {
        feed("data: a\r");
        feed("\ndata: b\r\n");
        assertEvents();
        feed("\r");
        assertEvents();
        feed("\ndata: c\n\n");
        assertEvents("data: a\r\ndata: b\r\n\r\n", "data: c\n\n");
    }

    @Test
    void blankLineCrThenNextEventInNextChunk() {
        feed("data: a\n\r");
        assertEvents();
        feed("data: b\n\n");
        assertEvents("data: a\n\r", "data: b\n\n");
    }

    @Test
    void eventSpanningThreeChunks() {
        feed("data: {\"choi");
        feed("ces\":[{\"delta\":");
        assertEquals("data: {\"choices\":[{\"delta\":".length(), splitter.heldBytes());
        feed("{}}]}\n\ndata: next");
        assertEvents("data: {\"choices\":[{\"delta\":{}}]}\n\n");
        assertEquals("data: next", take(splitter.takeRemainder()));
        assertEquals(0, splitter.heldBytes());
    }

    @Test
    void singleChunkEventIsASliceNotACopy() {
        ByteBuf chunk = ALLOC.buffer().writeBytes(bytes("data: x\n\n"));
        fed.add(chunk);
        splitter.feed(chunk, events::add);
        assertEquals(1, events.size());
        assertEquals(1, chunk.refCnt(), "the event holds the chunk's memory");
        events.get(0).setByte(6, 'y');
        assertEquals('y', chunk.getByte(6), "event shares the chunk's memory");
    }

    @Test
    void emptyChunksChangeNothing() {
        feed("");
        feed("data: a\n");
        feed("");
        feed("\n");
        feed("");
        assertEvents("data: a\n\n");
        assertSame(Unpooled.EMPTY_BUFFER, splitter.takeRemainder());
    }

    @Test
    void tooLongEventThrowsAndReleasesEverything() {
        SseEventSplitter small = new SseEventSplitter(16);
        ByteBuf first = ALLOC.buffer().writeBytes(bytes("data: 0123456"));
        ByteBuf second = ALLOC.buffer().writeBytes(bytes("789abcdef\n\n"));
        fed.add(first);
        fed.add(second);
        small.feed(first, events::add);
        assertEquals(13, small.heldBytes());

        SseEventTooLongException e =
                assertThrows(SseEventTooLongException.class, () -> small.feed(second, events::add));

        assertTrue(e.getMessage().contains("expected: <= 16"), e.getMessage());
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
        assertEquals(0, small.heldBytes());
        assertTrue(events.isEmpty());
    }

    @Test
    void tooLongCompleteEventInOneChunkThrowsAfterEarlierEvents() {
        SseEventSplitter small = new SseEventSplitter(16);
        ByteBuf chunk = ALLOC.buffer().writeBytes(bytes("data: ok\n\ndata: far too long\n\n"));
        fed.add(chunk);
        assertThrows(SseEventTooLongException.class, () -> small.feed(chunk, events::add));
        assertEvents("data: ok\n\n");
        assertEquals(1, chunk.refCnt(), "only the handed-on event still holds the chunk");
    }

    @Test
    void consumerExceptionReleasesChunkAndHeldBytes() {
        feed("data: a");
        ByteBuf chunk = ALLOC.buffer().writeBytes(bytes("\n\ndata: b\n\ndata: c"));
        RuntimeException boom = new RuntimeException("boom");
        assertSame(
                boom,
                assertThrows(
                        RuntimeException.class,
                        () -> splitter.feed(chunk, event -> {
                            events.add(event);
                            throw boom;
                        })));
        assertEquals(1, events.size());
        assertEquals(0, splitter.heldBytes());
        // The handed-on event is a composite holding a slice of the chunk; releasing it frees all.
        events.remove(0).release();
        assertEquals(0, chunk.refCnt());
    }

    @Test
    void releaseIsIdempotent() {
        feed("data: partial");
        splitter.release();
        splitter.release();
        assertEquals(0, splitter.heldBytes());
    }

    @Test
    void leadingBlankLineIsItsOwnEvent() {
        feed("\ndata: a\n\n");
        assertEvents("\n", "data: a\n\n");
        ByteBuf blank = Unpooled.copiedBuffer("\n", StandardCharsets.US_ASCII);
        assertFalse(SseEvents.isComment(blank));
        assertFalse(SseEvents.isDone(blank));
        assertEquals("", SseEvents.data(blank));
    }

    // SseEvents

    @Test
    void isDoneVariants() {
        assertTrue(SseEvents.isDone(buf("data: [DONE]\n\n")));
        assertTrue(SseEvents.isDone(buf("data:[DONE]\r\n\r\n")));
        assertTrue(SseEvents.isDone(buf("data: [DONE]\r\r")));
        assertTrue(SseEvents.isDone(buf("event: end\ndata: [DONE]\n\n")));
        assertFalse(SseEvents.isDone(buf("data:  [DONE]\n\n")), "two spaces: value is \" [DONE]\"");
        assertFalse(SseEvents.isDone(buf("data: [DONE] \n\n")));
        assertFalse(SseEvents.isDone(buf("data: [DONE]\ndata: [DONE]\n\n")));
        assertFalse(SseEvents.isDone(buf(": [DONE]\n\n")));
        assertFalse(SseEvents.isDone(buf("data: {\"content\":\"[DONE]\"}\n\n")));
        assertFalse(SseEvents.isDone(buf("database: [DONE]\n\n")));
        ByteBuf done = SseEvents.done();
        assertTrue(SseEvents.isDone(done));
        assertEquals("data: [DONE]\n\n", take(done));
        assertEquals("data: [DONE]\n\n", take(SseEvents.done()), "each caller gets its own indices");
    }

    @Test
    void isCommentVariants() {
        assertTrue(SseEvents.isComment(buf(": keep-alive\n\n")));
        assertTrue(SseEvents.isComment(buf(":a\r\n:b\r\n\r\n")));
        assertFalse(SseEvents.isComment(buf(": x\ndata: y\n\n")));
        assertFalse(SseEvents.isComment(buf("data: y\n\n")));
        assertFalse(SseEvents.isComment(buf("\n")));
    }

    @Test
    void hasUsageVariants() {
        assertTrue(SseEvents.hasUsage(buf("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\n")));
        assertTrue(SseEvents.hasUsage(buf("data: {\"usage\": {\"total_tokens\":1}}\r\n\r\n")));
        assertTrue(SseEvents.hasUsage(buf("data:{\"usage\" :\t{}}\n\n")));
        assertTrue(
                SseEvents.hasUsage(buf("data: {\"x\":1,\"usage\"\ndata: :{}}\n\n")),
                "key and object on different data lines");
        assertFalse(SseEvents.hasUsage(buf("data: {\"choices\":[],\"usage\":null}\n\n")));
        assertFalse(SseEvents.hasUsage(buf("data: {\"usage\": null}\n\n")));
        assertFalse(SseEvents.hasUsage(
                buf("data: {\"choices\":[{\"delta\":{\"content\":\"usage: {\\\"usage\\\": {} } usage\"}}]}\n\n")));
        assertFalse(SseEvents.hasUsage(buf("data: {\"usages\":{}}\n\n")));
        assertFalse(SseEvents.hasUsage(buf(": {\"usage\":{}}\n\n")), "comments carry no data");
        assertFalse(SseEvents.hasUsage(buf("data: {\"usage\"")));
    }

    @Test
    void dataJoinsLinesAndDropsOneSpace() {
        assertEquals("{\"a\":\n1}", SseEvents.data(buf("data: {\"a\":\r\nid: 3\r\ndata:1}\r\n\r\n")));
        assertEquals(" x", SseEvents.data(buf("data:  x\n\n")));
        assertEquals("\nb", SseEvents.data(buf("data\ndata: b\n\n")));
        assertEquals("é数", SseEvents.data(buf("data: é数\n\n")));
        assertEquals("", SseEvents.data(buf(": nothing\n\n")));
    }

    @Test
    void writers() {
        assertEquals("data: {\"a\":1}\n\n", take(SseEvents.dataEvent(ALLOC, "{\"a\":1}")));
        assertEquals("data: {\ndata: \ndata:  \"é\": 1}\n\n", take(SseEvents.dataEvent(ALLOC, "{\n\r\n \"é\": 1}")));
        assertEquals(": x-br {\"cost\":0.1}\n\n", take(SseEvents.commentEvent(ALLOC, "x-br {\"cost\":0.1}")));
        ByteBuf multi = SseEvents.dataEvent(ALLOC, "{\"usage\"\n:{}}");
        assertEquals("{\"usage\"\n:{}}", SseEvents.data(multi));
        assertTrue(SseEvents.hasUsage(multi));
        multi.release();
    }

    // helpers

    private void feed(String s) {
        ByteBuf chunk = ALLOC.buffer(Math.max(1, s.length())).writeBytes(bytes(s));
        fed.add(chunk);
        splitter.feed(chunk, events::add);
    }

    private void assertEvents(String... expected) {
        List<String> actual = new ArrayList<>();
        for (ByteBuf e : events) {
            actual.add(e.toString(StandardCharsets.UTF_8));
        }
        assertEquals(List.of(expected), actual);
    }

    private final List<ByteBuf> scratch = new ArrayList<>();

    /** A buffer released after the test. */
    private ByteBuf buf(String s) {
        ByteBuf b = ALLOC.buffer().writeBytes(bytes(s));
        scratch.add(b);
        return b;
    }

    private static String take(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.UTF_8);
        } finally {
            b.release();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
