package io.brainstorm.proxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.relay.SseEventSplitter;
import io.brainstorm.proxy.relay.SseEventTooLongException;
import io.brainstorm.proxy.relay.SseEvents;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.settle.UsageParser;
import io.brainstorm.proxy.upstream.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Jazzer fuzz tests for the code that reads untrusted bytes: client request bodies, upstream SSE
 * streams and upstream answers. Under JUnit they replay the committed seed corpus in
 * {@code src/test/resources/io/brainstorm/proxy/fuzz/UntrustedBytesFuzzTestInputs/<method>/}, so a
 * crash found once stays a failing test; {@code JAZZER_FUZZ=1 ./mvnw -pl proxy-core test
 * -Dtest=UntrustedBytesFuzzTest} fuzzes for real.
 */
class UntrustedBytesFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern USAGE_OBJECT = Pattern.compile("\"usage\"[ \\t\\r\\n]*:[ \\t\\r\\n]*\\{");
    private static final Endpoint ENDPOINT = new Endpoint(
            "fuzz",
            new ModelSpec(
                    "sim/fuzz",
                    "sim",
                    "fuzz",
                    List.of(),
                    1000,
                    100,
                    new Price(1, 1, 1),
                    Set.of(Capability.TOOLS, Capability.JSON),
                    true,
                    List.of(),
                    0),
            new Price(1, 1, 1),
            new Origin("127.0.0.1", 1, null),
            "/v1",
            "k",
            Timeouts.DEFAULT,
            true);

    /** A client body either parses, with an upstream body that is JSON again, or is a 4xx ApiError. */
    @FuzzTest(maxDuration = "30s")
    void requestBody(byte[] input) throws Exception {
        ByteBuf body = Unpooled.wrappedBuffer(input);
        try {
            ParsedRequest request;
            try {
                request = ParsedRequest.parse(ParsedRequest.Kind.CHAT, body);
            } catch (ApiError e) {
                assertEquals(4, e.status().code() / 100, e.getMessage());
                return;
            }
            ByteBuf upstream = request.upstreamBody(ByteBufAllocator.DEFAULT, ENDPOINT);
            try {
                byte[] bytes = new byte[upstream.readableBytes()];
                upstream.getBytes(upstream.readerIndex(), bytes);
                assertEquals("fuzz", JSON.readTree(bytes).path("model").asText());
                // passing through never inflates the body (numbers keep their exponent form: 1e1 → 1E+1 at worst)
                assertTrue(bytes.length <= 2 * input.length + 64, bytes.length + " bytes from " + input.length);
            } finally {
                upstream.release();
            }
        } finally {
            body.release();
        }
    }

    /**
     * However an upstream stream is cut into reads, the splitter hands on exactly its bytes, and
     * the per-event checks agree with a plain reading of the event's data.
     */
    @FuzzTest(maxDuration = "30s")
    void sseStream(FuzzedDataProvider data) {
        int maxEvent = data.consumeInt(1, 4096);
        byte[] stream = data.consumeBytes(8192);
        List<byte[]> events = new ArrayList<>();
        SseEventSplitter splitter = new SseEventSplitter(maxEvent);
        try {
            int at = 0;
            while (at < stream.length) {
                int n = data.remainingBytes() > 0 ? data.consumeInt(0, stream.length - at) : stream.length - at;
                ByteBuf chunk = Unpooled.copiedBuffer(stream, at, n);
                at += n;
                splitter.feed(chunk, event -> {
                    try {
                        boolean usage = SseEvents.hasUsage(event);
                        String joined = SseEvents.data(event);
                        assertEquals(USAGE_OBJECT.matcher(joined).find(), usage, joined);
                        SseEvents.isDone(event);
                        SseEvents.isComment(event);
                        byte[] b = new byte[event.readableBytes()];
                        event.getBytes(event.readerIndex(), b);
                        events.add(b);
                    } finally {
                        event.release();
                    }
                });
            }
            ByteBuf rest = splitter.takeRemainder();
            try {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                events.forEach(all::writeBytes);
                byte[] tail = new byte[rest.readableBytes()];
                rest.getBytes(rest.readerIndex(), tail);
                all.writeBytes(tail);
                assertArrayEquals(stream, all.toByteArray());
            } finally {
                rest.release();
            }
        } catch (SseEventTooLongException e) {
            assertTrue(maxEvent < stream.length);
        } finally {
            splitter.release();
        }
    }

    /** Reading usage from an upstream answer never throws and never moves the buffer. */
    @FuzzTest(maxDuration = "30s")
    void upstreamAnswer(byte[] input) {
        ByteBuf answer = Unpooled.wrappedBuffer(input);
        try {
            UsageParser.fromAnswer(answer, JSON);
            assertEquals(0, answer.readerIndex());
            assertEquals(input.length, answer.writerIndex());
        } finally {
            answer.release();
        }
    }
}
