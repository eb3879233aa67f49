package io.brainstorm.proxy.e2e;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A fake Anthropic on a loopback port 0 that speaks the Messages API's wire format: {@code POST
 * /v1/messages}, streamed ({@code "stream": true}, Anthropic's named SSE events) or not, and {@code
 * POST /v1/messages/count_tokens}. The gateway's {@code anthropic} provider and the official
 * Anthropic SDK are its clients; {@code FakeAnthropicTest} holds it to what that SDK expects.
 *
 * <p><b>What it checks</b>, before answering, the way Anthropic does (error JSON {@code
 * {"type":"error","error":{"type","message"},"request_id"}} with a {@code request-id} header):
 *
 * <ul>
 *   <li>the key, in {@code x-api-key} or else {@code Authorization: Bearer} (else 401 {@code
 *       authentication_error}): anthropic-java 3.x sends its API key as a bearer token, the
 *       gateway sends {@code x-api-key}, and {@link #requests} shows which came;
 *   <li>{@code anthropic-version} {@value #VERSION} (the gateway's) or {@value #VERSION_2026}
 *       (anthropic-java 3.x's), else 400; under {@value #VERSION_2026} {@code temperature}, {@code
 *       top_p} and {@code top_k} are refused as unknown fields;
 *   <li>{@code content-type: application/json}, a JSON object body with no field the API does not
 *       know, {@code model}, and {@code max_tokens} (not for count_tokens);
 *   <li>{@code messages} non-empty, {@code user} first, roles alternating, no {@code role: system}
 *       ({@code system} is a top-level field), each {@code tool_result} first in its turn and
 *       answering a {@code tool_use} of the turn before, every {@code tool_use} answered in the
 *       next turn, no trailing whitespace on a final assistant turn;
 *   <li>{@code system}, {@code tools}, {@code tool_choice}, {@code thinking}, {@code temperature}
 *       well formed.
 * </ul>
 *
 * <p>A failed check is 400 {@code invalid_request_error} whose message starts with the field's
 * path. The alternation is stricter than today's API, which merges consecutive turns of one role
 * (and anthropic-java 3.x even has a {@code role: system} message type): the gateway's translation
 * promises alternating turns and a top-level {@code system}, and this is where that promise is
 * checked.
 *
 * <p><b>What it answers</b> is an {@link Answer}, chosen per request: the next one {@link #enqueue}d,
 * else the first {@link #when} whose marker the last user turn's text contains, else the {@link
 * #byDefault} one (a short text). One answer serves both modes: its stream of events is what a
 * streamed request gets, and the message those events add up to (as an SDK's accumulator builds
 * it) is what a request that was not streamed gets; an answer whose stream fails with an {@code
 * error} event is that error's HTTP status when not streamed. count_tokens answers {@code
 * {"input_tokens": n}} with n about a quarter of the characters of the system prompt, messages and
 * tools (an estimate, as the issue allows).
 *
 * <p><b>How it answers</b>, like a real server: a connection idle for {@link #idleCloseMillis}
 * after its last response is closed (5 s, Node's {@code keepAliveTimeout}; the gateway must not
 * reuse it); with {@link #splitEvery} each event (or JSON body) goes out in writes of that many
 * bytes, each flushed; with {@link #eventDelay} the events of a stream are that far apart.
 *
 * <p>Every request, refused or not, is recorded ({@link #requests}) with its headers (lower-case
 * names) and body, in arrival order.
 *
 * <p><b>Threading:</b> one event loop of its own serves every connection; the test thread scripts
 * and reads through thread-safe collections and volatile settings. Configure an {@link Answer}
 * before handing it over.
 */
final class FakeAnthropic implements AutoCloseable {
    /** The key it accepts unless constructed with another. */
    static final String API_KEY = "sk-ant-api03-fake-key";

    /** The version the gateway sends (translate.AnthropicRequest). */
    static final String VERSION = "2023-06-01";
    /**
     * The version anthropic-java 3.x sends: it removes {@code temperature}, {@code top_p} and
     * {@code top_k} (https://platform.claude.com/docs/en/api/versioning).
     */
    static final String VERSION_2026 = "2026-10-21";

    static final String MESSAGES = "/v1/messages";
    static final String COUNT_TOKENS = "/v1/messages/count_tokens";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Top-level fields of a Messages request (https://platform.claude.com/docs/en/api/messages). */
    private static final Set<String> MESSAGE_FIELDS = Set.of(
            "model",
            "messages",
            "max_tokens",
            "system",
            "metadata",
            "stop_sequences",
            "stream",
            "temperature",
            "top_p",
            "top_k",
            "tools",
            "tool_choice",
            "thinking",
            "service_tier",
            "container",
            "context_management",
            "mcp_servers",
            "output_config",
            "output_format",
            "inference_geo");
    /** Top-level fields of a count_tokens request. */
    private static final Set<String> COUNT_FIELDS = Set.of(
            "model",
            "messages",
            "system",
            "tools",
            "tool_choice",
            "thinking",
            "context_management",
            "mcp_servers",
            "output_config",
            "output_format");

    /** One server-sent event: its {@code event:} name and its {@code data:} JSON text. */
    record Event(String name, String data) {
        String sse() {
            return "event: " + name + "\ndata: " + data + "\n\n";
        }

        JsonNode json() {
            return parse(data);
        }
    }

    /** A request as it arrived: method, path, headers by lower-case name, body text. */
    record Recorded(String method, String path, Map<String, String> headers, String body) {
        @Nullable
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The body as JSON, or a missing node if it is not JSON. */
        JsonNode json() {
            return parse(body);
        }

        /** The text of the last {@code user} turn (its text blocks joined), or "". */
        String lastUserText() {
            return FakeAnthropic.lastUserText(json());
        }
    }

    /**
     * One content block of a scripted message, with the pieces its deltas carry: text, thinking
     * (closed by a {@code signature_delta}), or a tool call whose {@code input_json_delta}
     * fragments, joined, are its input.
     */
    record Block(
            String type,
            List<String> pieces,
            @Nullable String id,
            @Nullable String name,
            @Nullable String signature) {
        static Block text(String... pieces) {
            return new Block("text", List.of(pieces), null, null, null);
        }

        static Block thinking(String signature, String... pieces) {
            return new Block("thinking", List.of(pieces), null, null, signature);
        }

        /** {@code fragments} may cut the JSON anywhere, inside keys and strings. */
        static Block toolUse(String id, String name, String... fragments) {
            return new Block("tool_use", List.of(fragments), id, name, null);
        }
    }

    /**
     * What the fake answers one request with: a message made of {@link Block}s, a stream written
     * out as text ({@link #sse}, e.g. {@link AnthropicDocStreams}), or an HTTP error. Built by the
     * static factories and adjusted by the fluent methods before it is handed to the fake.
     */
    static final class Answer {
        private final int status;
        private final @Nullable String errorType;
        private final @Nullable String errorMessage;
        private final List<Block> blocks;
        private final @Nullable List<Event> verbatim;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private @Nullable String stopReason;
        private long inputTokens = 25;
        private long outputTokens = -1;
        private long cacheWrite5m;
        private long cacheWrite1h;
        private long cacheRead;
        private boolean pings;
        private boolean outputOnlyDeltaUsage;
        private int failAfter = -1;
        private String failType = "overloaded_error";
        private String failMessage = "Overloaded";

        private Answer(
                int status,
                @Nullable String errorType,
                @Nullable String errorMessage,
                List<Block> blocks,
                @Nullable List<Event> verbatim) {
            this.status = status;
            this.errorType = errorType;
            this.errorMessage = errorMessage;
            this.blocks = blocks;
            this.verbatim = verbatim;
        }

        /** A text message whose stream carries {@code deltas} one {@code text_delta} each. */
        static Answer text(String... deltas) {
            return message(Block.text(deltas));
        }

        /** One tool call, its input streamed as {@code fragments}; {@code stop_reason: tool_use}. */
        static Answer toolUse(String id, String name, String... fragments) {
            return message(Block.toolUse(id, name, fragments));
        }

        /** A message of these blocks, in this order. */
        static Answer message(Block... blocks) {
            return new Answer(200, null, null, List.of(blocks), null);
        }

        /**
         * A stream served as written (only {@code message_start}'s id and model are replaced), and
         * when not streamed the message it adds up to.
         */
        static Answer sse(String text) {
            return new Answer(200, null, null, List.of(), parseSse(text));
        }

        /** HTTP {@code status} with Anthropic's error body of {@code type} and {@code message}. */
        static Answer error(int status, String type, String message) {
            return new Answer(status, type, message, List.of(), null);
        }

        /** 529 {@code overloaded_error}, as Anthropic answers when it has no capacity. */
        static Answer overloaded() {
            return error(529, "overloaded_error", "Overloaded");
        }

        /** 429 {@code rate_limit_error} with {@code retry-after: seconds}. */
        static Answer rateLimited(String retryAfterSeconds) {
            return error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
                    .header("retry-after", retryAfterSeconds)
                    .header("anthropic-ratelimit-requests-remaining", "0");
        }

        /** 400 {@code invalid_request_error} with {@code message}. */
        static Answer invalidRequest(String message) {
            return error(400, "invalid_request_error", message);
        }

        /** Default: {@code tool_use} when a block is a tool call, else {@code end_turn}. */
        Answer stopReason(String reason) {
            stopReason = reason;
            return this;
        }

        /** Default: 25 input tokens, and as many output tokens as the blocks have pieces. */
        Answer usage(long input, long output) {
            inputTokens = input;
            outputTokens = output;
            return this;
        }

        /** Prompt-cache counts: written with a 5-minute and a 1-hour lifetime, and read. */
        Answer cache(long written5m, long written1h, long read) {
            cacheWrite5m = written5m;
            cacheWrite1h = written1h;
            cacheRead = read;
            return this;
        }

        /** A {@code ping} after every event from the first block's start on, not only the first. */
        Answer pings() {
            pings = true;
            return this;
        }

        /**
         * {@code message_delta} usage with {@code output_tokens} only, as older streams had it,
         * instead of the cumulative input, cache and output counts.
         */
        Answer outputOnlyDeltaUsage() {
            outputOnlyDeltaUsage = true;
            return this;
        }

        /**
         * The stream stops after its first {@code events} events with an {@code error} event of
         * {@code type} (as Anthropic sends {@code overloaded_error} mid-stream), then ends; not
         * streamed, the request gets that error's HTTP status instead.
         */
        Answer errorAfter(int events, String type, String message) {
            failAfter = events;
            failType = type;
            failMessage = message;
            return this;
        }

        Answer header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        boolean isError() {
            return status != 200;
        }

        /** The events a streamed request gets, for a message {@code id} of {@code model}. */
        List<Event> events(String id, String model) {
            List<Event> all = verbatim != null ? withIdAndModel(verbatim, id, model) : generate(id, model);
            if (failAfter < 0 || failAfter >= all.size()) {
                return all;
            }
            List<Event> cut = new ArrayList<>(all.subList(0, failAfter));
            cut.add(new Event("error", errorBody(failType, failMessage, null)));
            return cut;
        }

        private List<Event> generate(String id, String model) {
            List<Event> out = new ArrayList<>();
            ObjectNode message = NODES.objectNode()
                    .put("id", id)
                    .put("type", "message")
                    .put("role", "assistant")
                    .put("model", model);
            message.putArray("content");
            message.putNull("stop_reason");
            message.putNull("stop_sequence");
            message.set("usage", usage(1, true));
            out.add(event(
                    "message_start",
                    NODES.objectNode().put("type", "message_start").set("message", message)));
            int pieces = 0;
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                ObjectNode start = NODES.objectNode().put("type", b.type());
                switch (b.type()) {
                    case "text" -> start.put("text", "");
                    case "thinking" -> start.put("thinking", "").put("signature", "");
                    default -> start.put("id", b.id()).put("name", b.name()).putObject("input");
                }
                out.add(event(
                        "content_block_start",
                        NODES.objectNode()
                                .put("type", "content_block_start")
                                .put("index", i)
                                .set("content_block", start)));
                if (i == 0 || pings) {
                    out.add(new Event("ping", "{\"type\": \"ping\"}"));
                }
                for (String piece : b.pieces()) {
                    ObjectNode delta = NODES.objectNode();
                    switch (b.type()) {
                        case "text" -> delta.put("type", "text_delta").put("text", piece);
                        case "thinking" -> delta.put("type", "thinking_delta").put("thinking", piece);
                        default -> delta.put("type", "input_json_delta").put("partial_json", piece);
                    }
                    out.add(delta(i, delta));
                    pieces++;
                    if (pings) {
                        out.add(new Event("ping", "{\"type\": \"ping\"}"));
                    }
                }
                if (b.signature() != null) {
                    out.add(delta(
                            i, NODES.objectNode().put("type", "signature_delta").put("signature", b.signature())));
                }
                out.add(event(
                        "content_block_stop",
                        NODES.objectNode().put("type", "content_block_stop").put("index", i)));
            }
            long output = outputTokens >= 0 ? outputTokens : Math.max(1, pieces);
            String reason = stopReason != null
                    ? stopReason
                    : blocks.stream().anyMatch(b -> b.type().equals("tool_use")) ? "tool_use" : "end_turn";
            ObjectNode md = NODES.objectNode().put("type", "message_delta");
            md.putObject("delta").put("stop_reason", reason).putNull("stop_sequence");
            md.set(
                    "usage",
                    outputOnlyDeltaUsage ? NODES.objectNode().put("output_tokens", output) : usage(output, false));
            out.add(event("message_delta", md));
            out.add(event("message_stop", NODES.objectNode().put("type", "message_stop")));
            return out;
        }

        private ObjectNode usage(long output, boolean full) {
            ObjectNode u = NODES.objectNode()
                    .put("input_tokens", inputTokens)
                    .put("cache_creation_input_tokens", cacheWrite5m + cacheWrite1h)
                    .put("cache_read_input_tokens", cacheRead);
            if (full) {
                u.putObject("cache_creation")
                        .put("ephemeral_5m_input_tokens", cacheWrite5m)
                        .put("ephemeral_1h_input_tokens", cacheWrite1h);
            }
            u.put("output_tokens", output);
            if (full) {
                u.put("service_tier", "standard");
            }
            return u;
        }

        private static Event delta(int index, ObjectNode delta) {
            return event(
                    "content_block_delta",
                    NODES.objectNode()
                            .put("type", "content_block_delta")
                            .put("index", index)
                            .set("delta", delta));
        }

        private static List<Event> withIdAndModel(List<Event> events, String id, String model) {
            List<Event> out = new ArrayList<>(events);
            for (int i = 0; i < out.size(); i++) {
                Event e = out.get(i);
                if (e.name().equals("message_start")) {
                    ObjectNode data = (ObjectNode) e.json();
                    ((ObjectNode) data.get("message")).put("id", id).put("model", model);
                    out.set(i, event("message_start", data));
                }
            }
            return out;
        }
    }

    private final LoopbackHttpServer server;
    /** The keys it accepts: the constructor's, and any {@link #accept}ed since. */
    private final Set<String> apiKeys = new java.util.concurrent.CopyOnWriteArraySet<>();

    private final Queue<Answer> queue = new ConcurrentLinkedQueue<>();
    private final List<Map.Entry<String, Answer>> markers = new CopyOnWriteArrayList<>();
    private volatile Answer fallback = Answer.text("Hello", " from the fake", " Anthropic.");
    private final AtomicInteger served = new AtomicInteger();

    /** Every request, refused or not, in arrival order. */
    final List<Recorded> requests = new CopyOnWriteArrayList<>();

    final AtomicInteger connectionsOpened = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    /** Connections this fake closed because they sat idle. */
    final AtomicInteger idleClosed = new AtomicInteger();

    private volatile long idleCloseMillis = 5_000;
    private volatile int splitEvery;
    private volatile long eventDelayMillis;

    FakeAnthropic() throws InterruptedException {
        this(API_KEY);
    }

    FakeAnthropic(String apiKey) throws InterruptedException {
        apiKeys.add(apiKey);
        server = LoopbackHttpServer.start(Handler::new);
    }

    /** Accepts {@code key} too, as Anthropic accepts each key of an organization (a tenant's own). */
    FakeAnthropic accept(String key) {
        apiKeys.add(key);
        return this;
    }

    int port() {
        return server.port();
    }

    /**
     * {@code http://127.0.0.1:<port>}: what Anthropic's SDKs take as base URL (they add {@code
     * /v1/messages}), like {@code https://api.anthropic.com}.
     */
    String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Answers the next request with {@code answers[0]}, the one after with {@code answers[1]} … */
    FakeAnthropic enqueue(Answer... answers) {
        queue.addAll(Arrays.asList(answers));
        return this;
    }

    /** Answers with {@code answer} when the last user turn's text contains {@code marker}. */
    FakeAnthropic when(String marker, Answer answer) {
        markers.add(Map.entry(marker, answer));
        return this;
    }

    /** The answer when nothing is queued and no marker matches. */
    FakeAnthropic byDefault(Answer answer) {
        fallback = answer;
        return this;
    }

    /** Closes a connection this long after its last response unless a request came; -1: never. */
    FakeAnthropic idleCloseMillis(long millis) {
        idleCloseMillis = millis;
        return this;
    }

    /** Writes each event (or JSON body) in pieces of {@code bytes}, each flushed; 0: whole. */
    FakeAnthropic splitEvery(int bytes) {
        splitEvery = bytes;
        return this;
    }

    /** Waits this long between the events of a stream. */
    FakeAnthropic eventDelay(long millis) {
        eventDelayMillis = millis;
        return this;
    }

    Recorded lastRequest() {
        if (requests.isEmpty()) {
            throw new IllegalStateException("requests: none (expected: at least one)");
        }
        return requests.get(requests.size() - 1);
    }

    /** The requests to {@code path}, e.g. {@link #MESSAGES}. */
    List<Recorded> requestsTo(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).toList();
    }

    /** The message a stream of {@code events} adds up to, as an SDK's accumulator builds it. */
    static ObjectNode accumulate(List<Event> events) {
        ObjectNode message = NODES.objectNode();
        ArrayNode content = NODES.arrayNode();
        Map<Integer, StringBuilder> inputs = new LinkedHashMap<>();
        for (Event e : events) {
            JsonNode data = e.json();
            switch (data.path("type").asText()) {
                case "message_start" -> {
                    message = data.get("message").deepCopy();
                    content = message.putArray("content");
                }
                case "content_block_start" ->
                    content.add(data.get("content_block").deepCopy());
                case "content_block_delta" -> {
                    int index = data.get("index").asInt();
                    ObjectNode block = (ObjectNode) content.get(index);
                    JsonNode d = data.get("delta");
                    switch (d.path("type").asText()) {
                        case "text_delta" ->
                            block.put(
                                    "text",
                                    block.path("text").asText() + d.get("text").asText());
                        case "thinking_delta" ->
                            block.put(
                                    "thinking",
                                    block.path("thinking").asText()
                                            + d.get("thinking").asText());
                        case "signature_delta" ->
                            block.put("signature", d.get("signature").asText());
                        case "input_json_delta" ->
                            inputs.computeIfAbsent(index, k -> new StringBuilder())
                                    .append(d.get("partial_json").asText());
                        default -> {}
                    }
                }
                case "content_block_stop" -> {
                    int index = data.get("index").asInt();
                    StringBuilder input = inputs.get(index);
                    if (input != null && input.length() > 0) {
                        ((ObjectNode) content.get(index)).set("input", parse(input.toString()));
                    }
                }
                case "message_delta" -> {
                    for (Map.Entry<String, JsonNode> f : data.path("delta").properties()) {
                        message.set(f.getKey(), f.getValue());
                    }
                    JsonNode usage = data.get("usage");
                    if (usage != null && usage.isObject() && message.get("usage") instanceof ObjectNode u) {
                        for (Map.Entry<String, JsonNode> f : usage.properties()) {
                            u.set(f.getKey(), f.getValue());
                        }
                    }
                }
                default -> {}
            }
        }
        return message;
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private @Nullable ScheduledFuture<?> idle;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            connectionsOpened.incrementAndGet();
            openConnections.incrementAndGet();
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            openConnections.decrementAndGet();
            ctx.fireChannelInactive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (idle != null) {
                idle.cancel(false);
                idle = null;
            }
            Map<String, String> headers = new LinkedHashMap<>();
            req.headers()
                    .forEach(h ->
                            headers.merge(h.getKey().toLowerCase(Locale.ROOT), h.getValue(), (a, b) -> a + ", " + b));
            String path = req.uri().replaceFirst("\\?.*", "");
            Recorded r = new Recorded(
                    req.method().name(), path, headers, req.content().toString(StandardCharsets.UTF_8));
            requests.add(r);
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            String requestId = "req_011CFake" + String.format(Locale.ROOT, "%012d", served.incrementAndGet());

            boolean count = path.equals(COUNT_TOKENS);
            if (!req.method().equals(HttpMethod.POST) || !(count || path.equals(MESSAGES))) {
                refuse(ctx, keepAlive, requestId, 404, "not_found_error", "Not Found");
                return;
            }
            String key = r.header("x-api-key");
            String bearer = r.header("authorization");
            if (key == null && bearer != null && bearer.startsWith("Bearer ")) {
                key = bearer.substring(7);
            }
            if (key == null || !apiKeys.contains(key)) {
                refuse(ctx, keepAlive, requestId, 401, "authentication_error", "invalid x-api-key");
                return;
            }
            String version = r.header("anthropic-version");
            if (version == null) {
                refuse(
                        ctx,
                        keepAlive,
                        requestId,
                        400,
                        "invalid_request_error",
                        "anthropic-version: header is required");
                return;
            }
            if (!version.equals(VERSION) && !version.equals(VERSION_2026)) {
                refuse(ctx, keepAlive, requestId, 400, "invalid_request_error", "anthropic-version: invalid version");
                return;
            }
            String type = r.header("content-type");
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
                refuse(
                        ctx,
                        keepAlive,
                        requestId,
                        400,
                        "invalid_request_error",
                        "content-type: " + type + " (expected: application/json)");
                return;
            }
            JsonNode body = r.json();
            if (!body.isObject()) {
                refuse(
                        ctx,
                        keepAlive,
                        requestId,
                        400,
                        "invalid_request_error",
                        "There was an issue with your " + "request body: not a JSON object");
                return;
            }
            String problem = invalid(body, count, version);
            if (problem != null) {
                refuse(ctx, keepAlive, requestId, 400, "invalid_request_error", problem);
                return;
            }
            if (count) {
                String json = "{\"input_tokens\":" + estimateTokens(body) + "}";
                respond(ctx, keepAlive, requestId, 200, Map.of(), "application/json", List.of(json), 0);
                return;
            }
            Answer answer = choose(lastUserText(body));
            if (answer.isError()) {
                respond(
                        ctx,
                        keepAlive,
                        requestId,
                        answer.status,
                        answer.headers,
                        "application/json",
                        List.of(errorBody(answer.errorType, answer.errorMessage, requestId)),
                        0);
                return;
            }
            String id = "msg_01Fake" + String.format(Locale.ROOT, "%016d", served.get());
            List<Event> events = answer.events(id, body.get("model").asText());
            if (body.path("stream").asBoolean(false)) {
                List<String> parts = events.stream().map(Event::sse).toList();
                Map<String, String> sseHeaders = new LinkedHashMap<>(answer.headers);
                sseHeaders.put("cache-control", "no-cache");
                respond(
                        ctx,
                        keepAlive,
                        requestId,
                        200,
                        sseHeaders,
                        "text/event-stream; charset=utf-8",
                        parts,
                        eventDelayMillis);
                return;
            }
            Event last = events.get(events.size() - 1);
            if (last.name().equals("error")) {
                JsonNode err = last.json().path("error");
                String t = err.path("type").asText();
                respond(
                        ctx,
                        keepAlive,
                        requestId,
                        statusOf(t),
                        answer.headers,
                        "application/json",
                        List.of(errorBody(t, err.path("message").asText(), requestId)),
                        0);
                return;
            }
            respond(
                    ctx,
                    keepAlive,
                    requestId,
                    200,
                    answer.headers,
                    "application/json",
                    List.of(write(accumulate(events))),
                    0);
        }

        private Answer choose(String userText) {
            Answer next = queue.poll();
            if (next != null) {
                return next;
            }
            for (Map.Entry<String, Answer> m : markers) {
                if (userText.contains(m.getKey())) {
                    return m.getValue();
                }
            }
            return fallback;
        }

        private void refuse(
                ChannelHandlerContext ctx, boolean keepAlive, String requestId, int status, String type, String msg) {
            respond(
                    ctx,
                    keepAlive,
                    requestId,
                    status,
                    Map.of(),
                    "application/json",
                    List.of(errorBody(type, msg, requestId)),
                    0);
        }

        /**
         * Writes the head, then {@code parts} one after the other ({@code delay} ms apart), each
         * in pieces of {@link #splitEvery} bytes; a stream is chunked, a JSON body has a length.
         */
        private void respond(
                ChannelHandlerContext ctx,
                boolean keepAlive,
                String requestId,
                int status,
                Map<String, String> extra,
                String contentType,
                List<String> parts,
                long delay) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).set("request-id", requestId);
            extra.forEach((k, v) -> head.headers().set(k, v));
            if (contentType.startsWith("text/event-stream")) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else {
                head.headers()
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, parts.get(0).getBytes(StandardCharsets.UTF_8).length);
            }
            if (!keepAlive) {
                head.headers().set(HttpHeaderNames.CONNECTION, "close");
            }
            ctx.write(head);
            pump(ctx, parts, 0, delay, keepAlive);
        }

        private void pump(ChannelHandlerContext ctx, List<String> parts, int from, long delay, boolean keepAlive) {
            int i = from;
            while (i < parts.size() && ctx.channel().isActive()) {
                writeSplit(ctx, parts.get(i));
                i++;
                if (delay > 0 && i < parts.size()) {
                    int next = i;
                    ctx.executor()
                            .schedule(() -> pump(ctx, parts, next, delay, keepAlive), delay, TimeUnit.MILLISECONDS);
                    return;
                }
            }
            if (!ctx.channel().isActive()) {
                return;
            }
            ChannelFuture done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            done.addListener(f -> {
                if (!keepAlive) {
                    ctx.close();
                } else {
                    scheduleIdleClose(ctx);
                }
            });
        }

        private void writeSplit(ChannelHandlerContext ctx, String part) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            int n = splitEvery > 0 ? splitEvery : bytes.length;
            for (int at = 0; at < bytes.length; at += n) {
                ctx.writeAndFlush(
                        new DefaultHttpContent(Unpooled.wrappedBuffer(bytes, at, Math.min(n, bytes.length - at))));
            }
        }

        private void scheduleIdleClose(ChannelHandlerContext ctx) {
            long after = idleCloseMillis;
            if (after < 0 || !ctx.channel().isActive()) {
                return;
            }
            idle = ctx.executor()
                    .schedule(
                            () -> {
                                idleClosed.incrementAndGet();
                                ctx.close();
                            },
                            after,
                            TimeUnit.MILLISECONDS);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Why Anthropic would refuse {@code body} with a 400, or null when it would take it. */
    private static @Nullable String invalid(JsonNode body, boolean countTokens, String version) {
        Set<String> known = countTokens ? COUNT_FIELDS : MESSAGE_FIELDS;
        Set<String> removed = version.equals(VERSION_2026) ? Set.of("temperature", "top_p", "top_k") : Set.of();
        for (Map.Entry<String, JsonNode> field : body.properties()) {
            if (!known.contains(field.getKey()) || removed.contains(field.getKey())) {
                return field.getKey() + ": Extra inputs are not permitted";
            }
        }
        JsonNode model = body.get("model");
        if (model == null || !model.isTextual() || model.asText().isEmpty()) {
            return "model: Field required";
        }
        if (!countTokens) {
            JsonNode max = body.get("max_tokens");
            if (max == null) {
                return "max_tokens: Field required";
            }
            if (!max.isIntegralNumber() || max.asLong() < 1) {
                return "max_tokens: " + max + " (expected: an integer >= 1)";
            }
            JsonNode stream = body.get("stream");
            if (stream != null && !stream.isBoolean()) {
                return "stream: Input should be a valid boolean";
            }
        }
        JsonNode system = body.get("system");
        if (system != null && !system.isTextual()) {
            if (!system.isArray()) {
                return "system: Input should be a valid string or list of text blocks";
            }
            for (int i = 0; i < system.size(); i++) {
                if (!system.get(i).path("type").asText().equals("text")
                        || !system.get(i).path("text").isTextual()) {
                    return "system." + i + ": Input should be a text block";
                }
            }
        }
        String messages = invalidMessages(body.get("messages"));
        if (messages != null) {
            return messages;
        }
        JsonNode tools = body.get("tools");
        Set<String> toolNames = new HashSet<>();
        if (tools != null) {
            if (!tools.isArray()) {
                return "tools: Input should be a valid list";
            }
            for (int i = 0; i < tools.size(); i++) {
                JsonNode t = tools.get(i);
                if (!t.path("name").isTextual()) {
                    return "tools." + i + ".name: Field required";
                }
                toolNames.add(t.get("name").asText());
                boolean custom = !t.has("type") || t.path("type").asText().equals("custom");
                if (custom && !t.path("input_schema").isObject()) {
                    return "tools." + i + ".custom.input_schema: Field required";
                }
            }
        }
        JsonNode choice = body.get("tool_choice");
        if (choice != null) {
            String type = choice.path("type").asText();
            if (!Set.of("auto", "any", "tool", "none").contains(type)) {
                return "tool_choice.type: " + choice.path("type") + " (expected: auto, any, tool or none)";
            }
            if (type.equals("tool") && !toolNames.contains(choice.path("name").asText())) {
                return "tool_choice.name: " + choice.path("name") + " (expected: the name of one of the tools)";
            }
        }
        JsonNode thinking = body.get("thinking");
        if (thinking != null) {
            String type = thinking.path("type").asText();
            if (type.equals("enabled")) {
                long budget = thinking.path("budget_tokens").asLong(-1);
                if (budget < 1024) {
                    return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
                }
                if (!countTokens && budget >= body.get("max_tokens").asLong()) {
                    return "max_tokens: " + body.get("max_tokens") + " must be greater than thinking.budget_tokens";
                }
            } else if (!type.equals("disabled") && !type.equals("adaptive")) {
                return "thinking.type: " + thinking.path("type") + " (expected: enabled, disabled or adaptive)";
            }
        }
        JsonNode temperature = body.get("temperature");
        if (temperature != null
                && (!temperature.isNumber() || temperature.asDouble() < 0 || temperature.asDouble() > 1)) {
            return "temperature: Input should be less than or equal to 1";
        }
        return null;
    }

    private static @Nullable String invalidMessages(@Nullable JsonNode messages) {
        if (messages == null) {
            return "messages: Field required";
        }
        if (!messages.isArray() || messages.isEmpty()) {
            return "messages: at least one message is required";
        }
        Set<String> openToolUses = new HashSet<>();
        String previous = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText();
            if (role.equals("system")) {
                return "messages." + i + ": Unexpected role \"system\". The Messages API accepts a top-level "
                        + "`system` parameter, not \"system\" as an input message role.";
            }
            if (!role.equals("user") && !role.equals("assistant")) {
                return "messages." + i + ".role: " + m.path("role") + " (expected: user or assistant)";
            }
            if (previous == null && !role.equals("user")) {
                return "messages: first message must use the \"user\" role";
            }
            if (role.equals(previous)) {
                return "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"" + role
                        + "\" roles in a row";
            }
            JsonNode content = m.get("content");
            if (content == null || !(content.isTextual() || (content.isArray() && !content.isEmpty()))) {
                return "messages." + i + ".content: Input should be a string or a non-empty list of blocks";
            }
            Set<String> answered = new HashSet<>();
            boolean seenOther = false;
            for (int j = 0; content.isArray() && j < content.size(); j++) {
                JsonNode block = content.get(j);
                String type = block.path("type").asText();
                String where = "messages." + i + ".content." + j;
                if (type.isEmpty()) {
                    return where + ".type: Field required";
                }
                if (type.equals("tool_result")) {
                    if (!role.equals("user")) {
                        return where + ": tool_result blocks belong in a user turn";
                    }
                    if (seenOther) {
                        return where + ": tool_result blocks must come first in the user turn's content";
                    }
                    String id = block.path("tool_use_id").asText();
                    if (!openToolUses.contains(id)) {
                        return where + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id
                                + ". Each `tool_result` block must have a corresponding `tool_use` block in the "
                                + "previous message.";
                    }
                    answered.add(id);
                } else {
                    seenOther = true;
                }
                if (type.equals("tool_use") && !role.equals("assistant")) {
                    return where + ": tool_use blocks belong in an assistant turn";
                }
            }
            if (role.equals("user")) {
                if (!answered.containsAll(openToolUses)) {
                    Set<String> missing = new HashSet<>(openToolUses);
                    missing.removeAll(answered);
                    return "messages." + i + ": `tool_use` ids were found without `tool_result` blocks "
                            + "immediately after: " + String.join(", ", missing)
                            + ". Each `tool_use` block must have a corresponding `tool_result` block in the next "
                            + "message.";
                }
                openToolUses.clear();
            } else {
                for (int j = 0; content.isArray() && j < content.size(); j++) {
                    if (content.get(j).path("type").asText().equals("tool_use")) {
                        openToolUses.add(content.get(j).path("id").asText());
                    }
                }
            }
            previous = role;
        }
        JsonNode last = messages.get(messages.size() - 1);
        if (last.path("role").asText().equals("assistant")) {
            String text = last.path("content").isTextual()
                    ? last.path("content").asText()
                    : last.path("content")
                            .path(last.path("content").size() - 1)
                            .path("text")
                            .asText("");
            if (!text.isEmpty() && Character.isWhitespace(text.charAt(text.length() - 1))) {
                return "messages: final assistant content cannot end with trailing whitespace";
            }
        }
        return null;
    }

    /** About a quarter of the characters of the system prompt, the messages and the tools. */
    static long estimateTokens(JsonNode body) {
        long chars = body.path("system").toString().length()
                + body.path("messages").toString().length()
                + (body.has("tools") ? body.get("tools").toString().length() : 0);
        return Math.max(1, chars / 4);
    }

    private static String lastUserText(JsonNode body) {
        JsonNode messages = body.path("messages");
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode m = messages.get(i);
            if (!m.path("role").asText().equals("user")) {
                continue;
            }
            JsonNode content = m.path("content");
            if (content.isTextual()) {
                return content.asText();
            }
            StringBuilder text = new StringBuilder();
            for (JsonNode block : content) {
                if (block.path("type").asText().equals("text")) {
                    text.append(block.path("text").asText());
                }
            }
            return text.toString();
        }
        return "";
    }

    /** Anthropic's {@code status} for an error {@code type} (https://platform.claude.com/docs/en/api/errors). */
    static int statusOf(String type) {
        return switch (type) {
            case "invalid_request_error" -> 400;
            case "authentication_error" -> 401;
            case "billing_error" -> 402;
            case "permission_error" -> 403;
            case "not_found_error" -> 404;
            case "request_too_large" -> 413;
            case "rate_limit_error" -> 429;
            case "timeout_error" -> 504;
            case "overloaded_error" -> 529;
            default -> 500;
        };
    }

    private static String errorBody(@Nullable String type, @Nullable String message, @Nullable String requestId) {
        ObjectNode body = NODES.objectNode().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        if (requestId != null) {
            body.put("request_id", requestId);
        }
        return write(body);
    }

    /** Cuts {@code text} into events at blank lines; {@code event:} and {@code data:} lines only. */
    static List<Event> parseSse(String text) {
        List<Event> events = new ArrayList<>();
        for (String block : text.replace("\r\n", "\n").split("\n\n")) {
            String name = null;
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    data.append(data.length() > 0 ? "\n" : "")
                            .append(line.substring(5).stripLeading());
                }
            }
            if (name != null) {
                events.add(new Event(name, data.toString()));
            }
        }
        return events;
    }

    private static Event event(String name, JsonNode data) {
        return new Event(name, write(data));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return MissingNode.getInstance();
        }
    }

    private static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
