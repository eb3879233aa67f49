package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames one {@link SimAnswers.Answer} in OpenAI's wire format: a {@code chat.completion} object,
 * or the {@code chat.completion.chunk} events of a stream with their pauses.
 */
final class SimChat {

    private final ObjectMapper json;
    private final String id;
    private final long created;
    private final String model;
    private final String fingerprint;
    private final SimAnswers.Answer answer;
    private final long promptTokens;

    /**
     * @param model        the upstream model name, echoed as OpenAI does
     * @param promptTokens the estimated prompt tokens
     */
    SimChat(
            ObjectMapper json,
            String id,
            long created,
            String model,
            String endpointId,
            SimAnswers.Answer answer,
            long promptTokens) {
        this.json = json;
        this.id = id;
        this.created = created;
        this.model = model;
        this.fingerprint = "fp_" + endpointId;
        this.answer = answer;
        this.promptTokens = promptTokens;
    }

    /** The non-streamed answer; {@code withUsage} false leaves usage out (test hook {@code no_usage}). */
    ObjectNode completion(boolean withUsage) {
        ObjectNode root = head("chat.completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        if (answer.kind() == SimAnswers.Kind.TOOL_CALL) {
            message.putNull("content");
            message.putNull("refusal");
            ObjectNode call = message.putArray("tool_calls").addObject();
            call.put("id", answer.toolCallId());
            call.put("type", "function");
            call.putObject("function").put("name", answer.toolName()).put("arguments", answer.text());
        } else {
            message.put("content", answer.text());
            message.putNull("refusal");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", answer.finishReason());
        if (withUsage) {
            root.set("usage", usage());
        }
        root.put("system_fingerprint", fingerprint);
        return root;
    }

    /**
     * The stream's events: the role chunk after {@code firstDelayMs}, each piece {@code intervalMs}
     * after the one before, then the finish chunk, the usage chunk when asked for, and {@code [DONE]}.
     *
     * @param usageFields   the client set {@code stream_options.include_usage}: chunks carry {@code "usage":null}
     * @param usageChunk    send the final usage-only chunk
     */
    List<SimStream.Event> events(long firstDelayMs, long intervalMs, boolean usageFields, boolean usageChunk) {
        List<SimStream.Event> events = new ArrayList<>(answer.pieces().size() + 5);
        boolean tool = answer.kind() == SimAnswers.Kind.TOOL_CALL;

        ObjectNode role = chunk(usageFields);
        ObjectNode roleDelta = delta(role).put("role", "assistant");
        if (tool) {
            roleDelta.putNull("content");
        } else {
            roleDelta.put("content", "");
        }
        events.add(event(role, firstDelayMs, false));
        if (tool) {
            ObjectNode head = chunk(usageFields);
            ObjectNode call = delta(head).putArray("tool_calls").addObject();
            call.put("index", 0);
            call.put("id", answer.toolCallId());
            call.put("type", "function");
            call.putObject("function").put("name", answer.toolName()).put("arguments", "");
            events.add(event(head, 0, false));
        }
        List<String> pieces = answer.pieces();
        for (int i = 0; i < pieces.size(); i++) {
            ObjectNode piece = chunk(usageFields);
            if (tool) {
                delta(piece)
                        .putArray("tool_calls")
                        .addObject()
                        .put("index", 0)
                        .putObject("function")
                        .put("arguments", pieces.get(i));
            } else {
                delta(piece).put("content", pieces.get(i));
            }
            events.add(event(piece, i == 0 ? 0 : intervalMs, true));
        }
        ObjectNode finish = chunk(usageFields);
        ((ObjectNode) finish.get("choices").get(0)).put("finish_reason", answer.finishReason());
        events.add(event(finish, 0, false));
        if (usageChunk) {
            ObjectNode usage = head("chat.completion.chunk");
            usage.putArray("choices");
            usage.put("system_fingerprint", fingerprint);
            usage.set("usage", usage());
            events.add(event(usage, 0, false));
        }
        events.add(new SimStream.Event("data: [DONE]\n\n", 0, false));
        return events;
    }

    /** Completion tokens: one per piece. */
    long completionTokens() {
        return answer.pieces().size();
    }

    private ObjectNode usage() {
        ObjectNode usage = json.createObjectNode();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens());
        usage.put("total_tokens", promptTokens + completionTokens());
        usage.putObject("prompt_tokens_details").put("cached_tokens", 0);
        usage.putObject("completion_tokens_details").put("reasoning_tokens", 0);
        return usage;
    }

    private ObjectNode head(String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private ObjectNode chunk(boolean usageField) {
        ObjectNode root = head("chat.completion.chunk");
        root.put("system_fingerprint", fingerprint);
        ArrayNode choices = root.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        if (usageField) {
            root.putNull("usage");
        }
        return root;
    }

    private static ObjectNode delta(ObjectNode chunk) {
        return (ObjectNode) chunk.get("choices").get(0).get("delta");
    }

    private SimStream.Event event(ObjectNode chunk, long delayMs, boolean content) {
        try {
            return new SimStream.Event("data: " + json.writeValueAsString(chunk) + "\n\n", delayMs, content);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("sim: cannot write a chunk", e);
        }
    }
}
