package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Whether a provider's 2xx answer is what it claims to be, before the gateway relays it (docs/architecture.md §7):
 * a stream must come as {@code text/event-stream}; a whole answer as {@code application/json} whose
 * body is one JSON object with the array of its kind at the top level ({@code choices} for chat
 * completions, {@code data} for embeddings). An answer that is not is a failed attempt, like a 5xx.
 *
 * <p>Each check returns null when the answer passes, else a short reason for the failover list and
 * the {@code upstream_invalid_response} error ({@code "not JSON (content-type text/html)"}). A
 * reason never quotes the upstream's body: an HTML error page or a half answer is no message for
 * the client.
 *
 * <p><b>Cost.</b> The body is tokenised once with Jackson's streaming parser, straight from the
 * buffer: no copy of the body, no tree; string values are skipped, not decoded. The same pass reads
 * the top-level {@code usage} object ({@link #check}), so the answer is read once.
 *
 * <p><b>Reference counting.</b> Reads only; never changes a buffer's indexes or reference count.
 */
final class AnswerCheck {
    private AnswerCheck() {}

    /** The answer's kind: which top-level array makes it one. */
    enum Kind {
        CHAT("choices", "a chat completion"),
        EMBEDDINGS("data", "an embeddings answer");

        private final String array;
        private final String what;

        Kind(String array, String what) {
            this.array = array;
            this.what = what;
        }
    }

    /**
     * Checks a 2xx response head.
     *
     * @param stream      whether the client asked for a stream (which must come as {@code text/event-stream})
     * @param contentType the {@code Content-Type} header, or null
     * @return null when the content type fits, else the reason
     */
    static @Nullable String head(boolean stream, String contentType) {
        String type = mediaType(contentType);
        if (stream) {
            return type.equals("text/event-stream") ? null : "not an event stream (" + describe(type) + ")";
        }
        return type.equals("application/json") ? null : "not JSON (" + describe(type) + ")";
    }

    /**
     * What {@link #check} found in a whole 2xx body.
     *
     * @param wrong null when the body is such an answer, else the reason
     * @param usage the top-level {@code usage} object when the body is such an answer and has one
     */
    record Checked(@Nullable String wrong, @Nullable Usage usage) {}

    /**
     * Checks a whole 2xx body: one JSON object holding {@code kind}'s array at its top level, and
     * nothing after it but whitespace.
     *
     * @return null when the body is such an answer, else the reason
     */
    static @Nullable String body(ByteBuf body, Kind kind, JsonFactory json) {
        return check(body, kind, json).wrong();
    }

    /**
     * {@link #body}'s check, reading the answer's top-level {@code usage} in the same pass (the
     * figures {@link UsageParser#fromAnswer} reads; a repeated key: the last one counts).
     */
    static Checked check(ByteBuf body, Kind kind, JsonFactory json) {
        int size = body.readableBytes();
        if (size == 0) {
            return new Checked("empty (no body)", null);
        }
        // a duplicate: the parser moves its reader index, not the answer's
        try (JsonParser p = json.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return new Checked("empty (only whitespace)", null);
            }
            if (first != JsonToken.START_OBJECT) {
                return new Checked("not " + kind.what + " (a JSON " + valueName(first) + ", not an object)", null);
            }
            boolean found = false;
            Usage usage = null;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                // nextToken() throws at the end of input inside the object, so t is a field name here
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (kind.array.equals(name)) {
                    // a repeated key: the last one counts, as it does for the clients' JSON readers
                    found = value == JsonToken.START_ARRAY;
                    p.skipChildren();
                } else if ("usage".equals(name)) {
                    usage = value == JsonToken.START_OBJECT ? UsageParser.read(p) : null;
                } else {
                    p.skipChildren();
                }
            }
            if (p.nextToken() != null) {
                return new Checked("not JSON (data after the object, at byte " + offset(p) + " of " + size + ")", null);
            }
            return found
                    ? new Checked(null, usage)
                    : new Checked("not " + kind.what + " (no \"" + kind.array + "\" array)", null);
        } catch (JsonEOFException e) {
            return new Checked("not JSON (cut off: the body ends after " + size + " bytes, inside the object)", null);
        } catch (IOException | RuntimeException e) {
            // the parser's own message may quote the body: only the position is kept
            return new Checked("not JSON (invalid at byte " + errorOffset(e) + " of " + size + ")", null);
        }
    }

    /** The media type of a {@code Content-Type} value in lower case, without parameters; "" for none. */
    static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                .trim()
                .toLowerCase(Locale.ROOT);
    }

    private static String describe(String mediaType) {
        if (mediaType.isEmpty()) {
            return "no content-type";
        }
        // a header is the upstream's text too: keep it short and printable
        String shown = mediaType.length() > 64 ? mediaType.substring(0, 64) + "..." : mediaType;
        return "content-type " + shown.replaceAll("[^\\x21-\\x7e]", "?");
    }

    private static String valueName(JsonToken t) {
        return switch (t) {
            case START_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "boolean";
            case VALUE_NULL -> "null";
            default -> "value";
        };
    }

    private static long offset(JsonParser p) {
        return Math.max(0, p.currentTokenLocation().getByteOffset());
    }

    private static long errorOffset(Exception e) {
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null) {
            return Math.max(0, j.getLocation().getByteOffset());
        }
        return 0;
    }
}
