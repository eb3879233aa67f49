package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Turns one Anthropic Messages stream ({@code POST /v1/messages} with {@code "stream": true}) into
 * the OpenAI {@code chat.completion.chunk} stream a client of {@code /v1/chat/completions}
 * expects, one event at a time. Nothing is buffered beyond the event being translated: text,
 * reasoning and tool arguments leave in the chunk made from the event that carried them.
 *
 * <h2>Use</h2>
 * One instance per streamed response. For each complete SSE event from the upstream (as
 * {@code relay.SseEventSplitter} cuts them), pass its data field ({@code SseEvents.data(event)})
 * to {@link #feed}. Anthropic repeats the SSE {@code event:} name as the data's {@code "type"},
 * so the data alone is enough; events with no data (blank lines, comments) give nothing. Each
 * returned string is the data of one event to write to the client: a chunk's JSON, to be written
 * as {@code data: <json>}, or, last of all, {@link #DONE}, to be written as {@code data: [DONE]}.
 *
 * <table>
 * <caption>What each Anthropic event becomes</caption>
 * <tr><th>Anthropic event</th><th>OpenAI chunks</th></tr>
 * <tr><td>{@code message_start}</td><td>one chunk, {@code delta: {role: "assistant", content: ""}};
 *     the message id, input and cache token counts are kept</td></tr>
 * <tr><td>{@code content_block_start} of a {@code tool_use}</td><td>one chunk,
 *     {@code delta.tool_calls: [{index: k, id, type: "function", function: {name, arguments: ""}}]},
 *     {@code k} counting tool_use blocks only, from 0</td></tr>
 * <tr><td>{@code content_block_start} of anything else, {@code content_block_stop},
 *     {@code ping}, {@code signature_delta}, unknown event or block types</td><td>none</td></tr>
 * <tr><td>{@code text_delta}</td><td>{@code delta.content}</td></tr>
 * <tr><td>{@code thinking_delta}</td><td>{@code delta.reasoning_content}</td></tr>
 * <tr><td>{@code input_json_delta}</td><td>{@code delta.tool_calls: [{index: k, function:
 *     {arguments: partial_json}}]}, the fragment exactly as it came</td></tr>
 * <tr><td>{@code message_delta} with a {@code stop_reason}</td><td>one chunk, {@code delta: {}}
 *     and {@code finish_reason} (see {@link AnthropicResponse#finishReason(String)}); output tokens kept</td></tr>
 * <tr><td>{@code message_stop}</td><td>when {@code includeUsage}, a chunk with {@code choices: []}
 *     and {@code usage}; then {@link #DONE}</td></tr>
 * <tr><td>{@code error}</td><td>none: the stream is {@link State#BROKEN}, see Errors</td></tr>
 * </table>
 *
 * <p>Every chunk carries the message id from {@code message_start}, {@code object:
 * "chat.completion.chunk"}, the {@code created} and {@code model} given to the constructor, and one
 * choice at index 0 with {@code finish_reason} ({@code null} but on the finish chunk). With
 * {@code includeUsage}, every chunk but the last also has {@code "usage": null}, as OpenAI sends
 * it. Tool call ids are Anthropic's ({@code toolu_...}), so a client's {@code role: tool} answer
 * names the {@code tool_use_id} Anthropic expects.
 *
 * <p><b>JSON schema mode.</b> When the request's {@code response_format: json_schema} was sent to
 * Anthropic as a forced tool, construct with {@code jsonSchemaTool} true: the tool's
 * {@code input_json_delta} fragments become {@code delta.content}, no tool call is announced,
 * {@code stop_reason: tool_use} finishes as {@code stop}, and text blocks are dropped (with a
 * forced tool Anthropic writes no text before it; anything else would break the JSON document the
 * client asked for).
 *
 * <p><b>Usage.</b> {@code message_delta} usage is a cumulative snapshot that may leave out the
 * input and cache counts, or give them as 0: a count only ever grows here, so those from
 * {@code message_start} survive. {@link #usage()} keeps the raw cache creation (five-minute and
 * one-hour) and read counts, in the record {@link AnthropicResponse} uses, so that {@link
 * AnthropicResponse.Usage#toSettle()} charges a streamed answer exactly what the same answer costs
 * whole; the OpenAI usage chunk has {@code prompt_tokens} = input + cache creation + cache read and
 * {@code prompt_tokens_details.cached_tokens} = cache read.
 *
 * <p><b>For the relay.</b> The gateway always wants usage to settle a stream; pass
 * {@code includeUsage} true when the chunks go through the relay's usage handling (which turns the
 * usage chunk into an {@code : x-br} comment when the client did not ask), and the client's own
 * {@code stream_options.include_usage} when they go straight to the client.
 *
 * <h2>Errors</h2>
 * {@link #feed} never throws for upstream content. An Anthropic {@code error} event (such as
 * {@code overloaded_error} mid-stream), data that is not a JSON object, an event before
 * {@code message_start}, or an {@code input_json_delta} for a block that is not a tool_use makes
 * the stream {@link State#BROKEN}: no chunk is returned for it, {@link #failure()} says why, and
 * later events give nothing. The caller then ends the client's stream with the gateway's
 * stream-end error contract (docs/architecture.md §3: one last event with an {@code error} object
 * and {@code finish_reason: "error"}, no {@code [DONE]}), which {@code relay.StreamedAnswer#broke}
 * already writes with its {@code x_br}, and records the attempt as a failure (0 for learning). A
 * stream whose body ends while still {@link State#OPEN} broke the same way.
 *
 * <h2>Threading</h2>
 * Not thread-safe: one instance per stream, used from that stream's event loop.
 */
public final class AnthropicStreamTranslator {
    /** The data of OpenAI's last event, {@code data: [DONE]}. */
    public static final String DONE = "[DONE]";

    /** Where the stream stands. */
    public enum State {
        /** {@code message_stop} has not come yet. */
        OPEN,
        /** {@code message_stop} came: the answer is whole and {@link #DONE} was returned. */
        COMPLETE,
        /** An {@code error} event or an unreadable event ended it; see {@link #failure()}. */
        BROKEN
    }

    private final String model;
    private final long created;
    private final boolean includeUsage;
    private final boolean jsonSchemaTool;

    /** Anthropic's content block index → the OpenAI tool call index, for tool_use blocks only. */
    private final Map<Integer, Integer> toolIndexes = new HashMap<>();

    private State state = State.OPEN;
    private @Nullable ObjectNode lastEvent;
    private @Nullable String id;
    private @Nullable String finishReason;
    private @Nullable String failure;
    private @Nullable String errorType;
    private AnthropicResponse.Usage usage = AnthropicResponse.Usage.ZERO;

    /**
     * @param model          the model id the client should see in every chunk
     * @param created        the chunks' {@code created}, epoch seconds
     * @param includeUsage   whether to send the usage chunk before {@link #DONE}, and
     *     {@code "usage": null} on the others (see the class doc, <i>For the relay</i>)
     * @param jsonSchemaTool whether the request's {@code json_schema} response format went upstream
     *     as a forced tool, whose input is then the answer's content
     */
    public AnthropicStreamTranslator(String model, long created, boolean includeUsage, boolean jsonSchemaTool) {
        this.model = Objects.requireNonNull(model, "model");
        if (created < 0) {
            throw new IllegalArgumentException("created: " + created + " (expected: >= 0)");
        }
        this.created = created;
        this.includeUsage = includeUsage;
        this.jsonSchemaTool = jsonSchemaTool;
    }

    /**
     * Translates one Anthropic event's data field.
     *
     * @return the data of the events to send the client, in order: chunk JSON texts, and
     *     {@link #DONE} last after {@code message_stop}; empty for events that mean nothing to the
     *     client, and for every event once the stream is no longer {@link State#OPEN}
     */
    public List<String> feed(String data) {
        lastEvent = null;
        if (state != State.OPEN || data.isBlank()) {
            return List.of();
        }
        JsonNode event;
        try {
            event = Json.MAPPER.readTree(data);
        } catch (JsonProcessingException e) {
            return broke("unreadable event data: " + e.getOriginalMessage());
        }
        if (!(event instanceof ObjectNode o)) {
            return broke("event data is not a JSON object");
        }
        lastEvent = o;
        String type = event.path("type").asText("");
        if (type.equals("error")) {
            JsonNode error = event.path("error");
            errorType = error.path("type").asText("error");
            return broke(errorType + ": " + error.path("message").asText("(no message)"));
        }
        if (type.equals("ping")) {
            return List.of();
        }
        if (id == null) {
            if (!type.equals("message_start")) {
                return broke("event " + type + " before message_start");
            }
            return messageStart(event.path("message"));
        }
        switch (type) {
            case "content_block_start":
                return blockStart(event.path("index").asInt(-1), event.path("content_block"));
            case "content_block_delta":
                return blockDelta(event.path("index").asInt(-1), event.path("delta"));
            case "message_delta":
                return messageDelta(event.path("delta"), event.path("usage"));
            case "message_stop":
                return messageStop();
            default:
                // content_block_stop, a second message_start, and event types added later
                return List.of();
        }
    }

    /**
     * The event the last {@link #feed} read, as a tree, so a caller that passes Anthropic's events on
     * need not parse them again; null when it read none (blank or unreadable data, or the stream no
     * longer {@link State#OPEN}). The translator does not change it.
     */
    public @Nullable ObjectNode lastEvent() {
        return lastEvent;
    }

    /** Where the stream stands. */
    public State state() {
        return state;
    }

    /** Whether {@code message_stop} came: the stream ended cleanly. */
    public boolean complete() {
        return state == State.COMPLETE;
    }

    /** The OpenAI {@code finish_reason} sent, or null when no {@code message_delta} gave one yet. */
    public @Nullable String finishReason() {
        return finishReason;
    }

    /**
     * The token counts so far: the final ones once {@link #complete()}. The same record as a whole
     * message's, so {@link AnthropicResponse.Usage#toSettle()} gives what to charge either way.
     */
    public AnthropicResponse.Usage usage() {
        return usage;
    }

    /** Why the stream is {@link State#BROKEN}, for logs and the client's error event; else null. */
    public @Nullable String failure() {
        return failure;
    }

    /** The {@code error.type} of an Anthropic {@code error} event, such as {@code overloaded_error}; else null. */
    public @Nullable String errorType() {
        return errorType;
    }

    private List<String> messageStart(JsonNode message) {
        String messageId = message.path("id").asText("");
        if (messageId.isEmpty()) {
            return broke("message_start without message.id");
        }
        id = messageId;
        takeUsage(message.path("usage"));
        ObjectNode delta = Json.MAPPER.createObjectNode();
        delta.put("role", "assistant").put("content", "");
        return List.of(chunk(delta, null));
    }

    private List<String> blockStart(int index, JsonNode block) {
        String type = block.path("type").asText("");
        if (type.equals("text") && !jsonSchemaTool) {
            String text = block.path("text").asText("");
            return text.isEmpty() ? List.of() : List.of(content(text));
        }
        if (!type.equals("tool_use")) {
            return List.of();
        }
        int toolIndex = toolIndexes.size();
        toolIndexes.put(index, toolIndex);
        if (jsonSchemaTool) {
            return List.of();
        }
        ObjectNode call = Json.MAPPER.createObjectNode();
        call.put("index", toolIndex);
        call.put("id", block.path("id").asText(""));
        call.put("type", "function");
        call.putObject("function").put("name", block.path("name").asText("")).put("arguments", "");
        return List.of(toolCall(call));
    }

    private List<String> blockDelta(int index, JsonNode delta) {
        switch (delta.path("type").asText("")) {
            case "text_delta":
                if (jsonSchemaTool) {
                    return List.of();
                }
                String text = delta.path("text").asText("");
                return text.isEmpty() ? List.of() : List.of(content(text));
            case "thinking_delta":
                String thinking = delta.path("thinking").asText("");
                if (thinking.isEmpty()) {
                    return List.of();
                }
                ObjectNode reasoning = Json.MAPPER.createObjectNode();
                reasoning.put("reasoning_content", thinking);
                return List.of(chunk(reasoning, null));
            case "input_json_delta":
                Integer toolIndex = toolIndexes.get(index);
                if (toolIndex == null) {
                    return broke("input_json_delta for content block " + index + " (expected: a tool_use block)");
                }
                String partial = delta.path("partial_json").asText("");
                if (partial.isEmpty()) {
                    return List.of();
                }
                if (jsonSchemaTool) {
                    return List.of(content(partial));
                }
                ObjectNode call = Json.MAPPER.createObjectNode();
                call.put("index", toolIndex);
                call.putObject("function").put("arguments", partial);
                return List.of(toolCall(call));
            default:
                // signature_delta (the client cannot send it back through the OpenAI shape), citations, newer
                return List.of();
        }
    }

    private List<String> messageDelta(JsonNode delta, JsonNode deltaUsage) {
        takeUsage(deltaUsage);
        JsonNode stop = delta.path("stop_reason");
        if (!stop.isTextual() || finishReason != null) {
            return List.of();
        }
        String reason = AnthropicResponse.finishReason(stop.asText());
        if (jsonSchemaTool && reason.equals("tool_calls")) {
            reason = "stop";
        }
        finishReason = reason;
        return List.of(chunk(Json.MAPPER.createObjectNode(), reason));
    }

    private List<String> messageStop() {
        state = State.COMPLETE;
        if (!includeUsage) {
            return List.of(DONE);
        }
        ObjectNode last = head();
        last.putArray("choices");
        last.set("usage", usage.toOpenAi());
        return List.of(last.toString(), DONE);
    }

    /** Takes the counts {@code u} has, never lowering one: Anthropic's counts are cumulative. */
    private void takeUsage(JsonNode u) {
        if (u.isObject()) {
            usage = usage.atLeast(AnthropicResponse.Usage.of(u));
        }
    }

    private String content(String text) {
        ObjectNode delta = Json.MAPPER.createObjectNode();
        delta.put("content", text);
        return chunk(delta, null);
    }

    private String toolCall(ObjectNode call) {
        ObjectNode delta = Json.MAPPER.createObjectNode();
        ArrayNode calls = delta.putArray("tool_calls");
        calls.add(call);
        return chunk(delta, null);
    }

    private String chunk(ObjectNode delta, @Nullable String finish) {
        ObjectNode chunk = head();
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return chunk.toString();
    }

    private ObjectNode head() {
        ObjectNode chunk = Json.MAPPER.createObjectNode();
        chunk.put("id", id);
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", created);
        chunk.put("model", model);
        return chunk;
    }

    private List<String> broke(String why) {
        state = State.BROKEN;
        failure = why;
        return List.of();
    }
}
