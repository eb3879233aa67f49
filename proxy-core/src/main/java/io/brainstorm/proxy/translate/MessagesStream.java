package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Turns one OpenAI {@code chat.completion.chunk} stream (from an OpenAI-type upstream, for a
 * {@code /v1/messages} request with {@code stream: true}) into the Anthropic Messages events the
 * client expects, one chunk at a time. The streamed half of {@link MessagesResponse}; the mirror of
 * {@link AnthropicStreamTranslator}.
 *
 * <h2>Use</h2>
 * One instance per streamed response. Pass each upstream event's data field to {@link #feed}, the
 * {@code [DONE]} sentinel included (a body that ends after a {@code finish_reason} but without
 * {@code [DONE]} may be fed {@value #DONE} too); write each returned {@link Event} with {@link
 * Event#sse()}. Events are returned as trees so the caller can add to the last {@code
 * message_delta}'s {@code usage} (the gateway's cost and {@code x_br}) before writing it.
 *
 * <table>
 * <caption>What each OpenAI chunk becomes</caption>
 * <tr><th>OpenAI</th><th>Anthropic events</th></tr>
 * <tr><td>the first chunk, whatever it holds</td><td>{@code message_start}: {@link
 *     MessagesResponse#messageId(String)}, the client's model, empty content, usage 0 (OpenAI
 *     reports usage only at the end)</td></tr>
 * <tr><td>{@code delta.reasoning_content}</td><td>a {@code thinking} block ({@code signature: ""},
 *     see {@link MessagesResponse}), {@code thinking_delta}s</td></tr>
 * <tr><td>{@code delta.content} (or {@code delta.refusal})</td><td>a {@code text} block, {@code
 *     text_delta}s</td></tr>
 * <tr><td>{@code delta.tool_calls[]} with an {@code index} not seen before</td><td>a {@code
 *     tool_use} block with the call's id and name and {@code input: {}}; its {@code arguments}
 *     fragments, and later ones for that index, {@code input_json_delta}s with the fragment as
 *     {@code partial_json}</td></tr>
 * <tr><td>{@code finish_reason}</td><td>{@code content_block_stop} of the open block; the stop
 *     reason ({@link MessagesResponse#stopReason(String)}) is kept</td></tr>
 * <tr><td>{@code usage} (the chunk with empty {@code choices}, or on any chunk)</td><td>kept; once
 *     a finish reason and usage are both in, {@code message_delta} and {@code message_stop}</td></tr>
 * <tr><td>{@value #DONE}</td><td>when not yet complete: the open block's stop, {@code
 *     message_delta} (stop reason {@code end_turn} if no finish reason came; usage as known) and
 *     {@code message_stop}</td></tr>
 * </table>
 *
 * <p>Anthropic's blocks never overlap: a new kind of delta closes the open block before its own
 * starts, and block indexes count every block from 0. The only thing held back is {@code
 * message_delta}, from the finish reason until usage or {@value #DONE} arrives, because OpenAI
 * sends the usage after the finish and Anthropic's {@code message_delta} carries it.
 *
 * <p><b>Usage.</b> {@code message_delta.usage} carries the whole count, as the reference allows
 * (its {@code input_tokens}, {@code cache_read_input_tokens} and {@code cache_creation_input_tokens}
 * are cumulative and optional there): input = prompt − cached, cache read = cached, cache creation
 * 0, output = completion. With no usage at all it says only {@code output_tokens: 0}.
 *
 * <h2>Errors</h2>
 * {@link #feed} never throws for upstream content. A chunk that is not a JSON object, one with an
 * {@code error} object (an OpenAI-compatible server's mid-stream error, or the gateway's own
 * stream-end error event, docs/architecture.md §3), or arguments for a tool call after a later
 * call began (Anthropic's blocks cannot interleave and nothing is buffered) makes the stream
 * {@link State#BROKEN}: {@link #failure()} says why, later chunks give nothing, and for the error
 * object the returned events end with Anthropic's {@code error} event. For the other cases, and
 * for a body that ends while {@link State#OPEN}, the caller ends the client's stream with {@link
 * #error(String, String)}; Anthropic streams end in an {@code error} event, with no {@code
 * message_stop}, so the client never takes a cut answer for a whole one.
 *
 * <h2>Threading</h2>
 * Not thread-safe: one instance per stream, used from that stream's event loop.
 */
public final class MessagesStream {
    /** The data of OpenAI's last event. */
    public static final String DONE = "[DONE]";

    /** Where the stream stands. */
    public enum State {
        /** {@code message_stop} has not been sent yet. */
        OPEN,
        /** {@code message_stop} was sent: the answer is whole. */
        COMPLETE,
        /** The upstream's stream broke or could not be read; see {@link #failure()}. */
        BROKEN
    }

    /**
     * One Anthropic SSE event.
     *
     * @param name the SSE {@code event:} name, the same as {@code data.type}
     * @param data the event's JSON
     */
    public record Event(String name, ObjectNode data) {
        /** The event as SSE text: {@code event: X\ndata: Y\n\n}. */
        public String sse() {
            return "event: " + name + "\ndata: " + Json.write(data) + "\n\n";
        }
    }

    private enum Kind {
        TEXT,
        THINKING,
        TOOL
    }

    private final String messageId;
    private final String model;

    /** OpenAI's tool call index → Anthropic's block index. */
    private final Map<Integer, Integer> toolBlocks = new HashMap<>();

    private State state = State.OPEN;
    private boolean started;
    private int nextBlock;
    private @Nullable Kind openKind;
    private int openIndex = -1;
    private int openTool = -1;
    private @Nullable String finishReason;
    private boolean finished;
    private @Nullable Usage usage;
    private @Nullable String stopReason;
    private @Nullable String failure;

    /**
     * @param requestId   the gateway's request id, for the message id
     * @param clientModel the model the client asked for, as every event shows it
     */
    public MessagesStream(String requestId, String clientModel) {
        this.messageId = MessagesResponse.messageId(Objects.requireNonNull(requestId, "requestId"));
        this.model = Objects.requireNonNull(clientModel, "clientModel");
    }

    /**
     * Translates one OpenAI event's data field.
     *
     * @return the Anthropic events to send, in order; empty for chunks that mean nothing to the
     *     client, and for every chunk once the stream is no longer {@link State#OPEN}
     */
    public List<Event> feed(String data) {
        if (state != State.OPEN || data.isBlank()) {
            return List.of();
        }
        List<Event> out = new ArrayList<>();
        if (data.strip().equals(DONE)) {
            start(out);
            closeBlock(out);
            finish(out);
            return out;
        }
        JsonNode chunk;
        try {
            chunk = Json.MAPPER.readTree(data);
        } catch (JsonProcessingException e) {
            return broke("unreadable chunk: " + e.getOriginalMessage(), out);
        }
        if (chunk == null || !chunk.isObject()) {
            return broke("chunk is not a JSON object", out);
        }
        JsonNode error = chunk.get("error");
        if (error != null && error.isObject()) {
            String message = error.path("message").asText("the upstream's stream broke");
            String code = AnthropicRequest.text(error.get("code"));
            broke("error chunk: " + (code == null ? "" : code + ": ") + message, out);
            out.add(errorEvent("api_error", code == null ? message : code + ": " + message));
            return out;
        }
        start(out);
        JsonNode choice = chunk.path("choices").path(0);
        if (choice.isObject()) {
            JsonNode delta = choice.path("delta");
            String reasoning = AnthropicRequest.text(delta.get("reasoning_content"));
            if (reasoning != null && !reasoning.isEmpty()) {
                open(Kind.THINKING, out);
                out.add(blockDelta("thinking_delta", "thinking", reasoning));
            }
            String text = AnthropicRequest.text(delta.get("content"));
            if (text == null || text.isEmpty()) {
                text = AnthropicRequest.text(delta.get("refusal"));
            }
            if (text != null && !text.isEmpty()) {
                open(Kind.TEXT, out);
                out.add(blockDelta("text_delta", "text", text));
            }
            for (JsonNode call : delta.path("tool_calls")) {
                if (!toolCall(call, out)) {
                    return out;
                }
            }
            String finish = AnthropicRequest.text(choice.get("finish_reason"));
            if (finish != null && !finished) {
                finished = true;
                finishReason = finish;
                closeBlock(out);
            }
        }
        JsonNode u = chunk.get("usage");
        if (u != null && u.isObject()) {
            usage = UsageParser.parse(u);
        }
        if (finished && usage != null) {
            finish(out);
        }
        return out;
    }

    /**
     * Ends a stream that broke with Anthropic's {@code error} event, and makes it {@link
     * State#BROKEN} (the caller writes the event and closes the stream; nothing follows it).
     *
     * @param type    Anthropic's error type, such as {@code api_error}, {@code overloaded_error} or
     *                {@code timeout_error} ({@link MessagesErrors#typeOf(int)} for a status)
     * @param message what the client reads
     */
    public Event error(String type, String message) {
        if (state == State.OPEN) {
            state = State.BROKEN;
            if (failure == null) {
                failure = type + ": " + message;
            }
        }
        return errorEvent(type, message);
    }

    /** Where the stream stands. */
    public State state() {
        return state;
    }

    /** Whether {@code message_stop} was sent: the answer is whole. */
    public boolean complete() {
        return state == State.COMPLETE;
    }

    /** The Anthropic stop reason sent in {@code message_delta}, or null before it. */
    public @Nullable String stopReason() {
        return stopReason;
    }

    /** OpenAI's {@code finish_reason} as the upstream sent it, or null when none came (yet). */
    public @Nullable String finishReason() {
        return finishReason;
    }

    /** The upstream's usage, or null when it gave none (yet): the gateway then estimates the cost. */
    public @Nullable Usage usage() {
        return usage;
    }

    /** Why the stream is {@link State#BROKEN}, for logs; else null. */
    public @Nullable String failure() {
        return failure;
    }

    private void start(List<Event> out) {
        if (started) {
            return;
        }
        started = true;
        ObjectNode data = event("message_start");
        ObjectNode message = data.putObject("message");
        message.put("id", messageId);
        message.put("type", "message");
        message.put("role", "assistant");
        message.put("model", model);
        message.putArray("content");
        message.putNull("stop_reason");
        message.putNull("stop_sequence");
        message.set("usage", MessagesResponse.usage(Usage.ZERO));
        out.add(new Event("message_start", data));
    }

    /** Returns false when the stream broke on this call. */
    private boolean toolCall(JsonNode call, List<Event> out) {
        JsonNode indexNode = call.get("index");
        String id = AnthropicRequest.text(call.get("id"));
        int index;
        if (indexNode != null && indexNode.canConvertToInt()) {
            index = indexNode.intValue();
        } else {
            // servers that leave out the index: a call with an id is a new one, else the open one continues
            index = id != null || openTool < 0 ? toolBlocks.size() : openTool;
        }
        JsonNode function = call.path("function");
        String arguments = function.path("arguments").asText("");
        Integer block = toolBlocks.get(index);
        if (block == null) {
            closeBlock(out);
            int blockIndex = nextBlock++;
            toolBlocks.put(index, blockIndex);
            openKind = Kind.TOOL;
            openIndex = blockIndex;
            openTool = index;
            ObjectNode data = event("content_block_start");
            data.put("index", blockIndex);
            ObjectNode contentBlock = data.putObject("content_block");
            contentBlock.put("type", "tool_use");
            contentBlock.put("id", MessagesResponse.toolUseId(id, messageId, index));
            contentBlock.put("name", function.path("name").asText(""));
            contentBlock.putObject("input");
            out.add(new Event("content_block_start", data));
        } else if (openKind != Kind.TOOL || openTool != index) {
            broke("tool call " + index + " continued after another block began (expected: one call at a time)", out);
            return false;
        }
        if (!arguments.isEmpty()) {
            out.add(blockDelta("input_json_delta", "partial_json", arguments));
        }
        return true;
    }

    /** Opens a text or thinking block, unless one of that kind is open. */
    private void open(Kind kind, List<Event> out) {
        if (openKind == kind) {
            return;
        }
        closeBlock(out);
        openKind = kind;
        openIndex = nextBlock++;
        ObjectNode data = event("content_block_start");
        data.put("index", openIndex);
        ObjectNode block = data.putObject("content_block");
        if (kind == Kind.TEXT) {
            block.put("type", "text").put("text", "");
        } else {
            block.put("type", "thinking").put("thinking", "").put("signature", "");
        }
        out.add(new Event("content_block_start", data));
    }

    private void closeBlock(List<Event> out) {
        if (openKind == null) {
            return;
        }
        ObjectNode data = event("content_block_stop");
        data.put("index", openIndex);
        out.add(new Event("content_block_stop", data));
        openKind = null;
        openIndex = -1;
        openTool = -1;
    }

    private void finish(List<Event> out) {
        stopReason = MessagesResponse.stopReason(finishReason);
        ObjectNode data = event("message_delta");
        data.putObject("delta").put("stop_reason", stopReason).putNull("stop_sequence");
        if (usage != null) {
            data.set("usage", MessagesResponse.usage(usage));
        } else {
            data.putObject("usage").put("output_tokens", 0);
        }
        out.add(new Event("message_delta", data));
        out.add(new Event("message_stop", event("message_stop")));
        state = State.COMPLETE;
    }

    private Event blockDelta(String type, String field, String value) {
        ObjectNode data = event("content_block_delta");
        data.put("index", openIndex);
        data.putObject("delta").put("type", type).put(field, value);
        return new Event("content_block_delta", data);
    }

    private static Event errorEvent(String type, String message) {
        return new Event("error", new MessagesErrors.AnthropicError(0, type, message, -1).toTree());
    }

    private static ObjectNode event(String type) {
        return Json.MAPPER.createObjectNode().put("type", type);
    }

    private List<Event> broke(String why, List<Event> out) {
        state = State.BROKEN;
        failure = why;
        return out;
    }
}
