package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What {@link StreamRelay} writes to the client for the bytes of a streamed answer, however they are split. */
class StreamRelayTest {
    private static final String FIRST = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hel\"}}]}\n\n";
    private static final String SECOND = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n";
    private static final String USAGE = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
            + "\"total_tokens\":7}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";

    private final EmbeddedChannel client = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    private final ChannelHandlerContext ctx = client.pipeline().firstContext();

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private String written() {
        HttpContent c = client.readOutbound();
        if (c == null) {
            return null;
        }
        try {
            return c.content().toString(StandardCharsets.UTF_8);
        } finally {
            c.release();
        }
    }

    @Test
    void eventsPassThroughAsSentWhileTheUsageEventWaitsForTheEnd() throws Exception {
        StreamRelay relay = new StreamRelay(ctx, "req_1", 1024, null);
        String all = FIRST + SECOND + USAGE + DONE;
        // split in the middle of events, as a provider's TCP segments may be
        relay.feed(bytes(all.substring(0, 10)));
        relay.feed(bytes(all.substring(10, FIRST.length() + 7)));
        relay.feed(bytes(all.substring(FIRST.length() + 7)));
        client.flush();

        assertEquals(FIRST, written());
        assertEquals(SECOND, written());
        assertNull(written(), "the usage event is held back, [DONE] waits for it");
        assertTrue(relay.sawDone());
        assertEquals(2, relay.relayedEvents());
        assertEquals(new Usage(5, 2, 0, 0), relay.usage());

        relay.writeEnd(true, Json.MAPPER.createObjectNode().put("request_id", "req_1"), "0.000001");
        client.flush();
        String usage = written();
        assertTrue(usage.startsWith("data: {"), usage);
        assertEquals(
                0.000001,
                Json.MAPPER
                        .readTree(usage.substring("data: ".length()))
                        .path("usage")
                        .path("cost")
                        .doubleValue());
        assertTrue(usage.contains("\"x_br\":{\"request_id\":\"req_1\"}"), usage);
        assertEquals(DONE, written());
        assertFalse(client.finish());
    }

    @Test
    void withoutUsageRequestedTheEndIsACommentAndDone() {
        StreamRelay relay = new StreamRelay(ctx, "req_1", 1024, null);
        relay.feed(bytes(FIRST + USAGE + DONE));
        relay.writeEnd(false, Json.MAPPER.createObjectNode().put("request_id", "req_1"), "0.000001");
        client.flush();

        assertEquals(FIRST, written());
        assertEquals(": x-br {\"request_id\":\"req_1\"}\n\n", written());
        assertEquals(DONE, written());
        assertFalse(client.finish());
    }

    @Test
    void anEventLongerThanTheLimitBreaksTheStreamAndNothingOfItIsWritten() {
        StreamRelay relay = new StreamRelay(ctx, "req_1", 64, null);
        relay.feed(bytes(FIRST));
        assertThrows(SseEventTooLongException.class, () -> relay.feed(bytes("data: " + "x".repeat(100))));
        relay.release();
        client.flush();

        assertEquals(FIRST, written());
        assertNull(written());
        assertFalse(relay.sawDone());
        assertFalse(client.finish());
    }

    @Test
    void afterReleaseWhatArrivesIsDroppedUnread() {
        StreamRelay relay = new StreamRelay(ctx, "req_1", 1024, null);
        relay.feed(bytes(FIRST.substring(0, 12)));
        relay.release();
        ByteBuf late = bytes(FIRST.substring(12) + SECOND);
        relay.feed(late);
        client.flush();

        assertTrue(relay.released());
        assertEquals(0, late.refCnt(), "released, not leaked");
        assertNull(written());
        assertEquals(0, relay.relayedEvents());
        assertFalse(client.finish());
    }

    @Test
    void anUnterminatedLastEventIsRelayedAtTheEnd() {
        StreamRelay relay = new StreamRelay(ctx, "req_1", 1024, null);
        relay.feed(bytes(FIRST + SECOND.trim()));
        relay.end();
        client.flush();

        assertEquals(FIRST, written());
        assertEquals(SECOND.trim(), written());
        assertFalse(relay.sawDone(), "a stream without [DONE] is cut");
        assertFalse(client.finish());
    }
}
