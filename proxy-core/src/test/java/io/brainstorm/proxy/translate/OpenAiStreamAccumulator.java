package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a {@code chat.completion.chunk} stream the way the OpenAI SDKs do (openai-python's
 * {@code ChatCompletionStreamState}, openai-java's {@code ChatCompletionAccumulator}): content and
 * reasoning concatenated, tool calls grouped by {@code index} with id, type and name taken from
 * the delta that has them and arguments concatenated, the last finish reason and usage kept. It
 * also checks what those SDKs rely on: every chunk's {@code object}, a single choice at index 0,
 * nothing after {@code [DONE]}.
 */
final class OpenAiStreamAccumulator {
    /** One accumulated tool call. */
    static final class ToolCall {
        String id = "";
        String type = "";
        String name = "";
        final StringBuilder arguments = new StringBuilder();
    }

    final StringBuilder content = new StringBuilder();
    final StringBuilder reasoning = new StringBuilder();
    final List<ToolCall> toolCalls = new ArrayList<>();
    String role = "";
    String finishReason = "";
    JsonNode usage = Json.MAPPER.missingNode();
    boolean done;
    int chunks;

    void accept(List<String> events) {
        for (String data : events) {
            accept(data);
        }
    }

    void accept(String data) {
        if (done) {
            throw new AssertionError("event after [DONE]: " + data);
        }
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        JsonNode chunk = parse(data);
        chunks++;
        if (!chunk.path("object").asText().equals("chat.completion.chunk")) {
            throw new AssertionError("not a chunk: " + data);
        }
        if (chunk.path("usage").isObject()) {
            usage = chunk.get("usage");
        }
        for (JsonNode choice : chunk.path("choices")) {
            if (choice.path("index").asInt(-1) != 0) {
                throw new AssertionError("choice index: " + data);
            }
            JsonNode delta = choice.path("delta");
            if (delta.path("role").isTextual()) {
                role = delta.get("role").asText();
            }
            if (delta.path("content").isTextual()) {
                content.append(delta.get("content").asText());
            }
            if (delta.path("reasoning_content").isTextual()) {
                reasoning.append(delta.get("reasoning_content").asText());
            }
            for (JsonNode call : delta.path("tool_calls")) {
                int index = call.path("index").asInt(-1);
                if (index < 0 || index > toolCalls.size()) {
                    throw new AssertionError("tool call index " + index + " after " + toolCalls.size() + ": " + data);
                }
                if (index == toolCalls.size()) {
                    toolCalls.add(new ToolCall());
                }
                ToolCall acc = toolCalls.get(index);
                if (call.path("id").isTextual()) {
                    acc.id = call.get("id").asText();
                }
                if (call.path("type").isTextual()) {
                    acc.type = call.get("type").asText();
                }
                JsonNode function = call.path("function");
                if (function.path("name").isTextual()) {
                    acc.name = function.get("name").asText();
                }
                if (function.path("arguments").isTextual()) {
                    acc.arguments.append(function.get("arguments").asText());
                }
            }
            if (choice.path("finish_reason").isTextual()) {
                finishReason = choice.get("finish_reason").asText();
            }
        }
    }

    static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
