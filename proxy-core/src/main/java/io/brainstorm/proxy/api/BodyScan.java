package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One streaming pass over a client's body (docs/architecture.md §2, step 4): checks that the
 * whole body is one well-formed JSON value, reads the few top-level fields the gateway uses, skips
 * everything else without building it, and records where each top-level member starts and ends so
 * that {@link BodyPatch} can rewrite the bytes instead of re-serialising a tree.
 *
 * <p>Like Jackson's tree, a field given twice counts by its last occurrence; every occurrence of
 * {@code model} is renamed and every occurrence of the gateway's own fields is removed, so what the
 * upstream reads agrees with what the gateway routed on whichever occurrence its parser keeps.
 * Validation is {@link ParsedRequest}'s: this class only collects, so that errors come in the same
 * order whatever the order of the fields.
 *
 * <p><b>Threading:</b> one pass on one thread; not shared.
 *
 * <p><b>Errors:</b> {@link #run} throws Jackson's exceptions for bytes that are not one JSON value,
 * and {@link NotAnObject} for a value that is not an object; {@link ParsedRequest} turns both into
 * 400s.
 */
final class BodyScan {
    /** Top-level fields the gateway reads, by index into {@link #NAMES}. */
    static final int MODEL = 0;

    static final int MESSAGES = 1;
    static final int INPUT = 2;
    static final int STREAM = 3;
    static final int STREAM_OPTIONS = 4;
    static final int MAX_TOKENS = 5;
    static final int MAX_COMPLETION_TOKENS = 6;
    static final int TOOLS = 7;
    static final int RESPONSE_FORMAT = 8;
    static final int TOOL_CHOICE = 9;
    static final int FUNCTIONS = 10;
    static final int FUNCTION_CALL = 11;
    static final int USER = 12;
    static final int MODELS = 13;
    static final int PROVIDER = 14;

    static final String[] NAMES = {
        "model",
        "messages",
        "input",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "response_format",
        "tool_choice",
        "functions",
        "function_call",
        "user",
        "models",
        "provider"
    };

    /** Not an int that fits a long: the value must be read as a tree to be judged. */
    static final long NOT_A_LONG = Long.MIN_VALUE;

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_OBJECT = "{\"include_usage\":true}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_MEMBER = "\"include_usage\":true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_MEMBER_COMMA = "\"include_usage\":true,".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STREAM_OPTIONS_MEMBER =
            ",\"stream_options\":{\"include_usage\":true}".getBytes(StandardCharsets.US_ASCII);

    /** The root value is valid JSON but not an object. */
    static final class NotAnObject extends Exception {
        private static final long serialVersionUID = 1L;

        NotAnObject() {
            super(null, null, false, false);
        }
    }

    final byte[] bytes;

    /** Top-level members in body order: where the name starts, where the value starts and ends, which field. */
    private int members;

    private int[] nameStart = new int[16];
    private int[] valueStart = new int[16];
    private int[] valueEnd = new int[16];
    private int[] field = new int[16];

    /** The member index of each field's last occurrence, or -1. */
    private final int[] last = new int[NAMES.length];
    /** The first token of each field's last occurrence. */
    private final @Nullable JsonToken[] token = new JsonToken[NAMES.length];

    private @Nullable String model;
    private @Nullable String user;
    private int messages;
    private int firstBadMessage = -1;
    private final long[] maxTokens = {NOT_A_LONG, NOT_A_LONG};
    private @Nullable JsonToken includeUsage;
    /** The last value of each field scoring reads, as a tree; null when absent. */
    private final @Nullable JsonNode[] trees = new JsonNode[NAMES.length];

    /** The edits that ask for usage on a stream, applied only if the request is one. */
    private final BodyPatch.Builder usage;

    BodyScan(byte[] bytes) {
        this.bytes = bytes;
        this.usage = new BodyPatch.Builder(bytes);
        Arrays.fill(last, -1);
    }

    /**
     * Reads the whole body.
     *
     * @throws IOException  Jackson's exception for bytes that are not one JSON value (a
     *                      {@link com.fasterxml.jackson.core.JsonProcessingException}), or a number
     *                      it cannot hold ({@link NumberFormatException} is unchecked)
     * @throws NotAnObject  for one JSON value that is not an object
     */
    void run() throws IOException, NotAnObject {
        try (JsonParser p = Json.MAPPER.getFactory().createParser(bytes)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                if (t != null) {
                    p.skipChildren();
                    requireEnd(p);
                }
                throw new NotAnObject();
            }
            t = p.nextToken();
            while (t == JsonToken.FIELD_NAME) {
                int k = member(offset(p));
                String name = p.currentName();
                JsonToken v = p.nextToken();
                valueStart[k] = offset(p);
                int f = fieldOf(name);
                field[k] = f;
                if (f >= 0) {
                    last[f] = k;
                    token[f] = v;
                }
                read(p, f, v);
                // past a structure the reader did not walk (a no-op after one it did)
                p.skipChildren();
                t = p.nextToken();
                valueEnd[k] = endBefore(offset(p));
            }
            // the parser refuses anything but a name or the end inside an object
            requireEnd(p);
        }
    }

    private void read(JsonParser p, int f, JsonToken v) throws IOException {
        switch (f) {
            case MODEL -> model = v == JsonToken.VALUE_STRING ? p.getText() : null;
            case USER -> user = v == JsonToken.VALUE_STRING ? p.getText() : null;
            case MESSAGES -> readMessages(p, v);
            case STREAM_OPTIONS -> readStreamOptions(p, v);
            case MAX_TOKENS, MAX_COMPLETION_TOKENS ->
                maxTokens[f - MAX_TOKENS] =
                        v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                                ? p.getLongValue()
                                : NOT_A_LONG;
            case TOOLS, RESPONSE_FORMAT, TOOL_CHOICE, FUNCTIONS, FUNCTION_CALL -> trees[f] = Json.MAPPER.readTree(p);
            default -> {}
        }
    }

    /** Counts the messages and finds the first that is not an object with a string {@code role}. */
    private void readMessages(JsonParser p, JsonToken v) throws IOException {
        messages = 0;
        firstBadMessage = -1;
        if (v != JsonToken.START_ARRAY) {
            p.skipChildren();
            return;
        }
        for (JsonToken m = p.nextToken(); m != JsonToken.END_ARRAY; m = p.nextToken()) {
            boolean role = false;
            if (m == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    boolean isRole = p.currentName().equals("role");
                    JsonToken r = p.nextToken();
                    if (isRole) {
                        role = r == JsonToken.VALUE_STRING;
                    }
                    p.skipChildren();
                }
            } else {
                p.skipChildren();
            }
            if (!role && firstBadMessage < 0) {
                firstBadMessage = messages;
            }
            messages++;
        }
    }

    /**
     * Reads {@code include_usage} and notes, for every occurrence, the edit that makes it
     * {@code true}: a {@code null} becomes an object, an {@code include_usage} value becomes
     * {@code true}, an object without one gets one first.
     */
    private void readStreamOptions(JsonParser p, JsonToken v) throws IOException {
        includeUsage = null;
        if (v == JsonToken.VALUE_NULL) {
            int at = offset(p);
            usage.replace(at, at + 4, USAGE_OBJECT);
            return;
        }
        if (v != JsonToken.START_OBJECT) {
            p.skipChildren();
            return;
        }
        int open = offset(p);
        boolean empty = true;
        boolean found = false;
        JsonToken t = p.nextToken();
        while (t == JsonToken.FIELD_NAME) {
            empty = false;
            boolean isUsage = p.currentName().equals("include_usage");
            JsonToken value = p.nextToken();
            int start = offset(p);
            p.skipChildren();
            t = p.nextToken();
            if (isUsage) {
                includeUsage = value;
                found = true;
                usage.replace(start, endBefore(offset(p)), TRUE);
            }
        }
        if (!found) {
            usage.replace(open + 1, open + 1, empty ? USAGE_MEMBER : USAGE_MEMBER_COMMA);
        }
    }

    /** Starts top-level member number {@link #members}, whose name starts at {@code at}. */
    private int member(int at) {
        if (members == nameStart.length) {
            int n = members * 2;
            nameStart = Arrays.copyOf(nameStart, n);
            valueStart = Arrays.copyOf(valueStart, n);
            valueEnd = Arrays.copyOf(valueEnd, n);
            field = Arrays.copyOf(field, n);
        }
        nameStart[members] = at;
        return members++;
    }

    private static void requireEnd(JsonParser p) throws IOException {
        JsonToken trailing = p.nextToken();
        if (trailing != null) {
            // the words of Jackson's FAIL_ON_TRAILING_TOKENS, which the tree reader used
            throw new JsonParseException(
                    p,
                    "Trailing token (of type " + trailing + ") found after value (bound as `"
                            + JsonNode.class.getName() + "`): not allowed as per"
                            + " `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`");
        }
    }

    private static int offset(JsonParser p) {
        return (int) p.currentTokenLocation().getByteOffset();
    }

    /**
     * Where the value before the token at {@code next} ends: back over JSON whitespace, the comma
     * between two members if there is one, and whitespace again.
     */
    private int endBefore(int next) {
        int i = next - 1;
        while (whitespace(bytes[i])) {
            i--;
        }
        if (bytes[i] == ',') {
            i--;
            while (whitespace(bytes[i])) {
                i--;
            }
        }
        return i + 1;
    }

    private static boolean whitespace(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    private static int fieldOf(String name) {
        return switch (name) {
            case "model" -> MODEL;
            case "messages" -> MESSAGES;
            case "input" -> INPUT;
            case "stream" -> STREAM;
            case "stream_options" -> STREAM_OPTIONS;
            case "max_tokens" -> MAX_TOKENS;
            case "max_completion_tokens" -> MAX_COMPLETION_TOKENS;
            case "tools" -> TOOLS;
            case "response_format" -> RESPONSE_FORMAT;
            case "tool_choice" -> TOOL_CHOICE;
            case "functions" -> FUNCTIONS;
            case "function_call" -> FUNCTION_CALL;
            case "user" -> USER;
            case "models" -> MODELS;
            case "provider" -> PROVIDER;
            default -> -1;
        };
    }

    /** Whether {@code f} is in the body (its last occurrence may be {@code null}). */
    boolean has(int f) {
        return last[f] >= 0;
    }

    /** Whether {@code f} is absent or {@code null}, which the gateway treats alike. */
    boolean absent(int f) {
        return last[f] < 0 || token[f] == JsonToken.VALUE_NULL;
    }

    /** The first token of {@code f}'s value; null when absent. */
    @Nullable
    JsonToken token(int f) {
        return token[f];
    }

    /** The value of {@code f} as a tree; only for a field that is present. */
    JsonNode tree(int f) throws IOException {
        int k = last[f];
        return Json.MAPPER.readTree(bytes, valueStart[k], valueEnd[k] - valueStart[k]);
    }

    /**
     * The tree of a field scoring reads ({@code tools}, {@code response_format},
     * {@code tool_choice}, {@code functions}, {@code function_call}); null when absent.
     */
    @Nullable
    JsonNode scoringTree(int f) {
        return trees[f];
    }

    @Nullable
    String model() {
        return model;
    }

    @Nullable
    String user() {
        return user;
    }

    int messages() {
        return messages;
    }

    int firstBadMessage() {
        return firstBadMessage;
    }

    /** {@code max_tokens} or {@code max_completion_tokens} when an int that fits a long, else {@link #NOT_A_LONG}. */
    long maxTokens(int f) {
        return maxTokens[f - MAX_TOKENS];
    }

    @Nullable
    JsonToken includeUsage() {
        return includeUsage;
    }

    /**
     * The edits that make this body the upstream's: every {@code model} value renamed, the
     * gateway's own fields ({@code models}, {@code provider}) removed with the comma that joined
     * them, and on a stream {@code stream_options.include_usage} made {@code true}, added after the
     * last {@code model} when there are no stream options at all.
     */
    BodyPatch patch(boolean stream) {
        BodyPatch.Builder b = new BodyPatch.Builder(bytes);
        for (int k = 0; k < members; k++) {
            if (field[k] == MODEL) {
                boolean insert = stream && !has(STREAM_OPTIONS) && k == last[MODEL];
                b.model(valueStart[k], valueEnd[k], insert ? STREAM_OPTIONS_MEMBER : null);
            }
        }
        if (stream) {
            b.addAll(usage);
        }
        // runs of removed members: with the separator before them, or after them when first
        for (int k = 0; k < members; k++) {
            if (!removed(k)) {
                continue;
            }
            int j = k;
            while (j + 1 < members && removed(j + 1)) {
                j++;
            }
            if (k > 0) {
                b.replace(valueEnd[k - 1], valueEnd[j], BodyPatch.NOTHING);
            } else {
                // the model is never removed, so a kept member follows
                b.replace(nameStart[0], nameStart[j + 1], BodyPatch.NOTHING);
            }
            k = j;
        }
        return b.build();
    }

    private boolean removed(int k) {
        return field[k] == MODELS || field[k] == PROVIDER;
    }

    /** Where {@code f}'s last value starts and ends, as {@code {start, end}}; only for a field that is present. */
    int[] span(int f) {
        int k = last[f];
        return new int[] {valueStart[k], valueEnd[k]};
    }
}
