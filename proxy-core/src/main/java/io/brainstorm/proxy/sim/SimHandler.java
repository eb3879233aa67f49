package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.SimProfile;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The sim's request handler, last in the pipeline after {@code HttpServerCodec},
 * {@code HttpServerKeepAliveHandler} and {@code HttpObjectAggregator}: checks the key, routes
 * {@code /<endpointId>/v1/...}, applies faults and the test hook, and answers or hands a stream
 * to {@link SimStream}.
 *
 * <p><b>Reference counting.</b> {@link SimpleChannelInboundHandler} releases each request after
 * {@link #channelRead0}, which copies the body to a {@code String} first; nothing retains it.
 * Responses are new buffers handed to {@code writeAndFlush}.
 *
 * <p><b>Threading.</b> Sharable: it keeps no state of its own, only the server's thread-safe
 * counters. Delayed answers are tasks on the channel's event loop.
 */
@Sharable
final class SimHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final System.Logger LOG = System.getLogger(SimHandler.class.getName());

    private final SimServer server;
    private final ObjectMapper json;
    private final SimReplies replies;

    SimHandler(SimServer server) {
        this.server = server;
        this.json = server.json();
        this.replies = new SimReplies(server);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        server.connectionOpened();
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        server.connectionClosed();
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String body = request.content().toString(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        request.headers()
                .forEach(h -> headers.merge(h.getKey().toLowerCase(Locale.ROOT), h.getValue(), (a, b) -> a + ", " + b));
        server.record(new SimServer.RecordedRequest(request.method().name(), request.uri(), headers, body));
        try {
            handle(ctx, request, body);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sim: failed on " + request.method() + " " + request.uri(), e);
            replies.error(
                    ctx,
                    HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    "api_error",
                    "internal_error",
                    null,
                    "sim: internal error (" + e.getClass().getSimpleName() + ")");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "sim: connection error, closing", cause);
        ctx.close();
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request, String body) {
        if (request.decoderResult().isFailure()) {
            replies.error(
                    ctx,
                    HttpResponseStatus.BAD_REQUEST,
                    "invalid_request_error",
                    "invalid_request",
                    null,
                    "sim: malformed HTTP request");
            return;
        }
        String keyProblem = keyProblem(request.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (keyProblem != null) {
            replies.error(
                    ctx, HttpResponseStatus.UNAUTHORIZED, "invalid_request_error", "invalid_api_key", null, keyProblem);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        String[] parts = path.split("/", 4); // "", endpoint, "v1", route
        SimServer.Endpoint endpoint = parts.length == 4 && parts[2].equals("v1") ? server.endpoint(parts[1]) : null;
        if (endpoint == null) {
            replies.error(
                    ctx,
                    HttpResponseStatus.NOT_FOUND,
                    "invalid_request_error",
                    "unknown_url",
                    null,
                    "sim: no such path " + path + " (expected: /<endpoint>/v1/..., endpoints: " + server.endpointIds()
                            + ")");
            return;
        }
        String route = parts[3];
        HttpMethod expected = switch (route) {
            case "chat/completions", "embeddings" -> HttpMethod.POST;
            case "models" -> HttpMethod.GET;
            default -> null;
        };
        if (expected == null) {
            replies.error(
                    ctx,
                    HttpResponseStatus.NOT_FOUND,
                    "invalid_request_error",
                    "unknown_url",
                    null,
                    "sim: no such path " + path + " (expected: chat/completions, embeddings or models under /"
                            + endpoint.id + "/v1)");
        } else if (!expected.equals(request.method())) {
            replies.error(
                    ctx,
                    HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "invalid_request_error",
                    "method_not_allowed",
                    null,
                    "sim: " + request.method() + " " + path + " (expected: " + expected + ")");
        } else if (route.equals("models")) {
            models(ctx, endpoint);
        } else {
            JsonNode parsed = parse(ctx, body);
            if (parsed == null) {
                return;
            }
            SimServer.Served served = model(ctx, endpoint, parsed);
            if (served == null) {
                return;
            }
            if (route.equals("chat/completions")) {
                chat(ctx, endpoint, served, parsed);
            } else {
                embeddings(ctx, endpoint, served, parsed);
            }
        }
    }

    /** Null when the key is the sim's; else why not. */
    private static @Nullable String keyProblem(@Nullable String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return "sim: missing API key (expected: Authorization: Bearer <the sim provider key>)";
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return "sim: malformed Authorization header (expected: Bearer <key>)";
        }
        String key = authorization.substring(7).trim();
        if (key.startsWith("br_live_")) {
            return "sim: received a gateway br_live_ key; the gateway must send the provider key";
        }
        return key.equals(SimServer.API_KEY)
                ? null
                : "sim: incorrect API key provided (expected: the sim provider key)";
    }

    private @Nullable JsonNode parse(ChannelHandlerContext ctx, String body) {
        try {
            JsonNode node = json.readTree(body);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JsonProcessingException e) {
            replies.error(
                    ctx,
                    HttpResponseStatus.BAD_REQUEST,
                    "invalid_request_error",
                    "invalid_request",
                    null,
                    "sim: the body is not valid JSON (" + e.getOriginalMessage() + ")");
            return null;
        }
        replies.error(
                ctx,
                HttpResponseStatus.BAD_REQUEST,
                "invalid_request_error",
                "invalid_request",
                null,
                "sim: the body must be a JSON object");
        return null;
    }

    private SimServer.@Nullable Served model(ChannelHandlerContext ctx, SimServer.Endpoint endpoint, JsonNode body) {
        JsonNode model = body.get("model");
        if (model == null || !model.isTextual()) {
            replies.error(
                    ctx,
                    HttpResponseStatus.BAD_REQUEST,
                    "invalid_request_error",
                    "invalid_request",
                    "model",
                    "sim: model: " + model + " (expected: a string)");
            return null;
        }
        SimServer.Served served = endpoint.models.get(model.asText());
        if (served == null) {
            String name = model.asText();
            String hint = name.startsWith("sim/")
                    ? "; the gateway must send the upstream name without the provider prefix"
                    : "";
            replies.error(
                    ctx,
                    HttpResponseStatus.NOT_FOUND,
                    "invalid_request_error",
                    "model_not_found",
                    "model",
                    "sim: the model '" + name + "' does not exist at endpoint " + endpoint.id + " (it serves: "
                            + endpoint.models.keySet() + ")" + hint);
        }
        return served;
    }

    private void models(ChannelHandlerContext ctx, SimServer.Endpoint endpoint) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (SimServer.Served served : endpoint.models.values()) {
            data.addObject()
                    .put("id", served.upstreamName())
                    .put("object", "model")
                    .put("created", served.model().created())
                    .put("owned_by", "sim");
        }
        replies.respond(ctx, HttpResponseStatus.OK, root, null);
    }

    private void chat(ChannelHandlerContext ctx, SimServer.Endpoint endpoint, SimServer.Served served, JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            replies.badField(
                    ctx, "messages", "sim: messages: " + abbreviate(messages) + " (expected: a non-empty array)");
            return;
        }
        if (body.path("tools").isArray()
                && !body.get("tools").isEmpty()
                && !served.model().supports(Capability.TOOLS)) {
            replies.badField(ctx, "tools", "sim: model " + served.upstreamName() + " does not support tools");
            return;
        }
        String format = body.path("response_format").path("type").asText("text");
        if (!format.equals("text") && !served.model().supports(Capability.JSON)) {
            replies.badField(
                    ctx,
                    "response_format",
                    "sim: model " + served.upstreamName() + " does not support response_format " + format);
            return;
        }
        long maxTokens = -1;
        for (String field : new String[] {"max_completion_tokens", "max_tokens"}) {
            JsonNode value = body.get(field);
            if (value != null && !value.isNull()) {
                if (!value.canConvertToLong() || !value.isIntegralNumber() || value.asLong() < 1) {
                    replies.badField(ctx, field, "sim: " + field + ": " + value + " (expected: an integer >= 1)");
                    return;
                }
                maxTokens = maxTokens < 0 ? value.asLong() : Math.min(maxTokens, value.asLong());
            }
        }
        SimScript script = script(ctx, body);
        if (script == null) {
            return;
        }
        SplittableRandom rng = server.nextRandom(endpoint);
        SimProfile profile = served.profile();
        if (failed(ctx, script, rng, profile)) {
            return;
        }
        Double scripted = script.quality().get(endpoint.id);
        SimAnswers.Answer answer = SimAnswers.chat(
                body,
                served.model().id(),
                endpoint.id,
                rng,
                server.options().randomFaults() || scripted != null,
                scripted != null ? scripted : profile.quality(),
                script.chunks(),
                maxTokens,
                json);
        SimChat chat = new SimChat(
                json,
                "chatcmpl-sim" + SimAnswers.hex(rng.nextLong()),
                System.currentTimeMillis() / 1000,
                served.upstreamName(),
                endpoint.id,
                answer,
                promptTokens(messages));
        boolean zero = server.options().zeroDelay();

        if (body.path("stream").asBoolean(false)) {
            boolean usageFields =
                    body.path("stream_options").path("include_usage").asBoolean(false);
            long first = script.intervalMs() >= 0 ? script.intervalMs() : zero ? 0 : profile.ttftMs();
            long interval = script.intervalMs() >= 0 ? script.intervalMs() : zero ? 0 : profile.tokenIntervalMs();
            List<SimStream.Event> events = chat.events(first, interval, usageFields, usageFields && !script.noUsage());
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
            HttpUtil.setTransferEncodingChunked(head, true);
            ctx.writeAndFlush(head);
            new SimStream(ctx.channel(), events, script.resetAfter(), server::served).start();
            return;
        }
        ObjectNode completion = chat.completion(!script.noUsage());
        later(ctx, zero ? 0 : profile.latencyMs(), () -> {
            if (script.resetAfter() >= 0) {
                replies.reset(ctx.channel());
            } else {
                replies.respond(ctx, HttpResponseStatus.OK, completion, null);
            }
        });
    }

    private void embeddings(
            ChannelHandlerContext ctx, SimServer.Endpoint endpoint, SimServer.Served served, JsonNode body) {
        if (!served.model().supports(Capability.EMBEDDINGS)) {
            replies.badField(ctx, "model", "sim: model " + served.upstreamName() + " does not support embeddings");
            return;
        }
        List<String> texts = new ArrayList<>();
        List<Long> tokens = new ArrayList<>();
        if (!SimEmbeddings.inputs(body.get("input"), texts, tokens)) {
            replies.badField(
                    ctx,
                    "input",
                    "sim: input: " + abbreviate(body.get("input"))
                            + " (expected: a string, an array of strings, or token arrays; not empty)");
            return;
        }
        String encoding = body.path("encoding_format").asText("float");
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            replies.badField(
                    ctx, "encoding_format", "sim: encoding_format: " + encoding + " (expected: float or base64)");
            return;
        }
        int dimensions = body.path("dimensions").asInt(SimEmbeddings.DEFAULT_DIMENSIONS);
        if (dimensions < 1 || dimensions > SimEmbeddings.MAX_DIMENSIONS) {
            replies.badField(
                    ctx,
                    "dimensions",
                    "sim: dimensions: " + dimensions + " (expected: 1.." + SimEmbeddings.MAX_DIMENSIONS + ")");
            return;
        }
        SimScript script = script(ctx, body);
        if (script == null) {
            return;
        }
        SplittableRandom rng = server.nextRandom(endpoint);
        if (failed(ctx, script, rng, served.profile())) {
            return;
        }
        ObjectNode root = SimEmbeddings.list(
                json, texts, tokens, dimensions, encoding.equals("base64"), served.upstreamName(), !script.noUsage());
        later(ctx, server.options().zeroDelay() ? 0 : served.profile().latencyMs(), () -> {
            if (script.resetAfter() >= 0) {
                replies.reset(ctx.channel());
            } else {
                replies.respond(ctx, HttpResponseStatus.OK, root, null);
            }
        });
    }

    /** About four characters a token, plus four per message for the chat framing. */
    private static long promptTokens(JsonNode messages) {
        long chars = 0;
        for (JsonNode message : messages) {
            JsonNode content = message.path("content");
            if (content.isTextual()) {
                chars += content.asText().length();
            } else if (content.isArray()) {
                for (JsonNode part : content) {
                    chars += part.path("text").asText("").length();
                }
            }
        }
        return (chars + 3) / 4 + 4L * messages.size();
    }

    private @Nullable SimScript script(ChannelHandlerContext ctx, JsonNode body) {
        try {
            return SimScript.of(body);
        } catch (IllegalArgumentException e) {
            replies.badField(ctx, "sim", e.getMessage());
            return null;
        }
    }

    /**
     * Applies the scripted or random failure, if any. Draws from {@code rng} every time so that the
     * rest of the answer does not depend on whether faults are on. True when the request is done.
     */
    private boolean failed(ChannelHandlerContext ctx, SimScript script, SplittableRandom rng, SimProfile profile) {
        double roll = rng.nextDouble();
        boolean rateLimit = rng.nextBoolean();
        int status = script.fail();
        long retryAfter = script.retryAfter();
        String message = "sim: scripted failure";
        if (status == 0 && server.options().randomFaults() && roll < profile.failureRate()) {
            status = rateLimit ? 429 : 500;
            retryAfter = 1;
            message = rateLimit ? "sim: simulated rate limit" : "sim: simulated upstream failure";
        }
        if (status != 0) {
            HttpResponseStatus code = HttpResponseStatus.valueOf(status);
            if (status == 429) {
                replies.respond(
                        ctx,
                        code,
                        replies.errorBody("rate_limit_error", "rate_limit_exceeded", null, message),
                        Map.of(HttpHeaderNames.RETRY_AFTER.toString(), Long.toString(retryAfter)));
            } else if (status >= 500) {
                replies.error(ctx, code, "api_error", "upstream_error", null, message);
            } else {
                replies.error(ctx, code, "invalid_request_error", "invalid_request", null, message);
            }
            return true;
        }
        if (script.hang()) {
            return true; // accepted, never answered, not counted as served
        }
        return false;
    }

    private static void later(ChannelHandlerContext ctx, long delayMs, Runnable task) {
        if (delayMs > 0) {
            ctx.executor().schedule(task, delayMs, TimeUnit.MILLISECONDS);
        } else {
            task.run();
        }
    }

    private static String abbreviate(@Nullable JsonNode node) {
        String text = String.valueOf(node);
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
