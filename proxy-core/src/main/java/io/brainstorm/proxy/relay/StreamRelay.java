package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.StreamCapture;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import io.brainstorm.proxy.translate.AnthropicStreamTranslator;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.io.IOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The body of one streamed answer on its way to the client: SSE events pass through as slices of
 * the upstream's own buffers, never re-encoded; only the usage event is held back (to be rewritten
 * at the end) and {@code [DONE]} waits for it. {@link Exchange} owns the stream's life (when it
 * starts, ends or breaks); this class owns its bytes.
 *
 * <p><b>Threading.</b> Used on the client channel's event loop only.
 *
 * <p><b>Reference counting.</b> {@link #feed} takes ownership of each chunk; every event is either
 * written to the client (which releases it) or released here. {@link #release()} drops what the
 * splitter still holds and makes later events be released unread.
 */
final class StreamRelay {
    private static final System.Logger log = System.getLogger(StreamRelay.class.getName());

    private final ChannelHandlerContext client;
    private final String requestId;
    private final SseEventSplitter splitter;
    /** The side copy for scoring or the audit, or null; it reads events, never changes or releases them. */
    private final @Nullable StreamCapture capture;
    /**
     * Turns an Anthropic endpoint's events into OpenAI chunks, which then go on as if the upstream
     * had sent them (re-encoded, the only stream that is); null for an OpenAI-format upstream.
     */
    private final @Nullable AnthropicStreamTranslator translator;
    /**
     * What a Messages client gets instead of the chunks: Anthropic's events as they came, or the
     * chunks translated; null for an OpenAI client.
     */
    private final @Nullable MessagesEvents messages;

    private @Nullable ObjectNode usageChunk;
    private boolean sawDone;
    private boolean released;
    private long relayedEvents;

    StreamRelay(ChannelHandlerContext client, String requestId, int maxEventBytes, @Nullable StreamCapture capture) {
        this(client, requestId, maxEventBytes, capture, null, null);
    }

    /**
     * @param translator for an Anthropic endpoint's stream, else null
     * @param messages   the stream of a Messages client, in Anthropic's events; null for an OpenAI client
     */
    StreamRelay(
            ChannelHandlerContext client,
            String requestId,
            int maxEventBytes,
            @Nullable StreamCapture capture,
            @Nullable AnthropicStreamTranslator translator,
            @Nullable MessagesEvents messages) {
        this.client = client;
        this.translator = translator;
        this.messages = messages;
        this.capture = capture;
        this.requestId = requestId;
        this.splitter = new SseEventSplitter(maxEventBytes);
    }

    /**
     * Relays the complete events in {@code chunk} (owned from here on) and holds the rest.
     *
     * @throws SseEventTooLongException when an event outgrows the limit
     */
    void feed(ByteBuf chunk) {
        splitter.feed(chunk, this::onEvent);
    }

    /** The upstream ended its body: an unterminated last event is taken as it is. */
    void end() {
        ByteBuf rest = splitter.takeRemainder();
        if (rest.isReadable()) {
            onEvent(rest);
        } else {
            rest.release();
        }
    }

    /** Whether the upstream said {@code [DONE]}: a stream without it is cut, never complete. */
    boolean sawDone() {
        return sawDone;
    }

    /** Why the upstream's stream broke while it was read (an Anthropic {@code error} event), or null. */
    @Nullable
    String broken() {
        AnthropicStreamTranslator t = translator;
        if (t == null || t.state() != AnthropicStreamTranslator.State.BROKEN) {
            return null;
        }
        return String.valueOf(t.failure());
    }

    /** What ends a complete stream from this upstream, for the message when it is missing. */
    String endMarker() {
        return translator == null ? "[DONE]" : "message_stop";
    }

    /** Content events relayed so far; the completion estimate when usage is missing. */
    long relayedEvents() {
        return relayedEvents;
    }

    /** The usage the upstream reported, or null. */
    @Nullable
    Usage usage() {
        AnthropicStreamTranslator t = translator;
        if (t != null) {
            // Anthropic's counts, cache writes included, which the OpenAI usage chunk cannot carry
            return t.complete() ? t.usage().toSettle() : null;
        }
        return usageChunk == null ? null : UsageParser.parse(usageChunk.get("usage"));
    }

    /**
     * Writes what ends a complete stream: the usage chunk with {@code usage.cost} and {@code x_br}
     * when the client asked for usage (and the upstream sent it), else an {@code : x-br} comment;
     * then {@code [DONE]}. Not flushed.
     */
    void writeEnd(boolean clientWantsUsage, ObjectNode xbr, String costUsd) {
        if (messages != null) {
            messages.end(translator == null ? usageChunk : null, xbr, costUsd);
            return;
        }
        if (clientWantsUsage && usageChunk != null) {
            ((ObjectNode) usageChunk.get("usage")).putRawValue("cost", new RawValue(costUsd));
            usageChunk.set("x_br", xbr);
            client.write(new DefaultHttpContent(SseEvents.dataEvent(client.alloc(), usageChunk.toString())));
        } else {
            client.write(new DefaultHttpContent(SseEvents.commentEvent(client.alloc(), "x-br " + xbr)));
        }
        client.write(new DefaultHttpContent(SseEvents.done()));
    }

    /** Whether {@link #release()} was called: the stream's exchange ended. */
    boolean released() {
        return released;
    }

    /** Drops held bytes; events that still arrive are released unread. Idempotent. */
    void release() {
        released = true;
        splitter.release();
    }

    private void onEvent(ByteBuf event) {
        if (released || sawDone) {
            event.release();
            return;
        }
        AnthropicStreamTranslator t = translator;
        if (t != null) {
            String data = SseEvents.data(event);
            List<String> chunks = data.isEmpty() ? List.of() : t.feed(data);
            if (messages != null && messages.passThrough()) {
                // the Messages client gets Anthropic's event; its translation is the gateway's alone
                messages.upstreamEvent(event, data.isEmpty() ? null : t.lastEvent());
            } else {
                event.release();
            }
            for (String chunk : chunks) {
                if (AnthropicStreamTranslator.DONE.equals(chunk)) {
                    sawDone = true;
                } else if (!released) {
                    onChunk(SseEvents.dataEvent(client.alloc(), chunk));
                }
            }
            return;
        }
        onChunk(event);
    }

    /** An OpenAI chunk event (or {@code [DONE]}) from the upstream, or translated from Anthropic's. */
    private void onChunk(ByteBuf event) {
        if (released || sawDone) {
            event.release();
            return;
        }
        if (SseEvents.isDone(event)) {
            sawDone = true;
            event.release();
            return;
        }
        if (capture != null) {
            capture.onEvent(event);
        }
        if (SseEvents.hasUsage(event)) {
            String data = SseEvents.data(event);
            event.release();
            holdUsage(data);
            return;
        }
        relayedEvents++;
        emit(event);
    }

    /** A chunk event for the client: written, translated for a Messages client, or dropped when Anthropic's own passed. */
    private void emit(ByteBuf event) {
        MessagesEvents m = messages;
        if (m != null) {
            if (m.passThrough()) {
                event.release();
            } else {
                m.chunk(event);
            }
        } else if (relayedEvents == 1) {
            // the first token leaves at once, even when the upstream sent many events in one read
            client.writeAndFlush(new DefaultHttpContent(event));
        } else {
            client.write(new DefaultHttpContent(event));
        }
    }

    private void holdUsage(String data) {
        try {
            JsonNode node = Json.MAPPER.readTree(data);
            if (node instanceof ObjectNode o) {
                usageChunk = o;
                if (o.path("choices").isArray() && !o.path("choices").isEmpty()) {
                    // usage rode on a content chunk: relay the content, keep the usage for the end
                    ObjectNode copy = o.deepCopy();
                    copy.putNull("usage");
                    relayedEvents++;
                    emit(SseEvents.dataEvent(client.alloc(), copy.toString()));
                }
            }
        } catch (IOException e) {
            log.log(System.Logger.Level.WARNING, "request {0}: unparsable usage event: {1}", requestId, e.getMessage());
        }
    }
}
