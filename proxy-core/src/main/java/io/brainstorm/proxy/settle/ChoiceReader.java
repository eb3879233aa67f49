package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the first choice of a {@code chat.completion} (its {@code message}) or of a
 * {@code chat.completion.chunk} (its {@code delta}) with Jackson's streaming parser, skipping
 * everything else: {@code content} (a string, or text parts joined), each
 * {@code tool_calls[].function.{name, arguments}} (arguments written as an object are taken as
 * their JSON text), the legacy {@code function_call}, and {@code finish_reason}.
 *
 * <p>"First choice" is the one with {@code "index": 0}, or, without an index, the first in the
 * array. The fields of a choice may come in any order; its values are kept apart until the choice
 * ends and are used only if it is the first. The results describe the last {@link #read} that
 * returned true.
 *
 * <p><b>Threading:</b> one owner; reused from one read to the next.
 */
final class ChoiceReader {
    /** One tool call (or one delta of one) as written: {@code index} is -1 when absent. */
    record ToolDelta(int index, int position, @Nullable String id, String name, String arguments) {}

    /** Whether the object had a {@code choices} array. */
    boolean hasChoices;
    /** Whether the first choice was found. */
    boolean found;
    /** The first choice's content, or null when it had none. */
    @Nullable
    String content;
    /** The first choice's finish reason, or null. */
    @Nullable
    String finishReason;
    /** The first choice's tool calls, in array order. */
    final List<ToolDelta> toolCalls = new ArrayList<>();

    // the choice being read
    private @Nullable String pendingContent;
    private @Nullable String pendingFinish;
    private final List<ToolDelta> pendingCalls = new ArrayList<>();
    private final StringBuilder parts = new StringBuilder();

    /**
     * Reads one JSON object from {@code p}, which must hold nothing after it.
     *
     * @return false when the input is not a JSON object (results then say nothing)
     * @throws IOException when it is not JSON
     */
    boolean read(JsonParser p) throws IOException {
        hasChoices = false;
        found = false;
        content = null;
        finishReason = null;
        toolCalls.clear();
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return false;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("choices".equals(field) && value == JsonToken.START_ARRAY) {
                hasChoices = true;
                readChoices(p);
            } else {
                p.skipChildren();
            }
        }
        return p.nextToken() == null;
    }

    private void readChoices(JsonParser p) throws IOException {
        int position = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_OBJECT) {
                readChoice(p, position);
            } else {
                p.skipChildren();
            }
            position++;
        }
    }

    private void readChoice(JsonParser p, int position) throws IOException {
        int index = -1;
        pendingContent = null;
        pendingFinish = null;
        pendingCalls.clear();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "index" -> index = value == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : -1;
                case "message", "delta" -> {
                    if (value == JsonToken.START_OBJECT) {
                        readMessage(p);
                    } else {
                        p.skipChildren();
                    }
                }
                case "finish_reason" -> pendingFinish = value == JsonToken.VALUE_STRING ? p.getText() : null;
                default -> p.skipChildren();
            }
        }
        if (found || (index >= 0 ? index : position) != 0) {
            return;
        }
        found = true;
        content = pendingContent;
        finishReason = pendingFinish;
        toolCalls.addAll(pendingCalls);
    }

    private void readMessage(JsonParser p) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "content" -> pendingContent = readContent(p, value);
                case "tool_calls" -> {
                    if (value == JsonToken.START_ARRAY) {
                        readToolCalls(p);
                    } else {
                        p.skipChildren();
                    }
                }
                case "function_call" -> {
                    if (value == JsonToken.START_OBJECT) {
                        readCall(p, 0, 0, true);
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
    }

    /** A string, or an array of parts whose {@code text} fields are joined; null otherwise. */
    private @Nullable String readContent(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (value != JsonToken.START_ARRAY) {
            p.skipChildren();
            return null;
        }
        parts.setLength(0);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                if (p.nextToken() == JsonToken.VALUE_STRING && "text".equals(field)) {
                    parts.append(p.getText());
                } else {
                    p.skipChildren();
                }
            }
        }
        return parts.toString();
    }

    private void readToolCalls(JsonParser p) throws IOException {
        int position = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_OBJECT) {
                readCall(p, -1, position, false);
            } else {
                p.skipChildren();
            }
            position++;
        }
    }

    /** One tool call object ({@code legacy}: a {@code function_call}, which is the function itself). */
    private void readCall(JsonParser p, int index, int position, boolean legacy) throws IOException {
        String id = null;
        String[] nameAndArguments = {null, null};
        if (legacy) {
            readFunction(p, nameAndArguments);
        } else {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "index" -> index = value == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : -1;
                    case "id" -> id = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "function" -> {
                        if (value == JsonToken.START_OBJECT) {
                            readFunction(p, nameAndArguments);
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        }
        pendingCalls.add(new ToolDelta(index, position, id, nameAndArguments[0], nameAndArguments[1]));
    }

    private static void readFunction(JsonParser p, String[] nameAndArguments) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("name".equals(field) && value == JsonToken.VALUE_STRING) {
                nameAndArguments[0] = p.getText();
            } else if ("arguments".equals(field) && value == JsonToken.VALUE_STRING) {
                nameAndArguments[1] = p.getText();
            } else if ("arguments".equals(field)
                    && (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY)) {
                // some providers write the arguments as JSON rather than as a string of JSON
                JsonNode tree = p.readValueAsTree();
                nameAndArguments[1] = tree.toString();
            } else {
                p.skipChildren();
            }
        }
    }
}
