package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.ProviderPreferences;
import io.brainstorm.proxy.route.RequestFeatures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A client's request body, parsed once and validated: what routing needs ({@link #features()}),
 * and the body to send upstream ({@link #upstreamBody}) with the model renamed, the gateway's own
 * fields ({@code models}, {@code provider}) removed and, for streams, usage asked for. Every other
 * field passes through untouched (tools, {@code response_format}, unknown fields).
 */
public final class ParsedRequest {
    /** A client's body is one JSON value: anything after it ({@code {...}}} or a second object) is bad JSON. */
    private static final com.fasterxml.jackson.databind.ObjectReader BODY_READER =
            Json.MAPPER.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public enum Kind {
        CHAT,
        EMBEDDINGS
    }

    /** Most fallback models a request may list (OpenRouter's {@code models}). */
    static final int MAX_FALLBACK_MODELS = 10;

    private final Kind kind;
    private final ObjectNode body;
    private final String model;
    private final boolean stream;
    private final boolean clientWantsUsage;
    private final RequestFeatures features;

    private ParsedRequest(
            Kind kind,
            ObjectNode body,
            String model,
            boolean stream,
            boolean clientWantsUsage,
            RequestFeatures features) {
        this.kind = kind;
        this.body = body;
        this.model = model;
        this.stream = stream;
        this.clientWantsUsage = clientWantsUsage;
        this.features = features;
        body.remove("models");
        body.remove("provider");
        if (stream) {
            JsonNode so = body.get("stream_options");
            ObjectNode options = so instanceof ObjectNode o ? o : body.putObject("stream_options");
            options.put("include_usage", true);
        }
    }

    /**
     * Parses a request body; does not release {@code content}.
     *
     * @throws ApiError 400 naming the field that is missing or of the wrong type
     */
    public static ParsedRequest parse(Kind kind, ByteBuf content) {
        int size = content.readableBytes();
        if (size == 0) {
            throw ApiError.invalidRequest(null, "The request body is empty; expected a JSON object.");
        }
        JsonNode root;
        try (InputStream in = new ByteBufInputStream(content.duplicate())) {
            root = BODY_READER.readTree(in);
        } catch (JsonProcessingException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON: " + e.getOriginalMessage());
        } catch (NumberFormatException e) {
            // a number Jackson cannot hold, e.g. an exponent beyond BigDecimal's range (found by fuzzing)
            throw ApiError.invalidRequest(null, "The request body has a number out of range: " + e.getMessage());
        } catch (IOException e) {
            throw ApiError.invalidRequest(null, "The request body could not be read: " + e.getMessage());
        }
        if (!(root instanceof ObjectNode body)) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object.");
        }
        JsonNode modelNode = body.get("model");
        if (modelNode == null || modelNode.isNull()) {
            throw ApiError.invalidRequest("model", "Missing required parameter: 'model'.");
        }
        if (!modelNode.isTextual() || modelNode.asText().isBlank()) {
            throw ApiError.invalidRequest("model", "Invalid type for 'model': expected a non-empty string.");
        }
        long maxTokens = -1;
        boolean stream = false;
        boolean wantsUsage = false;
        boolean tools = false;
        boolean json = false;
        if (kind == Kind.CHAT) {
            JsonNode messages = body.get("messages");
            if (messages == null || messages.isNull()) {
                throw ApiError.invalidRequest("messages", "Missing required parameter: 'messages'.");
            }
            if (!messages.isArray()) {
                throw ApiError.invalidRequest("messages", "Invalid type for 'messages': expected an array.");
            }
            if (messages.isEmpty()) {
                throw ApiError.invalidRequest(
                        "messages", "Invalid 'messages': empty array. Expected at least one message.");
            }
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                if (!m.isObject() || !m.path("role").isTextual()) {
                    throw ApiError.invalidRequest(
                            "messages[" + i + "]",
                            "Invalid 'messages[" + i + "]': expected an object with a string 'role'.");
                }
            }
            stream = optionalBoolean(body, "stream");
            JsonNode so = body.get("stream_options");
            if (so != null && !so.isNull()) {
                if (!so.isObject()) {
                    throw ApiError.invalidRequest(
                            "stream_options", "Invalid type for 'stream_options': expected an object.");
                }
                wantsUsage = optionalBoolean((ObjectNode) so, "include_usage");
            }
            long mt = optionalPositiveInt(body, "max_tokens");
            long mct = optionalPositiveInt(body, "max_completion_tokens");
            maxTokens = mct >= 0 ? mct : mt;
            JsonNode t = body.get("tools");
            if (t != null && !t.isNull()) {
                if (!t.isArray()) {
                    throw ApiError.invalidRequest("tools", "Invalid type for 'tools': expected an array.");
                }
                tools = !t.isEmpty();
            }
            JsonNode rf = body.get("response_format");
            if (rf != null && !rf.isNull()) {
                if (!rf.isObject() || !rf.path("type").isTextual()) {
                    throw ApiError.invalidRequest(
                            "response_format", "Invalid 'response_format': expected an object with a string 'type'.");
                }
                String type = rf.path("type").asText();
                json = type.equals("json_object") || type.equals("json_schema");
            }
        } else {
            JsonNode input = body.get("input");
            if (input == null || input.isNull()) {
                throw ApiError.invalidRequest("input", "Missing required parameter: 'input'.");
            }
            if (!input.isTextual() && !input.isArray()) {
                throw ApiError.invalidRequest("input", "Invalid type for 'input': expected a string or an array.");
            }
        }
        long estimatedInput = estimateTokens(content);
        JsonNode user = body.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) {
            throw ApiError.invalidRequest("user", "Invalid type for 'user': expected a string.");
        }
        RequestFeatures features = new RequestFeatures(
                estimatedInput,
                maxTokens,
                tools,
                json,
                stream,
                kind == Kind.EMBEDDINGS,
                fallbackModels(body),
                providerPreferences(body),
                user == null || user.isNull() ? "" : user.textValue());
        return new ParsedRequest(kind, body, modelNode.asText(), stream, wantsUsage, features);
    }

    /**
     * A prompt-token estimate meant to err high, so that a budget reservation covers the prompt: a
     * token per 3 ASCII bytes of the whole body (English prose runs about 4 characters per token
     * and the JSON around it counts too) plus one per non-ASCII character (CJK text runs about one
     * token per character, where UTF-8 bytes ÷ 4 would count 0.75). One pass, no tokenizer: a
     * tokenizer for every model family would cost more per request than the rest of the gateway.
     */
    static long estimateTokens(ByteBuf body) {
        long[] counts = new long[2]; // ASCII bytes, non-ASCII characters (UTF-8 lead bytes)
        body.forEachByte(b -> {
            if (b >= 0) {
                counts[0]++;
            } else if ((b & 0xC0) == 0xC0) {
                counts[1]++;
            }
            return true;
        });
        return (counts[0] + 2) / 3 + counts[1];
    }

    /** OpenRouter's {@code models}: fallback models, in order. */
    private static java.util.List<String> fallbackModels(ObjectNode body) {
        JsonNode models = body.get("models");
        if (models == null || models.isNull()) {
            return java.util.List.of();
        }
        if (!models.isArray()) {
            throw ApiError.invalidRequest("models", "Invalid type for 'models': expected an array of model names.");
        }
        if (models.size() > MAX_FALLBACK_MODELS) {
            throw ApiError.invalidRequest(
                    "models",
                    "Invalid 'models': " + models.size() + " names (expected: at most " + MAX_FALLBACK_MODELS + ").");
        }
        java.util.List<String> out = new java.util.ArrayList<>(models.size());
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
    private static ProviderPreferences providerPreferences(ObjectNode body) {
        JsonNode p = body.get("provider");
        if (p == null || p.isNull()) {
            return ProviderPreferences.NONE;
        }
        if (!p.isObject()) {
            throw ApiError.invalidRequest("provider", "Invalid type for 'provider': expected an object.");
        }
        java.util.List<String> order = new java.util.ArrayList<>();
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

    private static boolean optionalBoolean(ObjectNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.invalidRequest(field, "Invalid type for '" + field + "': expected a boolean.");
        }
        return v.booleanValue();
    }

    private static long optionalPositiveInt(ObjectNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return -1;
        }
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
     * The client's body as parsed, without the gateway's own fields. Read it only once the
     * exchange has ended (each attempt sets {@code model} in it); never change it.
     */
    public JsonNode body() {
        return body;
    }

    /** The upstream path below the endpoint's base path. */
    public String upstreamPath() {
        return kind == Kind.CHAT ? "/chat/completions" : "/embeddings";
    }

    /** The body for {@code endpoint}: a new buffer the caller owns. */
    public ByteBuf upstreamBody(ByteBufAllocator alloc, Endpoint endpoint) {
        // only the model differs between endpoints; the rest was prepared once in the constructor
        body.put("model", endpoint.upstreamModel());
        ByteBuf buf = alloc.buffer(256);
        try (ByteBufOutputStream os = new ByteBufOutputStream(buf);
                com.fasterxml.jackson.core.JsonGenerator g =
                        new PassThroughGenerator(Json.MAPPER.getFactory().createGenerator((java.io.OutputStream) os))) {
            Json.MAPPER.writeTree(g, body);
        } catch (IOException e) {
            buf.release();
            throw new IllegalStateException("serialising a parsed request failed", e);
        }
        return buf;
    }
}
