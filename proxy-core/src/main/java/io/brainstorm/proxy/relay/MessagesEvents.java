package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.translate.MessagesStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import org.jspecify.annotations.Nullable;

/**
 * The stream a Messages client ({@code POST /v1/messages} with {@code stream: true}) gets, in
 * Anthropic's events, for {@link StreamRelay}: from an Anthropic endpoint its events as they came
 * ({@link #upstreamEvent}); from an OpenAI-format endpoint the relayed chunks translated
 * ({@link #chunk}, {@link MessagesStream}).
 *
 * <p><b>The end.</b> The last {@code message_delta} is held back, one event, and
 * {@code message_stop} is the gateway's to write ({@link #end}): the delta then carries the
 * gateway's governance, {@code usage.cost} (USD) and {@code x_br} (docs/messages-api.md), as an
 * OpenAI stream's usage chunk does. A stream that breaks ends with Anthropic's {@code error} event
 * ({@link #errorEvent}) and no {@code message_stop}.
 *
 * <p><b>Reference counting.</b> Each event given is written to the client (which releases it) or
 * released here.
 *
 * <p><b>Threading.</b> Used on the client channel's event loop only.
 */
final class MessagesEvents {
    private static final System.Logger log = System.getLogger(MessagesEvents.class.getName());

    private final ChannelHandlerContext client;
    private final String requestId;
    /** The translation of an OpenAI-format endpoint's chunks; null when Anthropic's events pass through. */
    private final @Nullable MessagesStream reverse;

    private @Nullable ObjectNode heldDelta;
    private boolean flushed;

    /**
     * @param reverse the translator of an OpenAI-format endpoint's chunks, or null when the
     *        endpoint is Anthropic's and its events pass through
     */
    MessagesEvents(ChannelHandlerContext client, String requestId, @Nullable MessagesStream reverse) {
        this.client = client;
        this.requestId = requestId;
        this.reverse = reverse;
    }

    /** Whether Anthropic's events pass through (else the relayed chunks are translated). */
    boolean passThrough() {
        return reverse == null;
    }

    /**
     * An event from an Anthropic endpoint, with its data as the translator read it (null when it
     * read none): written as it came, but for {@code message_delta} (held for {@link #end}),
     * {@code message_stop} (the gateway writes its own) and {@code error} (the gateway's error event
     * replaces it). Owned from here on.
     */
    void upstreamEvent(ByteBuf event, @Nullable ObjectNode data) {
        if (data == null) {
            // a comment, a blank event, or data the translator could not read (the stream broke)
            event.release();
            return;
        }
        switch (data.path("type").asText("")) {
            case "message_delta" -> {
                event.release();
                heldDelta = data;
            }
            case "message_stop", "error" -> event.release();
            default -> write(event);
        }
    }

    /** A chunk event the relay passes on, translated into Anthropic's events. Owned from here on. */
    void chunk(ByteBuf event) {
        String data = SseEvents.data(event);
        event.release();
        MessagesStream r = reverse;
        if (r != null) {
            for (MessagesStream.Event e : r.feed(data)) {
                take(e);
            }
        }
    }

    /**
     * Writes the end of a complete stream: the last {@code message_delta} with {@code usage.cost}
     * and {@code x_br}, and {@code message_stop}. Not flushed.
     *
     * @param usageChunk the OpenAI usage chunk the relay held back (an OpenAI-format endpoint's), or null
     */
    void end(@Nullable ObjectNode usageChunk, ObjectNode xbr, String costUsd) {
        MessagesStream r = reverse;
        if (r != null) {
            if (usageChunk != null) {
                // its content, if it had any, went through chunk() already
                ObjectNode usageOnly = usageChunk.deepCopy();
                usageOnly.putArray("choices");
                for (MessagesStream.Event e : r.feed(usageOnly.toString())) {
                    take(e);
                }
            }
            for (MessagesStream.Event e : r.feed(MessagesStream.DONE)) {
                take(e);
            }
        }
        ObjectNode delta = heldDelta;
        if (delta == null) {
            log.log(System.Logger.Level.DEBUG, "request {0}: the stream had no message_delta", requestId);
            delta = Json.MAPPER.createObjectNode();
            delta.put("type", "message_delta");
            delta.putObject("delta").put("stop_reason", "end_turn").putNull("stop_sequence");
            delta.putObject("usage").put("output_tokens", 0);
        }
        JsonNode usage = delta.get("usage");
        ObjectNode u = usage instanceof ObjectNode o ? o : delta.putObject("usage");
        u.putRawValue("cost", new RawValue(costUsd));
        delta.set("x_br", xbr);
        write(event(client.alloc(), "message_delta", delta.toString()));
        write(event(client.alloc(), "message_stop", "{\"type\":\"message_stop\"}"));
    }

    /**
     * Anthropic's {@code error} event that ends a broken stream, with the gateway's {@code x_br}:
     * {@code {"type":"error","error":{"type","message"},"x_br":{…}}}.
     */
    static ByteBuf errorEvent(ByteBufAllocator alloc, String type, String message, ObjectNode xbr) {
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("type", "error");
        data.putObject("error").put("type", type).put("message", message);
        data.set("x_br", xbr);
        return event(alloc, "error", data.toString());
    }

    private void take(MessagesStream.Event e) {
        switch (e.name()) {
            case "message_delta" -> heldDelta = e.data();
            case "message_stop", "error" -> {
                // the gateway writes its own: message_stop at the end, the error event when the stream broke
            }
            default -> write(ByteBufUtil.writeUtf8(client.alloc(), e.sse()));
        }
    }

    private void write(ByteBuf event) {
        if (flushed) {
            client.write(new DefaultHttpContent(event));
        } else {
            // the first event leaves at once, even when the upstream sent many in one read
            flushed = true;
            client.writeAndFlush(new DefaultHttpContent(event));
        }
    }

    /** {@code event: <name>}, {@code data: <json>} (one line: Jackson writes no line breaks) and a blank line. */
    private static ByteBuf event(ByteBufAllocator alloc, String name, String json) {
        return ByteBufUtil.writeUtf8(alloc, "event: " + name + "\ndata: " + json + "\n\n");
    }
}
