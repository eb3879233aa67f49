package io.brainstorm.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.api.Responses;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyAccess;
import io.brainstorm.proxy.relay.Exchange;
import io.brainstorm.proxy.relay.MessagesClient;
import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.translate.MessagesTokenCount;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of a client request pipeline, for HTTP/1.1 connections and HTTP/2 streams
 * alike: dispatches a whole request by path, authenticates, parses, routes, and hands API calls
 * to an {@link Exchange}.
 *
 * <p><b>One request at a time.</b> On HTTP/1.1 it turns auto-read off while a request is being
 * served, so pipelined requests wait and answers leave in order, while {@link ClientCloseWatch}
 * keeps reading the socket so that a client that leaves cancels its exchange at once; each HTTP/2
 * stream has its own channel and handler.
 *
 * <p><b>Errors.</b> An {@link ApiError} becomes OpenAI's error JSON; anything else is logged and
 * answered with a 500 ({@code internal_error}) that names the request id, never a stack trace;
 * an exchange started for the request is aborted first, so nothing of it is written later.
 */
final class ApiHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger log = System.getLogger(ApiHandler.class.getName());
    private static final String SUPPORTED = "This gateway serves POST /v1/chat/completions, POST /v1/embeddings,"
            + " POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models, GET /v1/usage,"
            + " POST /v1/feedback, GET /healthz and GET /readyz.";
    /** The Anthropic Messages API's paths: their errors are in Anthropic's shape. */
    private static final String MESSAGES = MessagesClient.PATH;
    /** Where Anthropic's clients put the key; {@code Authorization: Bearer} works too. */
    private static final String X_API_KEY = "x-api-key";

    private static final String ANTHROPIC_BETA = "anthropic-beta";
    private static final String ANTHROPIC_VERSION = "anthropic-version";

    private static final String X_TITLE = "x-title";

    private final Gateway gateway;
    private @Nullable Exchange exchange;
    /** The request waiting for a store that decides later (Redis); null otherwise. */
    private @Nullable Admitted waiting;
    /** A read-out ({@code /v1/usage}, feedback) waiting for such a store; null otherwise. */
    private @Nullable Object waitingOther;

    private boolean busy;
    /** The connection's in-flight count (the HTTP/2 parent's for a stream), looked up once. */
    private @Nullable AtomicInteger activeRequests;
    /** The connection's {@link ClientCloseWatch} (HTTP/1.1), looked up once. */
    private @Nullable ClientCloseWatch closeWatch;

    ApiHandler(Gateway gateway) {
        this.gateway = gateway;
    }

    private boolean http1(ChannelHandlerContext ctx) {
        return !(ctx.channel() instanceof Http2StreamChannel);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        String requestId = RequestIds.next();
        long arrivalNanos = System.nanoTime();
        boolean messagesApi = MessagesClient.isMessagesPath(request.uri());
        try {
            busy = true;
            gateway.requestStarted();
            activeRequests(ctx).incrementAndGet();
            if (http1(ctx)) {
                ctx.channel().config().setAutoRead(false);
                watch(ctx, true);
            }
            ApiError malformed = malformed(ctx, request);
            if (malformed != null) {
                respond(ctx, error(ctx, malformed, requestId, messagesApi), true);
                return;
            }
            dispatch(ctx, request, requestId, arrivalNanos);
        } catch (ApiError e) {
            respond(ctx, error(ctx, e, requestId, messagesApi), false);
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "request " + requestId + " failed inside the gateway", e);
            if (!stopExchange(ctx) || !busy) {
                // answered already, or part of an answer left: a 500 now would be out of step
                return;
            }
            respond(ctx, error(ctx, internalError(requestId), requestId, messagesApi), false);
        } finally {
            request.release();
        }
    }

    /** The 500 for a failure inside the gateway: it names the request id, never the failure. */
    private static ApiError internalError(String requestId) {
        return ApiError.internal("Internal gateway error; quote request id " + requestId + " when reporting it.");
    }

    /**
     * The error answer: OpenAI's shape, or Anthropic's ({@code {"type":"error","error":{"type",
     * "message"}}}, {@code MessagesErrors}) on the Messages API's paths, with the same status and
     * headers.
     */
    static FullHttpResponse error(ChannelHandlerContext ctx, ApiError e, String requestId, boolean messagesApi) {
        FullHttpResponse r = Responses.error(ctx, e, requestId);
        return messagesApi ? MessagesClient.errorAnswer(r, e) : r;
    }

    /**
     * What is wrong with the request's head, answered before anything else and followed by a close:
     * what the decoder refused (Content-Length beside Transfer-Encoding among it, RFC 9112 §6.3), or
     * an HTTP/1.1 request without exactly one {@code Host} (RFC 9112 §3.2; HTTP/2 has :authority).
     */
    private @Nullable ApiError malformed(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            return HttpPipeline.malformed(
                    request.decoderResult().cause(), gateway.config().server().maxHeaderBytes());
        }
        if (http1(ctx)) {
            int hosts = request.headers().getAll(HttpHeaderNames.HOST).size();
            if (hosts > 1 || hosts == 0 && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                return ApiError.invalidRequest(
                        null, "Host headers: " + hosts + " (expected: exactly one on HTTP/1.1).");
            }
        }
        return null;
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request, String requestId, long arrivalNanos) {
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q >= 0 ? uri.substring(0, q) : uri;
        HttpMethod method = request.method();
        switch (path) {
            case "/healthz" -> {
                requireMethod(method, HttpMethod.GET, path);
                respondJson(ctx, HttpResponseStatus.OK, "{\"status\":\"ok\"}");
            }
            case "/readyz" -> {
                requireMethod(method, HttpMethod.GET, path);
                boolean ready = gateway.ready();
                respondJson(
                        ctx,
                        ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                        ready ? "{\"status\":\"ready\"}" : "{\"status\":\"starting\"}");
            }
            case "/v1/models" -> {
                requireMethod(method, HttpMethod.GET, path);
                ApiKey key = authenticate(request);
                respondJson(
                        ctx, HttpResponseStatus.OK, requireServices().models().listJson(access(key)));
            }
            case "/v1/usage" -> {
                requireMethod(method, HttpMethod.GET, path);
                ApiKey key = authenticate(request);
                Admission admission = requireServices().admission();
                later(
                        ctx,
                        requestId,
                        admission.usageLater(key),
                        u -> UsageView.json(key, admission, u).toString());
            }
            case "/v1/feedback" -> {
                requireMethod(method, HttpMethod.POST, path);
                ApiKey key = authenticate(request);
                feedback(ctx, requestId, key, requireServices(), request);
            }
            case "/v1/chat/completions" -> call(ctx, request, path, requestId, arrivalNanos, ParsedRequest.Kind.CHAT);
            case MESSAGES -> call(ctx, request, path, requestId, arrivalNanos, null);
            case MESSAGES + "/count_tokens" -> {
                requireMethod(method, HttpMethod.POST, path);
                authenticate(request);
                respond(ctx, Responses.json(ctx, HttpResponseStatus.OK, countTokens(request)), false);
            }
            case "/v1/embeddings" -> call(ctx, request, path, requestId, arrivalNanos, ParsedRequest.Kind.EMBEDDINGS);
            default -> {
                if (path.startsWith("/v1/models/") && method.equals(HttpMethod.GET)) {
                    ApiKey key = authenticate(request);
                    Services services = requireServices();
                    String id = decode(path.substring("/v1/models/".length()));
                    String json = services.models()
                            .modelJson(id, access(key))
                            .orElseThrow(() -> ApiError.modelNotFound(
                                    "The model '" + id + "' does not exist or this key cannot use it."));
                    respond(ctx, Responses.json(ctx, HttpResponseStatus.OK, json), false);
                    return;
                }
                throw ApiError.notFound("Invalid URL (" + method + " " + path + "). " + SUPPORTED);
            }
        }
    }

    /**
     * {@code POST /v1/feedback {"request_id", "score"}}: the application's verdict on an answer,
     * counted {@code routing.learning.feedback_weight} times in this tenant's belief about the
     * endpoint that gave it (never in the shared one: docs/routing.md). Only the tenant that made the request may score it; any other request id is a 404.
     */
    private void feedback(
            ChannelHandlerContext ctx, String requestId, ApiKey key, Services services, FullHttpRequest request) {
        JsonNode body = jsonObject(request, " {\"request_id\", \"score\"}");
        JsonNode id = body.get("request_id");
        if (id == null || !id.isTextual()) {
            throw ApiError.invalidRequest(
                    "request_id", "Missing or invalid 'request_id': expected the X-BR-Request-Id" + " of an answer.");
        }
        JsonNode score = body.get("score");
        if (score == null || !score.isNumber() || !(score.doubleValue() >= 0 && score.doubleValue() <= 1)) {
            throw ApiError.invalidRequest("score", "Invalid 'score': " + score + " (expected: a number from 0 to 1).");
        }
        Router router = services.router();
        String answerId = id.textValue();
        double value = score.doubleValue();
        // the files and heap logs answer within the call; Redis later, on its own thread
        CompletionStage<AnswerLog.@Nullable Answer> found = services.answers()
                .lookup(answerId, key.tenant(), router.state().nowMillis())
                .exceptionally(e -> {
                    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (c instanceof ApiError a) {
                        throw a;
                    }
                    log.log(System.Logger.Level.WARNING, "feedback on " + answerId + ": the answer log failed", c);
                    throw ApiError.stateUnavailable(
                            "The gateway cannot look up that answer right now (" + c.getMessage() + "); try again"
                                    + " later.",
                            1);
                });
        later(ctx, requestId, found, a -> {
            if (a == null) {
                throw ApiError.notFound("No answer with request id '" + answerId + "' can be scored by this key:"
                        + " unknown or no longer kept, older than 7 days, or another tenant's.");
            }
            router.state()
                    .learning()
                    .feedback(
                            key.tenant(),
                            a.candidateId(),
                            a.taskClass(),
                            value,
                            router.state().nowMillis());
            ObjectNode o = Json.MAPPER.createObjectNode();
            o.put("object", "feedback");
            o.put("request_id", answerId);
            o.put("score", value);
            o.put("weight", router.state().learning().settings().feedbackWeight());
            o.put("scope", "tenant");
            o.put("endpoint", a.candidateId());
            o.put("task_class", a.taskClass().key());
            return o.toString();
        });
    }

    /**
     * The key of {@code Authorization: Bearer}, or of {@code x-api-key} (the Anthropic SDKs' and
     * Claude Code's header) when there is no {@code Authorization}.
     */
    private ApiKey authenticate(FullHttpRequest request) {
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization == null) {
            String key = request.headers().get(X_API_KEY);
            if (key != null) {
                authorization = "Bearer " + key;
            }
        }
        return gateway.registry().authenticate(authorization);
    }

    /**
     * {@code POST /v1/messages/count_tokens}: {@code {"input_tokens": N}}, estimated the way the
     * gateway estimates prompts for budgets ({@link MessagesTokenCount}); no provider is asked.
     */
    private static String countTokens(FullHttpRequest request) {
        return MessagesTokenCount.answer(jsonObject(request, "")).toString();
    }

    /**
     * The request's body, which must be one JSON object; {@code shape} follows "a JSON object" in
     * the error that says it is not.
     */
    private static JsonNode jsonObject(FullHttpRequest request, String shape) {
        JsonNode body;
        try {
            body = Json.read(request.content());
        } catch (IOException e) {
            throw ApiError.invalidRequest(null, "The request body is not valid JSON.");
        }
        if (body == null || !body.isObject()) {
            throw ApiError.invalidRequest(null, "The request body must be a JSON object" + shape + ".");
        }
        return body;
    }

    private Access access(ApiKey key) {
        return new KeyAccess(key, gateway.registry());
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalidRequest(null, "Malformed percent-encoding in the URL.");
        }
    }

    /** The routes and the rest; in the moments after the listener opened and before they exist, a 503. */
    private Services requireServices() {
        Services services = gateway.services();
        if (services == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        return services;
    }

    private static void requireMethod(HttpMethod actual, HttpMethod expected, String path) {
        if (!actual.equals(expected)) {
            throw ApiError.methodNotAllowed(
                    "Method " + actual + " is not allowed on " + path + " (expected: " + expected + ").",
                    expected.name());
        }
    }

    /**
     * An API call: authenticate, parse, route, admit, and hand over to an {@link Exchange}. The
     * request's {@link Completion} starts here and each step adds to it; the exchange ends it, or,
     * for a call refused before that, {@link #refused}.
     */
    private void call(
            ChannelHandlerContext ctx,
            FullHttpRequest request,
            String path,
            String requestId,
            long arrivalNanos,
            ParsedRequest.@Nullable Kind kind) {
        Completion.Builder completion = Completion.builder(requestId, arrivalNanos)
                .app(app(request))
                .operation(kind == null ? "messages" : kind == ParsedRequest.Kind.CHAT ? "chat" : "embeddings");
        MessagesClient messages = null;
        ApiKey key;
        ParsedRequest parsed;
        RoutePlan route;
        Services services;
        CompletableFuture<Ticket> admitted;
        try {
            requireMethod(request.method(), HttpMethod.POST, path);
            key = authenticate(request);
            completion.key(key.tenant(), key.id());
            if (kind == null) {
                // the Messages API: parsed, routed and admitted in its OpenAI form
                messages = MessagesClient.parse(
                        request.content(),
                        request.headers().get(ANTHROPIC_BETA),
                        request.headers().get(ANTHROPIC_VERSION));
                ByteBuf openAi = messages.openAiBody();
                try {
                    parsed = ParsedRequest.parse(ParsedRequest.Kind.CHAT, openAi);
                } finally {
                    openAi.release();
                }
            } else {
                parsed = ParsedRequest.parse(kind, request.content());
            }
            completion.requestedModel(parsed.model()).stream(parsed.stream()).format(parsed.format());
            services = requireServices();
            route = services.router().route(parsed.model(), parsed.features(), requestId, access(key));
            completion.strategy(route.strategy());
            admitted = services.admission()
                    .admitLater(key, route, parsed.features())
                    .toCompletableFuture();
        } catch (ApiError e) {
            refused(completion, e);
            throw e;
        }
        boolean trailers = request.headers().containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
        Admitted next =
                new Admitted(requestId, key, parsed, route, services, completion, trailers, messages, kind == null);
        if (admitted.isDone()) {
            // the files and heap stores decide within the call: on as before, on this thread
            Ticket ticket;
            try {
                ticket = admitted.join();
            } catch (CompletionException e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                if (c instanceof ApiError a) {
                    refused(completion, a);
                }
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
            start(ctx, next, ticket);
            return;
        }
        // Redis answers on its own thread: the request goes on on this channel's event loop
        waiting = next;
        admitted.whenComplete((ticket, error) -> {
            try {
                ctx.executor().execute(() -> admittedLater(ctx, next, ticket, error));
            } catch (RejectedExecutionException e) {
                // the gateway stops: nothing will start, so the hold goes back
                if (ticket != null) {
                    ticket.release();
                }
            }
        });
    }

    /**
     * Answers with {@code json} of what {@code value} completes with: at once when it is complete
     * (the files and heap stores), else on this channel's event loop when it completes (Redis); its
     * {@link ApiError} becomes the error answer. A client that left meanwhile gets nothing.
     */
    private <T> void later(
            ChannelHandlerContext ctx,
            String requestId,
            CompletionStage<T> value,
            java.util.function.Function<T, String> json) {
        CompletableFuture<T> f = value.toCompletableFuture();
        if (f.isDone()) {
            try {
                respondJson(ctx, HttpResponseStatus.OK, json.apply(f.join()));
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
            return;
        }
        Object token = new Object();
        waitingOther = token;
        f.whenComplete((v, error) -> {
            try {
                ctx.executor().execute(() -> {
                    if (waitingOther != token || !busy || !ctx.channel().isActive()) {
                        return;
                    }
                    waitingOther = null;
                    try {
                        if (error != null) {
                            Throwable c = error instanceof CompletionException && error.getCause() != null
                                    ? error.getCause()
                                    : error;
                            throw c instanceof RuntimeException r ? r : new IllegalStateException(c);
                        }
                        respondJson(ctx, HttpResponseStatus.OK, json.apply(v));
                    } catch (ApiError e) {
                        respond(ctx, error(ctx, e, requestId, false), false);
                    } catch (RuntimeException e) {
                        log.log(System.Logger.Level.ERROR, "request " + requestId + " failed inside the gateway", e);
                        respond(ctx, error(ctx, internalError(requestId), requestId, false), false);
                    }
                });
            } catch (RejectedExecutionException e) {
                // the gateway stops; the connection goes with it
            }
        });
    }

    /** What {@link #call} found, for the exchange it starts once the request is admitted. */
    private record Admitted(
            String requestId,
            ApiKey key,
            ParsedRequest parsed,
            RoutePlan route,
            Services services,
            Completion.Builder completion,
            boolean trailers,
            @Nullable MessagesClient messages,
            boolean messagesApi) {}

    /**
     * The admission {@link #call} waited for has decided: start the exchange, answer the refusal, or,
     * when the client left meanwhile, give the hold back and record the request as the client's close.
     */
    private void admittedLater(
            ChannelHandlerContext ctx, Admitted next, @Nullable Ticket ticket, @Nullable Throwable error) {
        boolean current = waiting == next;
        if (current) {
            waiting = null;
        }
        if (!current || !busy || !ctx.channel().isActive()) {
            if (ticket != null) {
                ticket.release();
            }
            gateway.completions()
                    .accept(next.completion()
                            .status(499, "client_closed")
                            .score(Completion.NO_SCORE, ScoreOutcome.NOT_APPLICABLE)
                            .build());
            return;
        }
        if (error != null) {
            Throwable c = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            ApiError e;
            if (c instanceof ApiError a) {
                e = a;
            } else {
                log.log(System.Logger.Level.ERROR, "request " + next.requestId() + " failed inside the gateway", c);
                e = internalError(next.requestId());
            }
            refused(next.completion(), e);
            respond(ctx, error(ctx, e, next.requestId(), next.messagesApi()), false);
            return;
        }
        try {
            start(ctx, next, Objects.requireNonNull(ticket, "ticket of an admitted request"));
        } catch (ApiError e) {
            respond(ctx, error(ctx, e, next.requestId(), next.messagesApi()), false);
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "request " + next.requestId() + " failed inside the gateway", e);
            if (!stopExchange(ctx) || !busy) {
                return;
            }
            respond(ctx, error(ctx, internalError(next.requestId()), next.requestId(), next.messagesApi()), false);
        }
    }

    /** Hands an admitted request to its {@link Exchange}. */
    private void start(ChannelHandlerContext ctx, Admitted a, Ticket ticket) {
        try {
            exchange = new Exchange(
                    ctx,
                    gateway.upstream(),
                    a.parsed(),
                    a.route(),
                    a.services().settlement(),
                    ticket,
                    a.completion(),
                    a.trailers(),
                    f -> done(ctx, f),
                    a.messages());
            log.log(
                    System.Logger.Level.DEBUG,
                    "request {0}: key {1} model {2}",
                    a.requestId(),
                    a.key().id(),
                    a.parsed().model());
            exchange.start();
        } catch (RuntimeException e) {
            // a hold no exchange will end would keep the key's budget until this process stops
            ticket.release();
            throw e;
        }
    }

    /**
     * Something threw around the exchange this handler started: end it so that nothing of it is
     * written later (no late 504 taken for the next request's answer), its permit and ticket back.
     *
     * @return true when this handler may answer the request; false when the connection was closed
     *         because part of an answer had left
     */
    private boolean stopExchange(ChannelHandlerContext ctx) {
        Exchange started = exchange;
        if (started == null) {
            return true;
        }
        exchange = null;
        boolean nothingSent;
        try {
            nothingSent = started.abort();
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "stopping an exchange failed", e);
            nothingSent = false;
        }
        if (!nothingSent) {
            ctx.close();
            done(ctx, null);
        }
        return nothingSent;
    }

    /**
     * Ends the {@link Completion} of an API call refused before any provider was asked (401, 400, 402,
     * 403, 404, 429, 503) with the error the client gets.
     */
    private void refused(Completion.Builder completion, ApiError e) {
        gateway.completions()
                .accept(completion
                        .status(e.status().code(), e.code())
                        .score(Completion.NO_SCORE, ScoreOutcome.NOT_APPLICABLE)
                        .build());
    }

    /**
     * The application's name: {@code X-Title}, else {@code HTTP-Referer} (recorded, never forwarded);
     * the {@link Completion.Builder#app} caps it.
     */
    private static @Nullable String app(FullHttpRequest request) {
        String app = request.headers().get(X_TITLE);
        if (app == null || app.isBlank()) {
            app = request.headers().get(HttpHeaderNames.REFERER);
        }
        return app == null || app.isBlank() ? null : app;
    }

    /** Answers {@code json} with {@code status}, keeping the connection. */
    private void respondJson(ChannelHandlerContext ctx, HttpResponseStatus status, String json) {
        respond(ctx, Responses.json(ctx, status, json), false);
    }

    private void respond(ChannelHandlerContext ctx, FullHttpResponse response, boolean close) {
        if (close || gateway.draining() && http1(ctx)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ChannelFuture f = ctx.writeAndFlush(response);
        if (close) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
        done(ctx, f);
    }

    /** The answer is written (or the client is gone): accept the next request. */
    private void done(ChannelHandlerContext ctx, @Nullable ChannelFuture lastWrite) {
        if (!busy) {
            return;
        }
        busy = false;
        exchange = null;
        waiting = null;
        waitingOther = null;
        gateway.requestEnded();
        activeRequests(ctx).decrementAndGet();
        if (http1(ctx)) {
            if (gateway.draining()) {
                if (lastWrite != null) {
                    lastWrite.addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.close();
                }
                return;
            }
            // what the client sent meanwhile goes on first; it may start the next request
            watch(ctx, false);
            if (!busy) {
                ctx.channel().config().setAutoRead(true);
            }
        }
    }

    /**
     * Starts or ends reading the connection while a request is served with auto-read off, so a
     * client that leaves is noticed at once on every transport ({@link ClientCloseWatch}).
     */
    private void watch(ChannelHandlerContext ctx, boolean on) {
        ClientCloseWatch w = closeWatch;
        if (w == null) {
            w = closeWatch = ctx.pipeline().get(ClientCloseWatch.class);
            if (w == null) {
                return;
            }
        }
        if (on) {
            w.watch();
        } else {
            w.unwatch();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null && ctx.channel().isWritable()) {
            exchange.onClientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.cancel();
        }
        done(ctx, null);
        ctx.fireChannelInactive();
    }

    /** The connection's count of requests being served (the HTTP/2 parent's for a stream). */
    private AtomicInteger activeRequests(ChannelHandlerContext ctx) {
        if (activeRequests == null) {
            Channel connection =
                    ctx.channel() instanceof Http2StreamChannel ? ctx.channel().parent() : ctx.channel();
            activeRequests =
                    connection.attr(ServerChannelInitializer.ACTIVE_REQUESTS).get();
        }
        return activeRequests;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // quietly when the client went away (or was sent away with a 408) in the middle of a request
        HttpPipeline.closeOnError(ctx, cause, log, "client");
    }
}
