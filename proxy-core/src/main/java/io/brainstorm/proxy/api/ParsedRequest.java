package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.ProviderPreferences;
import io.brainstorm.proxy.route.RequestFeatures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A client's request body, read once in one streaming pass and validated (docs/architecture.md §2,
 * step 4): what routing needs ({@link #features()}), and the body to send upstream
 * ({@link #upstreamBody}): the client's own bytes with the model renamed, the gateway's own fields
 * ({@code models}, {@code provider}) removed and, for streams, usage asked for. Every other field
 * passes through byte for byte (tools, {@code response_format}, unknown fields, whitespace, number
 * forms); only the few fields the gateway reads are looked at, and only what scoring reads is built
 * into a tree ({@link #scoringFields()}).
 *
 * <p>A field given twice counts by its last occurrence, as in a JSON tree; every {@code model} is
 * renamed and every gateway field removed, so the upstream sees the model the gateway routed on.
 * A body that is not UTF-8 (UTF-16 or UTF-32, which JSON allows to be detected) is read as a tree
 * and written back as UTF-8 first, as the gateway always did.
 *
 * <p><b>Ownership:</b> {@link #parse} copies the body's bytes and never releases or moves the
 * caller's buffer, so a request refused after parsing holds no buffer; each
 * {@link #upstreamBody} is a new buffer the caller owns.
 *
 * <p><b>Threading:</b> made and used on the request's event loop; {@link #prompt()} is worked
 * out there on first use.
 *
 * <p><b>Errors:</b> {@link #parse} throws only {@link ApiError} (a 400 naming the field), for
 * any bytes.
 */
public final class ParsedRequest {
    /** A client's body is one JSON value: anything after it ({@code {...}}} or a second object) is bad JSON. */
    private static final com.fasterxml.jackson.databind.ObjectReader BODY_READER =
            Json.MAPPER.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The fields scoring reads (docs/architecture.md §8), built into {@link #scoringFields()} when present. */
    private static final int[] SCORING_FIELDS = {
        BodyScan.RESPONSE_FORMAT, BodyScan.TOOLS, BodyScan.FUNCTIONS, BodyScan.TOOL_CHOICE, BodyScan.FUNCTION_CALL
    };

    public enum Kind {
        CHAT,
        EMBEDDINGS
    }

    /** Most fallback models a request may list (OpenRouter's {@code models}). */
    static final int MAX_FALLBACK_MODELS = 10;

    private final Kind kind;
    private final String model;
    private final boolean stream;
    private final boolean clientWantsUsage;
    private final RequestFeatures features;
    private final @Nullable String format;
    private final ObjectNode scoringFields;
    private final BodyPatch patch;
    /** The client's bytes, and where its {@code messages} or {@code input} are in them ({@code start < 0}: absent). */
    private final byte[] bytes;

    private final int promptStart;
    private final int promptEnd;
    private @Nullable String prompt;
    private boolean promptRead;
    private @Nullable JsonNode tree;

    private ParsedRequest(
            Kind kind,
            BodyScan scan,
            String model,
            boolean stream,
            boolean clientWantsUsage,
            RequestFeatures features,
            @Nullable String format,
            ObjectNode scoringFields) {
        this.kind = kind;
        this.model = model;
        this.stream = stream;
        this.clientWantsUsage = clientWantsUsage;
        this.features = features;
        this.format = format;
        this.scoringFields = scoringFields;
        this.patch = scan.patch(stream);
        this.bytes = scan.bytes;
        int promptField = kind == Kind.CHAT ? BodyScan.MESSAGES : BodyScan.INPUT;
        int[] span = scan.has(promptField) ? scan.span(promptField) : new int[] {-1, -1};
        this.promptStart = span[0];
        this.promptEnd = span[1];
    }

    /**
     * Parses a request body; does not release {@code content} or move its indexes.
     *
     * @throws ApiError 400 naming the field that is missing or of the wrong type
     */
    public static ParsedRequest parse(Kind kind, ByteBuf content) {
        int size = content.readableBytes();
        if (size == 0) {
            throw ApiError.invalidRequest(null, "The request body is empty; expected a JSON object.");
        }
        byte[] bytes = ByteBufUtil.getBytes(content);
        try {
            BodyScan scan = scan(bytes);
            return validate(kind, scan, estimateTokens(bytes));
        } catch (JsonProcessingException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON: " + e.getOriginalMessage());
        } catch (NumberFormatException e) {
            // a number Jackson cannot hold, e.g. an exponent beyond BigDecimal's range (found by fuzzing)
            throw ApiError.invalidRequest(null, "The request body has a number out of range: " + e.getMessage());
        } catch (IOException e) {
            throw ApiError.invalidRequest(null, "The request body could not be read: " + e.getMessage());
        } catch (BodyScan.NotAnObject e) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
    }

    /** The streaming pass; a body in UTF-16 or UTF-32 is made UTF-8 first, since patches are UTF-8 bytes. */
    private static BodyScan scan(byte[] bytes) throws IOException, BodyScan.NotAnObject {
        BodyScan scan = new BodyScan(utf8(bytes));
        scan.run();
        return scan;
    }

    private static byte[] utf8(byte[] bytes) throws IOException {
        if (!utf16or32(bytes)) {
            return bytes;
        }
        JsonNode root = BODY_READER.readTree(bytes);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        try (JsonGenerator g = new PassThroughGenerator(Json.MAPPER.getFactory().createGenerator(out))) {
            Json.MAPPER.writeTree(g, root);
        }
        return out.toByteArray();
    }

    /**
     * A byte-order mark of UTF-16 or UTF-32, or a zero byte among the first two (JSON text starts
     * with ASCII, so UTF-16 and UTF-32 put a zero there), as Jackson's own detection decides; a
     * zero byte is never valid in UTF-8 JSON, so the tree reader refuses such a body either way.
     */
    private static boolean utf16or32(byte[] b) {
        return b.length >= 2
                && (b[0] == 0
                        || b[1] == 0
                        || (b[0] == (byte) 0xFE && b[1] == (byte) 0xFF)
                        || (b[0] == (byte) 0xFF && b[1] == (byte) 0xFE));
    }

    /** The checks, in a fixed order whatever the order of the fields, so one body always gets one answer. */
    private static ParsedRequest validate(Kind kind, BodyScan scan, long estimatedInput) throws IOException {
        if (scan.absent(BodyScan.MODEL)) {
            throw ApiError.invalidRequest("model", "Missing required parameter: 'model'.");
        }
        String model = scan.model();
        if (model == null || model.isBlank()) {
            throw ApiError.invalidRequest("model", "Invalid type for 'model': expected a non-empty string.");
        }
        long maxTokens = -1;
        boolean stream = false;
        boolean wantsUsage = false;
        boolean tools = false;
        boolean json = false;
        String format = null;
        if (kind == Kind.CHAT) {
            if (scan.absent(BodyScan.MESSAGES)) {
                throw ApiError.invalidRequest("messages", "Missing required parameter: 'messages'.");
            }
            if (scan.token(BodyScan.MESSAGES) != JsonToken.START_ARRAY) {
                throw ApiError.invalidRequest("messages", "Invalid type for 'messages': expected an array.");
            }
            if (scan.messages() == 0) {
                throw ApiError.invalidRequest(
                        "messages", "Invalid 'messages': empty array. Expected at least one message.");
            }
            int i = scan.firstBadMessage();
            if (i >= 0) {
                throw ApiError.invalidRequest(
                        "messages[" + i + "]",
                        "Invalid 'messages[" + i + "]': expected an object with a string 'role'.");
            }
            stream = optionalBoolean(scan.token(BodyScan.STREAM), "stream");
            if (!scan.absent(BodyScan.STREAM_OPTIONS)) {
                if (scan.token(BodyScan.STREAM_OPTIONS) != JsonToken.START_OBJECT) {
                    throw ApiError.invalidRequest(
                            "stream_options", "Invalid type for 'stream_options': expected an object.");
                }
                wantsUsage = optionalBoolean(scan.includeUsage(), "include_usage");
            }
            long mt = optionalPositiveInt(scan, BodyScan.MAX_TOKENS);
            long mct = optionalPositiveInt(scan, BodyScan.MAX_COMPLETION_TOKENS);
            maxTokens = mct >= 0 ? mct : mt;
            JsonNode t = scan.scoringTree(BodyScan.TOOLS);
            if (t != null && !t.isNull()) {
                if (!t.isArray()) {
                    throw ApiError.invalidRequest("tools", "Invalid type for 'tools': expected an array.");
                }
                tools = !t.isEmpty();
            }
            String type = "";
            JsonNode rf = scan.scoringTree(BodyScan.RESPONSE_FORMAT);
            if (rf != null && !rf.isNull()) {
                if (!rf.isObject() || !rf.path("type").isTextual()) {
                    throw ApiError.invalidRequest(
                            "response_format", "Invalid 'response_format': expected an object with a string 'type'.");
                }
                type = rf.path("type").asText();
                json = type.equals("json_object") || type.equals("json_schema");
            }
            JsonNode choice = scan.scoringTree(BodyScan.TOOL_CHOICE);
            boolean noTools = choice != null && choice.asText("").equals("none");
            format = tools && !noTools ? "tools" : json ? type : "plain";
        } else {
            if (scan.absent(BodyScan.INPUT)) {
                throw ApiError.invalidRequest("input", "Missing required parameter: 'input'.");
            }
            JsonToken input = scan.token(BodyScan.INPUT);
            if (input != JsonToken.VALUE_STRING && input != JsonToken.START_ARRAY) {
                throw ApiError.invalidRequest("input", "Invalid type for 'input': expected a string or an array.");
            }
        }
        if (!scan.absent(BodyScan.USER) && scan.user() == null) {
            throw ApiError.invalidRequest("user", "Invalid type for 'user': expected a string.");
        }
        String user = scan.user();
        RequestFeatures features = new RequestFeatures(
                estimatedInput,
                maxTokens,
                tools,
                json,
                stream,
                kind == Kind.EMBEDDINGS,
                scan.absent(BodyScan.MODELS) ? List.of() : fallbackModels(scan.tree(BodyScan.MODELS)),
                scan.absent(BodyScan.PROVIDER)
                        ? ProviderPreferences.NONE
                        : providerPreferences(scan.tree(BodyScan.PROVIDER)),
                user == null ? "" : user);
        ObjectNode scoring = Json.MAPPER.createObjectNode();
        if (kind == Kind.CHAT) {
            for (int f : SCORING_FIELDS) {
                JsonNode tree = scan.scoringTree(f);
                if (tree != null) {
                    scoring.set(BodyScan.NAMES[f], tree);
                }
            }
        }
        return new ParsedRequest(kind, scan, model, stream, wantsUsage, features, format, scoring);
    }

    /**
     * A prompt-token estimate meant to err high, so that a budget reservation covers the prompt: a
     * token per 3 ASCII bytes of the whole body (English prose runs about 4 characters per token
     * and the JSON around it counts too) plus one per non-ASCII character (CJK text runs about one
     * token per character, where UTF-8 bytes ÷ 4 would count 0.75). One pass, no tokenizer: a
     * tokenizer for every model family would cost more per request than the rest of the gateway.
     */
    static long estimateTokens(ByteBuf body) {
        return estimateTokens(ByteBufUtil.getBytes(body));
    }

    /** {@link #estimateTokens(ByteBuf)} of UTF-8 bytes: the gateway's one prompt-token estimate. */
    public static long estimateTokens(byte[] body) {
        long ascii = 0;
        long other = 0; // non-ASCII characters: UTF-8 lead bytes
        for (byte b : body) {
            if (b >= 0) {
                ascii++;
            } else if ((b & 0xC0) == 0xC0) {
                other++;
            }
        }
        return (ascii + 2) / 3 + other;
    }

    /** OpenRouter's {@code models}: fallback models, in order. */
    private static List<String> fallbackModels(JsonNode models) {
        if (!models.isArray()) {
            throw ApiError.invalidRequest("models", "Invalid type for 'models': expected an array of model names.");
        }
        if (models.size() > MAX_FALLBACK_MODELS) {
            throw ApiError.invalidRequest(
                    "models",
                    "Invalid 'models': " + models.size() + " names (expected: at most " + MAX_FALLBACK_MODELS + ").");
        }
        List<String> out = new ArrayList<>(models.size());
        for (int i = 0; i < models.size(); i++) {
            JsonNode m = models.get(i);
            if (!m.isTextual() || m.textValue().isBlank()) {
                throw ApiError.invalidRequest(
                        "models[" + i + "]", "Invalid 'models[" + i + "]': expected a model name.");
            }
            out.add(m.textValue());
        }
        return out;
    }

    /**
     * OpenRouter's {@code provider}: {@code order}, {@code allow_fallbacks} and {@code sort} are
     * honoured; its other fields are accepted and have no effect here.
     */
    private static ProviderPreferences providerPreferences(JsonNode p) {
        if (!p.isObject()) {
            throw ApiError.invalidRequest("provider", "Invalid type for 'provider': expected an object.");
        }
        List<String> order = new ArrayList<>();
        JsonNode o = p.get("order");
        if (o != null && !o.isNull()) {
            if (!o.isArray()) {
                throw ApiError.invalidRequest(
                        "provider.order",
                        "Invalid type for 'provider.order': expected an array" + " of provider names.");
            }
            for (int i = 0; i < o.size(); i++) {
                if (!o.get(i).isTextual()) {
                    throw ApiError.invalidRequest(
                            "provider.order[" + i + "]",
                            "Invalid 'provider.order[" + i + "]': expected a provider name.");
                }
                order.add(o.get(i).textValue());
            }
        }
        boolean allowFallbacks = true;
        JsonNode af = p.get("allow_fallbacks");
        if (af != null && !af.isNull()) {
            if (!af.isBoolean()) {
                throw ApiError.invalidRequest(
                        "provider.allow_fallbacks",
                        "Invalid type for 'provider.allow_fallbacks':" + " expected a boolean.");
            }
            allowFallbacks = af.booleanValue();
        }
        String sort = null;
        JsonNode so = p.get("sort");
        if (so != null && !so.isNull()) {
            sort = so.isTextual() ? so.textValue() : "";
            if (!(sort.equals("price") || sort.equals("latency") || sort.equals("throughput"))) {
                throw ApiError.invalidRequest(
                        "provider.sort",
                        "Invalid 'provider.sort': " + so + " (expected: \"price\", \"latency\" or \"throughput\").");
            }
        }
        return new ProviderPreferences(order, allowFallbacks, sort);
    }

    /** A boolean from its token: absent and null are false. */
    private static boolean optionalBoolean(@Nullable JsonToken v, String field) {
        if (v == null || v == JsonToken.VALUE_NULL) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalidRequest(field, "Invalid type for '" + field + "': expected a boolean.");
        }
        return v == JsonToken.VALUE_TRUE;
    }

    /** An int of at least 1, or -1 when absent or null; anything but a plain int is judged as a tree (1.0 is 1). */
    private static long optionalPositiveInt(BodyScan scan, int f) throws IOException {
        if (scan.absent(f)) {
            return -1;
        }
        long fast = scan.maxTokens(f);
        if (fast >= 1) {
            return fast;
        }
        String field = BodyScan.NAMES[f];
        JsonNode v = scan.tree(f);
        if (!v.canConvertToExactIntegral() || !v.canConvertToLong() || v.asLong() < 1) {
            throw ApiError.invalidRequest(field, "Invalid '" + field + "': " + v + " (expected: an integer >= 1).");
        }
        return v.asLong();
    }

    public Kind kind() {
        return kind;
    }

    /** The model name as the client wrote it. */
    public String model() {
        return model;
    }

    public boolean stream() {
        return stream;
    }

    /** The client asked for a usage chunk ({@code stream_options.include_usage}). */
    public boolean clientWantsUsage() {
        return clientWantsUsage;
    }

    public RequestFeatures features() {
        return features;
    }

    /**
     * The answer format a chat request asks for: {@code tools} when it declares tools (and
     * {@code tool_choice} is not {@code none}), else {@code json_schema} or {@code json_object} from
     * {@code response_format}, else {@code plain}; null for embeddings.
     */
    public @Nullable String format() {
        return format;
    }

    /**
     * The fields of the body that scoring reads ({@code response_format}, {@code tools},
     * {@code functions}, {@code tool_choice}, {@code function_call}) as a tree, with the others
     * left out; empty for a plain request or embeddings. Never change it.
     */
    public ObjectNode scoringFields() {
        return scoringFields;
    }

    /**
     * The request's {@code messages} (chat) or {@code input} (embeddings) as compact JSON text, for
     * a completion record that keeps content; null when absent. Read from the body on first use.
     */
    public @Nullable String prompt() {
        if (!promptRead) {
            promptRead = true;
            if (promptStart >= 0) {
                try {
                    prompt = Json.MAPPER
                            .readTree(bytes, promptStart, promptEnd - promptStart)
                            .toString();
                } catch (IOException | NumberFormatException e) {
                    // a number the tree cannot hold in a part the gateway passed through unread
                    prompt = null;
                }
            }
        }
        return prompt;
    }

    /**
     * The whole body as a tree, read on first use: for an endpoint in another format, whose body is
     * a translation rather than the client's bytes. Never change it.
     *
     * @throws ApiError 400 when the body holds a number a tree cannot
     */
    public JsonNode tree() {
        JsonNode t = tree;
        if (t == null) {
            try {
                t = BODY_READER.readTree(bytes);
            } catch (IOException | NumberFormatException e) {
                throw ApiError.invalidRequest(null, "The request body could not be read: " + e.getMessage());
            }
            tree = t;
        }
        return t;
    }

    /** The upstream path below the endpoint's base path. */
    public String upstreamPath() {
        return kind == Kind.CHAT ? "/chat/completions" : "/embeddings";
    }

    /** The body for {@code endpoint}: a new buffer the caller owns. */
    public ByteBuf upstreamBody(ByteBufAllocator alloc, Endpoint endpoint) {
        // only the model differs between endpoints; the other edits were settled when parsing
        return patch.write(alloc, endpoint.upstreamModel());
    }
}
