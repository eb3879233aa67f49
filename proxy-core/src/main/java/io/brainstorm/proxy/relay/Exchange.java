package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.route.RoutingState;
import io.brainstorm.proxy.server.Responses;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.StreamCapture;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.brainstorm.proxy.upstream.UpstreamListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One request's trip upstream and back: tries the route's candidates in order, relays the answer
 * (whole, or as a stream of SSE events), and works out what it cost.
 *
 * <p><b>Failover.</b> Connect errors, 401/403/408/429/5xx answers, resets, first-byte timeouts and
 * 2xx answers that are not what they claim ({@link AnswerCheck}: checked at the head for the
 * content type, at the end for a whole answer's JSON) move on to the next endpoint of the plan
 * while nothing has reached the client, at most
 * {@code maxAttempts} tries within the first endpoint's total timeout. An endpoint whose circuit
 * is open (or whose half-open probes are out), or where the provider turned the tenant's key away,
 * is skipped without counting; when that leaves nothing tried, the skipped endpoint whose circuit
 * opens soonest is tried anyway, without a breaker permit (panic mode, DESIGN §7), unless every
 * one is cooling down under the provider's {@code Retry-After} for the key (503
 * {@code no_healthy_endpoint}). Once a
 * stream's headers left, a failure becomes one last {@code data:} event with an {@code error}
 * object and {@code finish_reason: "error"}, and the stream ends without {@code [DONE]} (DESIGN §3).
 *
 * <p><b>Stale connections.</b> A kept-alive connection that fails before any response byte (reset,
 * EOF, or a {@code 408}: the provider closed it as idle) is retried once on a new connection; it
 * says nothing about the endpoint, so it is no failover and gets no verdict. Informational heads
 * ({@code 100 Continue}, {@code 103 Early Hints}) are skipped: the answer's head follows them.
 *
 * <p><b>Errors.</b> Whatever throws inside the exchange (an upstream read, a timer task, a future
 * listener, a scorer callback) ends it in {@link #crashed}: the client gets one error answer, a 500
 * {@code internal_error} or, once a stream's head left, the stream's error event; the timer, the
 * breaker permit and the budget ticket are released, and nothing is written after.
 *
 * <p><b>Outcomes.</b> Each attempt's end goes to the {@link OutcomeRecorder} exactly once (latency,
 * learning, the deciding strategy): answered, failed, rate limited, rejected (401/403), or
 * abandoned when the client left. The breaker's verdict comes earlier, at the response head.
 *
 * <p><b>Budget.</b> The request's {@link Ticket} ends exactly once: settled with the answer's cost;
 * for a stream that broke or that the client left, with the prompt estimate plus one completion
 * token per content event relayed (DESIGN §6); for a whole answer the client left while the
 * provider had the request, with the prompt estimate; when the request ends in
 * {@code upstream_invalid_response} (the last attempt answered 2xx with something unusable), with
 * the prompt estimate too; released when no provider produced anything billable.
 *
 * <p><b>Streams.</b> The bytes are {@link StreamRelay}'s: events pass through as slices of the
 * upstream's own buffers, flushed at the end of each upstream read batch; nothing is re-encoded.
 * Only the usage event (held back and
 * rewritten to carry {@code usage.cost} and {@code x_br}, or replaced by an {@code : x-br}
 * comment when the client did not ask for usage) and {@code [DONE]} (which waits for it) are
 * touched.
 *
 * <p><b>Backpressure.</b> Upstream connections run with auto-read off; the next read is issued
 * only while the client channel is writable, and resumes from {@link #onClientWritable()}.
 *
 * <p><b>Threading.</b> Everything runs on the client channel's event loop; upstream connections
 * are opened on it, so no field needs to be {@code volatile}.
 *
 * <p><b>Reference counting.</b> Buffers read from upstream are either written to the client
 * (which releases them), held in {@link #aggregate} or {@link #stream} (released in
 * {@link #releaseBuffers()} on every end), or released where they are dropped.
 */
public final class Exchange implements UpstreamListener {
    static final int MAX_AGGREGATE_BYTES = 64 * 1024 * 1024;
    static final int MAX_EVENT_BYTES = 4 * 1024 * 1024;
    private static final Scorer.@Nullable Result PLAIN_OK = Scorer.result(ScoreOutcome.PLAIN_OK);
    private static final Scorer.@Nullable Result EMPTY = Scorer.result(ScoreOutcome.EMPTY);
    private static final System.Logger log = System.getLogger(Exchange.class.getName());

    /**
     * Where the exchange is. {@code SCORING}: a structured stream has ended upstream and its
     * end ({@code x_br} with the score, {@code [DONE]}) waits for the scorer.
     */
    private enum State { CONNECTING, WAITING, STREAMING, AGGREGATING, SCORING, DONE }

    private final ChannelHandlerContext client;
    private final UpstreamClient upstreamClient;
    private final ParsedRequest request;
    private final RoutePlan route;
    /** The provider key of the current attempt's endpoint (a secret: never logged). */
    private @Nullable String upstreamKey;
    private final OutcomeRecorder outcomes;
    private final Settlement settlement;
    private final Caller caller;
    private final int maxAttempts;
    private final Ticket ticket;
    private final String requestId;
    /** {@code X-BR-Efficiency} as sent: known at routing, the same in headers, trailers and {@code x_br}. */
    private final String efficiency;
    private final boolean clientTrailers;
    private final java.util.function.Consumer<io.netty.channel.ChannelFuture> onDone;
    private final long startNanos;
    private final long deadlineNanos;
    private final List<String> failures = new ArrayList<>(2);
    /** Endpoints passed over because their circuit, or a 401/403 of the key, would not let an attempt through. */
    private final List<Endpoint> skipped = new ArrayList<>(0);
    /** Endpoints passed over because the key is cooling down there under a 429's {@code Retry-After}. */
    private final List<Endpoint> cooling = new ArrayList<>(0);

    private State state = State.CONNECTING;
    /** Position in the plan of the endpoint being tried. */
    private int index;
    /** Endpoints actually tried (skipped ones not counted). */
    private int tried;
    /** The current attempt's outcome is still owed. */
    private boolean permitHeld;
    /** The current attempt holds a breaker permit whose verdict (due at the response head) is still owed. */
    private boolean breakerPermit;
    /** The one attempt without a breaker permit was made (panic mode). */
    private boolean panicked;
    private long attemptStartNanos;
    /** When the answer was complete, for a verdict given later; 0 until then. */
    private long attemptEndNanos;
    private long ttftNanos = -1;
    /** The current endpoint's stale pooled connection was retried on a new one. */
    private boolean retriedStale;
    /** An informational head (1xx) was read; its parts are dropped up to its last one. */
    private boolean skippingInformational;
    private boolean lastFailureTimeout;
    /** The last failed attempt answered 2xx with something unusable: the provider had the prompt. */
    private boolean lastFailureInvalid;
    private @Nullable Endpoint endpoint;
    private @Nullable Channel upstream;
    private @Nullable HttpResponse upstreamResponse;
    /** The one timer of the exchange; see {@link #onTimer()}. */
    private @Nullable ScheduledFuture<?> timer;
    private long timerAt;
    /** When the current attempt must have its response head; {@code Long.MAX_VALUE} once it has. */
    private long firstByteDeadline = Long.MAX_VALUE;
    private long lastReadNanos;
    private boolean readPending;
    private boolean upstreamReused;
    private boolean responseStarted;

    private @Nullable CompositeByteBuf aggregate;
    private @Nullable StreamRelay stream;
    /** The side copy of a stream that is scored or recorded, else null. */
    private @Nullable StreamCapture capture;

    /** What the answer cost, as settled; for the completion record. */
    private @Nullable Usage usage;
    private long costNano;
    private boolean costEstimated;
    /** When the first content event left for the client ({@code System.nanoTime()}), or -1. */
    private long firstEventNanos = -1;
    private boolean completionSent;
    /** The endpoint whose response the client got (its answer, or its 4xx), or null. */
    private @Nullable Endpoint answeredBy;

    public Exchange(ChannelHandlerContext client, UpstreamClient upstreamClient, ParsedRequest request,
                    RoutePlan route, Settlement settlement, Ticket ticket, String requestId, Caller caller,
                    boolean clientTrailers, java.util.function.Consumer<io.netty.channel.ChannelFuture> onDone) {
        this.client = client;
        this.upstreamClient = upstreamClient;
        this.request = request;
        this.route = route;
        this.settlement = settlement;
        this.outcomes = settlement.outcomes();
        this.caller = caller;
        this.maxAttempts = settlement.maxAttempts();
        this.ticket = ticket;
        this.requestId = requestId;
        this.efficiency = BigDecimal.valueOf(route.efficiency()).setScale(4, java.math.RoundingMode.HALF_UP)
                .stripTrailingZeros().toPlainString();
        this.clientTrailers = clientTrailers;
        this.onDone = onDone;
        this.startNanos = System.nanoTime();
        this.deadlineNanos = startNanos + route.first().timeouts().total().toNanos();
    }

    /** Starts the first attempt. Call on the client's event loop. */
    public void start() {
        guarded(() -> {
            // The first check comes at the earliest any timeout could expire, so a request that ends
            // sooner (nearly all) schedules and cancels exactly one timer.
            Timeouts t = route.first().timeouts();
            long first = Math.min(t.total().toNanos(), Math.min(t.firstByte().toNanos(), t.idle().toNanos()));
            armTimer(startNanos + first);
            attempt();
        });
    }

    /**
     * Runs {@code step} of the exchange from outside its own call chain (a listener, a timer, a
     * caller); whatever it throws ends the exchange in {@link #crashed}.
     */
    private void guarded(Runnable step) {
        try {
            step.run();
        } catch (Throwable e) {
            crashed(e);
        }
    }

    private void attempt() {
        if (state == State.DONE) {
            return;
        }
        if (!permitHeld) {
            while (true) {
                if (index >= route.endpoints().size() || tried >= maxAttempts || System.nanoTime() >= deadlineNanos) {
                    if (tried == 0 && !panicked && !skipped.isEmpty() && System.nanoTime() < deadlineNanos && panic()) {
                        break;
                    }
                    failAll();
                    return;
                }
                Endpoint next = route.endpoints().get(index);
                String key = route.access().upstreamKey(next);
                if (key == null) {
                    // the tenant's provider key was deleted since routing: not the endpoint's fault
                    index++;
                    continue;
                }
                RoutingState.Reach reach = outcomes.begin(next, key);
                if (reach == RoutingState.Reach.USABLE) {
                    endpoint = next;
                    upstreamKey = key;
                    breakerPermit = true;
                    retriedStale = false;
                    break;
                }
                (reach == RoutingState.Reach.COOLING ? cooling : skipped).add(next);
                index++;
            }
            permitHeld = true;
            tried++;
        }
        attemptStartNanos = System.nanoTime();
        attemptEndNanos = 0;
        ttftNanos = -1;
        state = State.CONNECTING;
        int connectMs = (int) Math.min(Integer.MAX_VALUE, endpoint.timeouts().connect().toMillis());
        // the retry after a stale connection takes a new one: the others parked as long may be stale too
        Future<Channel> f = upstreamClient.acquire(client.channel().eventLoop(), endpoint.origin(), connectMs,
                endpoint.timeouts().poolIdle().toNanos(), retriedStale);
        if (f.isDone()) {
            onConnected(f);
        } else {
            f.addListener(done -> guarded(() -> onConnected(f)));
        }
    }

    /**
     * Panic mode (DESIGN §7): every endpoint of the plan is open for this key, none cooling down
     * under a {@code Retry-After} alone; the one that opens soonest is tried without a permit
     * rather than refusing the request.
     */
    private boolean panic() {
        panicked = true;
        long now = outcomes.nowMillis();
        long best = Long.MAX_VALUE;
        for (Endpoint e : skipped) {
            String key = route.access().upstreamKey(e);
            long wait = key == null ? Long.MAX_VALUE : outcomes.millisUntilRetry(e, key, now);
            if (key != null && (endpoint == null || wait < best)) {
                endpoint = e;
                upstreamKey = key;
                best = wait;
            }
        }
        if (endpoint == null) {
            return false;
        }
        breakerPermit = false;
        log.log(System.Logger.Level.INFO, "request {0}: every endpoint is open; trying {1} (opens in {2} ms)",
                requestId, endpoint.candidateId(), best);
        return true;
    }

    private void onConnected(Future<Channel> f) {
        if (state == State.DONE) {
            if (f.isSuccess()) {
                UpstreamClient.discard(f.getNow());
            }
            return;
        }
        if (!f.isSuccess()) {
            failAttempt("connect failed: " + describe(f.cause()), false, 0, -1);
            return;
        }
        upstream = f.getNow();
        upstreamReused = UpstreamClient.reused(upstream);
        responseStarted = false;
        skippingInformational = false;
        UpstreamClient.attach(upstream, this);
        state = State.WAITING;
        ByteBuf body = request.upstreamBody(client.alloc(), endpoint);
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                endpoint.basePath() + request.upstreamPath(), body);
        HttpHeaders h = req.headers();
        h.set(HttpHeaderNames.HOST, endpoint.origin().authority());
        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + upstreamKey);
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        h.set(HttpHeaderNames.ACCEPT, request.stream() ? "text/event-stream" : "application/json");
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        h.set(HttpHeaderNames.USER_AGENT, "brainstorm-proxy");
        Channel ch = upstream;
        ch.writeAndFlush(req).addListener((ChannelFutureListener) w -> guarded(() -> {
            if (!w.isSuccess() && ch == upstream && state == State.WAITING) {
                failAttempt("sending the request failed: " + describe(w.cause()), false, 0, -1);
            }
        }));
        firstByteDeadline = System.nanoTime() + endpoint.timeouts().firstByte().toNanos();
        armTimer(firstByteDeadline);
        ch.read();
    }

    @Override
    public void onUpstreamRead(HttpObject msg) {
        // not guarded(): once per read part, so no lambda on this path
        try {
            read(msg);
        } catch (Throwable e) {
            crashed(e);
        }
    }

    private void read(HttpObject msg) {
        if (state == State.DONE) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (skippingInformational || msg instanceof HttpResponse head && informational(head)) {
            // 100 Continue, 103 Early Hints: not the answer, whose head comes after
            skippingInformational = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            onResponseHead(response);
            if (state != State.STREAMING && state != State.AGGREGATING) {
                // the attempt failed over; a content part of the same object is not ours any more
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            if (state == State.STREAMING) {
                touchIdle();
                onStreamContent(content);
            } else if (state == State.AGGREGATING) {
                touchIdle();
                onAggregateContent(content);
            } else {
                content.release();
            }
        }
    }

    private static boolean informational(HttpResponse head) {
        int status = head.status().code();
        return status >= 100 && status < 200 && status != 101;
    }

    private void onResponseHead(HttpResponse response) {
        responseStarted = true;
        firstByteDeadline = Long.MAX_VALUE;
        int status = response.status().code();
        if (status == 401 || status == 403 || status == 408 || status == 429 || status >= 500) {
            String retryAfter = response.headers().get(HttpHeaderNames.RETRY_AFTER);
            failAttempt("HTTP " + status + (status == 401 || status == 403 ? " (the provider rejected the configured key)"
                    : "") + (retryAfter != null ? ", retry-after " + retryAfter : ""), false, status,
                    RetryAfter.millis(retryAfter, System.currentTimeMillis()));
            return;
        }
        if (status / 100 == 2) {
            String wrong = AnswerCheck.head(request.stream(), response.headers().get(HttpHeaderNames.CONTENT_TYPE));
            if (wrong != null) {
                failAttempt("the answer was " + wrong, false, true, status, -1);
                return;
            }
        }
        if (breakerPermit) {
            // the breaker's verdict is the head's: a probe does not hold the circuit half-open to the answer's end
            breakerPermit = false;
            outcomes.responded(endpoint);
        }
        upstreamResponse = response;
        touchIdle();
        if (request.stream() && status / 100 == 2) {
            state = State.STREAMING;
            answeredBy = endpoint;
            if (scored() || settlement.recordContent()) {
                capture = settlement.scoring().capture();
            }
            stream = new StreamRelay(client, requestId, MAX_EVENT_BYTES, capture);
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpHeaders h = head.headers();
            h.set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
            HttpUtil.setTransferEncodingChunked(head, true);
            governanceHeaders(h);
            if (clientTrailers) {
                h.set(HttpHeaderNames.TRAILER, Headers.TRAILER_FIELDS);
            }
            client.write(head);
        } else {
            state = State.AGGREGATING;
            aggregate = client.alloc().compositeBuffer(1024);
        }
    }

    private void onStreamContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        try {
            stream.feed(content.content());
            if (ttftNanos < 0 && stream.relayedEvents() > 0) {
                firstEventNanos = System.nanoTime();
                ttftNanos = firstEventNanos - attemptStartNanos;
            }
        } catch (SseEventTooLongException e) {
            streamError("the upstream sent an event larger than " + MAX_EVENT_BYTES + " bytes");
            return;
        }
        if (last && state == State.STREAMING) {
            stream.end();
            releaseUpstream(HttpUtil.isKeepAlive(upstreamResponse));
            if (state != State.STREAMING) {
                return;
            }
            if (stream.sawDone()) {
                finishStream();
            } else {
                streamError("the upstream ended the stream without [DONE]");
            }
        }
    }

    private void finishStream() {
        Usage u = stream.usage();
        boolean estimated = u == null;
        if (estimated) {
            u = relayedUsageEstimate();
        }
        settled(u, estimated);
        if (scored()) {
            if (capture.overLimit()) {
                Scorer.Result overLimit = Scorer.result(ScoreOutcome.OVER_LIMIT);
                recordAnswer(200, overLimit);
                endStream(overLimit);
                return;
            }
            // the breaker and latency windows learn now; learning waits for the verdict
            answering();
            state = State.SCORING;
            cancelTimers();
            settlement.scoring().score(request.body(), capture.answer(), client.executor(), this::onStreamScored);
            return;
        }
        boolean good = estimated ? stream.relayedEvents() > 0 : u.completionTokens() > 0;
        Scorer.Result verdict = good ? PLAIN_OK : EMPTY;
        recordAnswer(200, verdict);
        endStream(verdict);
    }

    /** On the event loop: the scorer's verdict on a structured stream. */
    private void onStreamScored(Scorer.Result verdict) {
        guarded(() -> {
            outcomes.scored(route, endpoint, 200, verdict.score(), attemptMicrosAt(), ttftMicros(), costNano);
            if (state == State.SCORING) {
                endStream(verdict);
            } else {
                // the client left while the answer was being scored
                emit(200, "client_closed", verdict);
            }
        });
    }

    /** Writes the end of a complete stream: the usage chunk or {@code : x-br} comment, {@code [DONE]}, trailers. */
    private void endStream(Scorer.@Nullable Result verdict) {
        stream.writeEnd(request.clientWantsUsage(), xbr(costNano, costEstimated, verdict), Cost.formatUsd(costNano));
        LastHttpContent last = new DefaultLastHttpContent();
        if (clientTrailers) {
            last.trailingHeaders()
                    .set(Headers.ACTUAL_COST, Cost.formatUsd(costNano))
                    .set(Headers.EFFICIENCY, efficiency)
                    .set(Headers.FALLBACKS, failures.size())
                    .set(Headers.COST_ESTIMATED, costEstimated);
            if (verdict.score() >= 0) {
                last.trailingHeaders().set(Headers.SCORE, formatScore(verdict.score()));
            }
            if (ticket.budgeted()) {
                last.trailingHeaders().set(Headers.BUDGET_REMAINING, Cost.formatUsd(ticket.remainingNano()));
            }
        }
        complete(last);
        emit(200, null, verdict);
    }

    /**
     * What a stream cost when the provider reported no usage (or the stream broke): the prompt
     * estimate, and one completion token per content event relayed.
     */
    private Usage relayedUsageEstimate() {
        return new Usage(request.features().estimatedInputTokens(), stream.relayedEvents(), 0, 0);
    }

    /** An error after the stream began: one last event, no {@code [DONE]}, the body ends. */
    private void streamError(@Nullable String reason) {
        if (state != State.STREAMING) {
            return;
        }
        log.log(System.Logger.Level.WARNING, "request {0}: stream from {1} broke: {2}", requestId, endpoint.id(), reason);
        recordFailure(0);
        String message = "The upstream stream from " + endpoint.id() + " broke: " + reason
                + ". The answer is incomplete.";
        settled(relayedUsageEstimate(), true);
        endWithErrorEvent(message, "upstream_error");
        emit(200, "upstream_error", Scorer.ERROR);
    }

    /** Ends a stream whose head left with one error event (DESIGN §3): no {@code [DONE]}, the body ends. */
    private void endWithErrorEvent(String message, String code) {
        ObjectNode event = ParsedRequest.JSON.createObjectNode();
        event.put("id", requestId);
        event.put("object", "chat.completion.chunk");
        event.put("created", System.currentTimeMillis() / 1000);
        event.put("model", endpoint.model().id());
        ObjectNode error = event.putObject("error");
        error.put("message", message).put("type", "api_error").putNull("param").put("code", code);
        ObjectNode choice = event.putArray("choices").addObject();
        choice.put("index", 0).putObject("delta");
        choice.put("finish_reason", "error");
        event.set("x_br", xbr(costNano, true, null));
        client.write(new DefaultHttpContent(SseEvents.dataEvent(client.alloc(), event.toString())));
        complete(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void onAggregateContent(HttpContent content) {
        ByteBuf buf = content.content();
        if (aggregate.readableBytes() + buf.readableBytes() > MAX_AGGREGATE_BYTES) {
            content.release();
            failWith(ApiError.upstream("The answer from " + endpoint.id() + " is larger than "
                    + MAX_AGGREGATE_BYTES + " bytes."));
            return;
        }
        aggregate.addComponent(true, buf);
        if (content instanceof LastHttpContent) {
            boolean keepAlive = HttpUtil.isKeepAlive(upstreamResponse);
            releaseUpstream(keepAlive);
            finishAggregate();
        }
    }

    private void finishAggregate() {
        HttpResponseStatus status = upstreamResponse.status();
        if (status.code() / 100 == 2) {
            String wrong = AnswerCheck.body(aggregate, request.kind() == ParsedRequest.Kind.CHAT
                    ? AnswerCheck.Kind.CHAT : AnswerCheck.Kind.EMBEDDINGS, ParsedRequest.JSON.getFactory());
            if (wrong != null) {
                failAttempt("the answer was " + wrong, false, true, status.code(), -1);
                return;
            }
        }
        answeredBy = endpoint;
        Scorer.Result verdict;
        ByteBuf toScore = null;
        String errorCode = null;
        if (status.code() / 100 == 2) {
            Usage u = UsageParser.fromAnswer(aggregate, ParsedRequest.JSON);
            boolean estimated = u == null;
            if (estimated) {
                u = new Usage(request.features().estimatedInputTokens(), 0, 0, 0);
            }
            settled(u, estimated);
            if (scored()) {
                // the breaker and latency windows learn now; learning waits for the scorer's verdict
                answering();
                toScore = aggregate.retainedDuplicate();
                verdict = null;
            } else {
                boolean good = estimated ? aggregate.isReadable() : u.completionTokens() > 0;
                verdict = good ? PLAIN_OK : EMPTY;
                recordAnswer(status.code(), verdict);
            }
        } else {
            // a 4xx the upstream blames on the request: the endpoint is up, the answer says nothing of its quality
            settled(new Usage(0, 0, 0, 0), false);
            verdict = Scorer.NOT_APPLICABLE;
            recordAnswer(status.code(), verdict);
            errorCode = UpstreamErrors.code(aggregate);
        }
        String answerText = settlement.recordContent() && status.code() / 100 == 2 ? AnswerText.of(aggregate) : null;
        CompositeByteBuf body = aggregate;
        aggregate = null;
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        HttpHeaders h = response.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE,
                upstreamResponse.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json"));
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        governanceHeaders(h);
        h.set(Headers.ACTUAL_COST, Cost.formatUsd(costNano));
        if (costEstimated) {
            h.set(Headers.COST_ESTIMATED, "true");
        }
        complete(response);
        int code = status.code();
        if (toScore == null) {
            emit(code, errorCode, verdict, answerText);
        } else {
            // the answer has left; its score follows it into the learning state and the completion record
            long latency = attemptMicrosAt();
            settlement.scoring().scoreAnswer(request.body(), toScore, client.executor(), v -> guarded(() -> {
                outcomes.scored(route, endpoint, code, v.score(), latency, -1, costNano);
                emit(code, null, v, answerText);
            }));
        }
    }

    private void governanceHeaders(HttpHeaders h) {
        h.set(Headers.REQUEST_ID, requestId);
        h.set(Headers.SELECTED_MODEL, endpoint.model().id());
        h.set(Headers.ENDPOINT, endpoint.id());
        h.set(Headers.STRATEGY, route.strategy());
        h.set(Headers.EFFICIENCY, efficiency);
        h.set(Headers.FALLBACKS, failures.size());
        if (ticket.budgeted()) {
            // a stream's headers leave before its cost is known: what is left with its worst case held
            h.set(Headers.BUDGET_REMAINING, Cost.formatUsd(ticket.remainingNano()));
        }
        if (endpoint.simulated()) {
            h.set(Headers.SIMULATED, "true");
        }
    }


    /** A USD amount as a plain JSON number ({@code 0.0000461}, never {@code 4.61E-5}). */
    private static RawValue usd(long nano) {
        return new RawValue(Cost.formatUsd(nano));
    }

    private ObjectNode xbr(long costNano, boolean estimated, Scorer.@Nullable Result verdict) {
        ObjectNode x = ParsedRequest.JSON.createObjectNode();
        x.put("request_id", requestId);
        x.put("selected_model", endpoint.model().id());
        x.put("endpoint", endpoint.id());
        x.put("strategy", route.strategy());
        x.putRawValue("actual_cost", usd(costNano));
        x.putRawValue("efficiency", new RawValue(efficiency));
        x.put("fallbacks", failures.size());
        if (ticket.budgeted() && ticket.ended()) {
            x.putRawValue("budget_remaining", usd(ticket.remainingNano()));
        }
        if (estimated) {
            x.put("cost_estimated", true);
        }
        if (verdict != null && verdict.score() >= 0) {
            x.putRawValue("score", new RawValue(formatScore(verdict.score())));
        }
        if (endpoint.simulated()) {
            x.put("simulated", true);
        }
        return x;
    }

    @Override
    public void onUpstreamReadComplete() {
        // not guarded(): once per read batch, so no lambda on this path
        try {
            readComplete();
        } catch (Throwable e) {
            crashed(e);
        }
    }

    private void readComplete() {
        if (state == State.DONE || upstream == null) {
            return;
        }
        if (state == State.STREAMING) {
            client.flush();
            if (!client.channel().isWritable()) {
                readPending = true;
                return;
            }
        }
        upstream.read();
    }

    /** The client channel can take more: resume reading upstream. */
    public void onClientWritable() {
        guarded(() -> {
            if (readPending && upstream != null && state == State.STREAMING) {
                readPending = false;
                upstream.read();
            }
        });
    }

    @Override
    public void onUpstreamClosed() {
        guarded(() -> upstreamBroke("the connection closed"));
    }

    @Override
    public void onUpstreamError(Throwable cause) {
        guarded(() -> upstreamBroke(describe(cause)));
    }

    private void upstreamBroke(String reason) {
        upstream = null;
        switch (state) {
            case WAITING, AGGREGATING -> failAttempt(reason + " before the answer was complete", false, 0, -1);
            case STREAMING -> streamError(reason);
            default -> { }
        }
    }

    private void onFirstByteTimeout() {
        if (state == State.WAITING) {
            failAttempt("no response within " + endpoint.timeouts().firstByte().toMillis() + " ms", true, 0, -1);
        }
    }

    private void onIdleTimeout() {
        String reason = "no data for " + endpoint.timeouts().idle().toMillis() + " ms";
        if (state == State.STREAMING) {
            discardUpstream();
            streamError(reason);
        } else if (state == State.AGGREGATING) {
            discardUpstream();
            failWith(ApiError.upstreamTimeout("The answer from " + endpoint.id() + " stalled: " + reason + "."));
        }
    }

    private void onTotalTimeout() {
        String reason = "the request took longer than " + route.first().timeouts().total().toMillis() + " ms";
        discardUpstream();
        if (state == State.STREAMING) {
            streamError(reason);
        } else if (state != State.DONE) {
            failWith(ApiError.upstreamTimeout("No answer in time: " + reason + "."));
        }
    }

    /** Notes that the upstream sent something: the idle timeout counts from now. */
    private void touchIdle() {
        lastReadNanos = System.nanoTime();
    }

    /**
     * Makes sure the timer fires no later than {@code at}. It is only rescheduled when {@code at}
     * is earlier than the time it is set for; firing early is harmless, {@link #onTimer()} re-arms.
     */
    private void armTimer(long at) {
        if (timer != null && at >= timerAt) {
            return;
        }
        cancel(timer);
        timerAt = at;
        timer = client.executor().schedule(() -> guarded(this::onTimer), Math.max(0, at - System.nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    /** Checks the total, first-byte and idle deadlines; acts on the one that passed, else re-arms. */
    private void onTimer() {
        timer = null;
        if (state == State.DONE || state == State.SCORING) {
            return;
        }
        long now = System.nanoTime();
        if (now >= deadlineNanos) {
            onTotalTimeout();
            return;
        }
        long next = deadlineNanos;
        if (state == State.WAITING) {
            if (now >= firstByteDeadline) {
                onFirstByteTimeout();
                return;
            }
            next = Math.min(next, firstByteDeadline);
        } else if (state == State.STREAMING || state == State.AGGREGATING) {
            long idleAt = lastReadNanos + endpoint.timeouts().idle().toNanos();
            if (now >= idleAt) {
                onIdleTimeout();
                return;
            }
            next = Math.min(next, idleAt);
        }
        armTimer(next);
    }

    /**
     * This attempt failed before anything reached the client: try the next endpoint.
     *
     * @param status           the upstream's status, or 0 when it gave none
     * @param retryAfterMillis a 429's {@code Retry-After}, or -1
     */
    private void failAttempt(String reason, boolean timeout, int status, long retryAfterMillis) {
        failAttempt(reason, timeout, false, status, retryAfterMillis);
    }

    /** @param invalid a 2xx answer that is not what it claims ({@link AnswerCheck}) */
    private void failAttempt(String reason, boolean timeout, boolean invalid, int status, long retryAfterMillis) {
        // nothing read, or a 408: the provider had closed the kept-alive connection as idle
        boolean stale = upstreamReused && !timeout && state == State.WAITING && (!responseStarted || status == 408);
        discardUpstream();
        firstByteDeadline = Long.MAX_VALUE;
        upstreamResponse = null;
        if (aggregate != null) {
            aggregate.release();
            aggregate = null;
        }
        upstreamReused = false;
        if (stale && !retriedStale) {
            // one try on a new connection, with the same permit: not a failover, no verdict
            log.log(System.Logger.Level.DEBUG, "request {0}: kept-alive connection to {1} was stale ({2}); retrying"
                    + " on a new one", requestId, endpoint.candidateId(), reason);
            retriedStale = true;
            attempt();
            return;
        }
        failures.add(endpoint.id() + (route.endpoints().size() > 1 && crossesModels() ? " (" + endpoint.model().id()
                + ")" : "") + ": " + reason);
        lastFailureTimeout = timeout;
        lastFailureInvalid = invalid;
        log.log(System.Logger.Level.INFO, "request {0}: {1} failed: {2}", requestId, endpoint.candidateId(), reason);
        if (status == 429 || status == 401 || status == 403) {
            // the provider turned this tenant's key away: the key's, not the endpoint's, nor the model's
            permitHeld = false;
            if (status == 429) {
                outcomes.rateLimited(route, endpoint, upstreamKey, retryAfterMillis, attemptMicros(), breakerPermit);
            } else {
                outcomes.rejected(route, endpoint, upstreamKey, status, attemptMicros(), breakerPermit);
            }
            breakerPermit = false;
        } else {
            recordFailure(status);
        }
        index++;
        attempt();
    }

    private void failAll() {
        if (failures.isEmpty() && (!cooling.isEmpty() || !skipped.isEmpty())) {
            // every endpoint is cooling down under the provider's Retry-After for this key (or the deadline passed)
            long now = outcomes.nowMillis();
            long wait = Long.MAX_VALUE;
            for (List<Endpoint> list : List.of(cooling, skipped)) {
                for (Endpoint e : list) {
                    String key = route.access().upstreamKey(e);
                    if (key != null) {
                        wait = Math.min(wait, outcomes.millisUntilRetry(e, key, now));
                    }
                }
            }
            long seconds = Math.max(1, (Math.min(wait, Long.MAX_VALUE - 999) + 999) / 1000);
            failWith(ApiError.noHealthyEndpoint("Every endpoint of '" + route.request().model() + "' is cooling down:"
                    + " the provider asked to wait before it takes more requests with this tenant's provider key;"
                    + " retry in " + seconds + " s.", seconds));
            return;
        }
        String tried = String.join("; ", failures);
        String message = (failures.size() == 1 ? "The provider failed: " : "All " + failures.size()
                + " endpoints failed: ") + tried + ".";
        if (lastFailureInvalid) {
            // the provider had the prompt and answered: charged as a stream that broke before any content
            settled(new Usage(request.features().estimatedInputTokens(), 0, 0, 0), true);
            failWith(ApiError.upstreamInvalidResponse(message));
            return;
        }
        failWith(lastFailureTimeout ? ApiError.upstreamTimeout(message) : ApiError.upstream(message));
    }

    private void failWith(ApiError error) {
        if (state == State.DONE) {
            return;
        }
        recordFailure(0);
        if (state == State.STREAMING) {
            streamError(error.getMessage());
            return;
        }
        if (state == State.SCORING) {
            return;
        }
        FullHttpResponse response = Responses.error(client, error, requestId);
        if (usage != null) {
            response.headers().set(Headers.ACTUAL_COST, Cost.formatUsd(costNano));
            response.headers().set(Headers.COST_ESTIMATED, costEstimated);
        }
        complete(response);
        emit(error.status().code(), error.code(), failures.isEmpty() ? Scorer.NOT_APPLICABLE : Scorer.ERROR);
    }

    private void complete(Object lastMessage) {
        abandonPermit();
        // nothing billable came back (every attempt failed): a no-op when the answer settled it
        ticket.release();
        state = State.DONE;
        cancelTimers();
        discardUpstream();
        releaseBuffers();
        onDone.accept(client.writeAndFlush(lastMessage));
    }

    /** The client went away: stop at once and close the upstream request. */
    public void cancel() {
        guarded(this::cancelNow);
    }

    private void cancelNow() {
        if (state == State.DONE) {
            return;
        }
        if (state == State.SCORING) {
            // settled already; the verdict is owed by the scorer, which records the request when it comes
            state = State.DONE;
            releaseBuffers();
            return;
        }
        abandonPermit();
        boolean streaming = state == State.STREAMING;
        if (streaming) {
            settled(relayedUsageEstimate(), true);
        } else if (state == State.WAITING || state == State.AGGREGATING) {
            // the provider had the prompt: charge its estimate rather than nothing
            settled(new Usage(request.features().estimatedInputTokens(), 0, 0, 0), true);
        } else {
            ticket.release();
        }
        state = State.DONE;
        cancelTimers();
        discardUpstream();
        releaseBuffers();
        // 499: nginx's "client closed request"; a stream's client saw 200 before it left
        emit(streaming ? 200 : 499, "client_closed", Scorer.NOT_APPLICABLE);
    }

    /**
     * Ends the exchange without writing anything: its caller threw around it and answers the
     * request itself. The permit goes back with no verdict, the ticket is released.
     *
     * @return true when the client got nothing from this exchange (the caller may answer); false
     *         when part of an answer left (the caller must close the connection instead)
     */
    public boolean abort() {
        if (state == State.DONE) {
            return false;
        }
        boolean nothingSent = state != State.STREAMING && state != State.SCORING;
        state = State.DONE;
        try {
            abandonPermit();
            ticket.release();
        } finally {
            cancelTimers();
            discardUpstream();
            releaseBuffers();
        }
        emit(500, "internal_error", Scorer.NOT_APPLICABLE);
        return nothingSent;
    }

    /**
     * Something threw inside the exchange (a bug): end it in step with the client. One error
     * answer (a 500, or the error event once a stream's head left), the permit back with no
     * verdict (the gateway failed, not the endpoint), the ticket ended, the timer off, the upstream
     * connection closed. If even that throws, the client connection is closed: better than an
     * answer out of step with its request.
     */
    private void crashed(Throwable cause) {
        log.log(System.Logger.Level.ERROR, "request " + requestId + " failed inside the gateway", cause);
        if (state == State.DONE) {
            // the answer had left (complete() released everything); what threw came after it
            return;
        }
        String message = "Internal gateway error; quote request id " + requestId + " when reporting it.";
        State was = state;
        try {
            abandonPermit();
            cancelTimers();
            discardUpstream();
            if (was == State.STREAMING || was == State.SCORING) {
                if (!ticket.ended()) {
                    settled(relayedUsageEstimate(), true);
                }
                state = State.STREAMING;
                endWithErrorEvent(message, "internal_error");
                emit(200, "internal_error", Scorer.NOT_APPLICABLE);
            } else {
                if (!ticket.ended()) {
                    // nothing is charged: the completion record says so, whatever usage was read
                    usage = null;
                    costNano = 0;
                    costEstimated = false;
                }
                complete(Responses.error(client, ApiError.internal(message), requestId));
                emit(500, "internal_error", Scorer.NOT_APPLICABLE);
            }
        } catch (Throwable again) {
            log.log(System.Logger.Level.ERROR, "request " + requestId + ": could not end it cleanly; closing the"
                    + " client connection", again);
            if (state != State.DONE) {
                state = State.DONE;
                try {
                    abandonPermit();
                    ticket.release();
                } finally {
                    permitHeld = false;
                    cancelTimers();
                    discardUpstream();
                    releaseBuffers();
                    onDone.accept(client.close());
                }
            }
        }
    }

    /** The endpoint answered: its verdict, once. */
    private void recordAnswer(int status, Scorer.@Nullable Result verdict) {
        if (permitHeld) {
            permitHeld = false;
            outcomes.answered(route, endpoint, status, verdict.score(), attemptMicros(), ttftMicros(), costNano);
        }
    }

    /** The endpoint answered and its score will follow ({@link OutcomeRecorder#scored}): the permit's verdict now. */
    private void answering() {
        if (permitHeld) {
            permitHeld = false;
            attemptEndNanos = System.nanoTime();
            outcomes.answering(route, endpoint, attemptMicrosAt(), ttftMicros());
        }
    }

    private long ttftMicros() {
        return ttftNanos < 0 ? -1 : ttftNanos / 1000;
    }

    /** The attempt's duration to its end (when the answer was complete), for verdicts that come later. */
    private long attemptMicrosAt() {
        return ((attemptEndNanos != 0 ? attemptEndNanos : System.nanoTime()) - attemptStartNanos) / 1000;
    }

    /** Whether this answer goes through the scorer. */
    private boolean scored() {
        return settlement.scoring().applies(request.features().json(), request.features().tools());
    }

    /** Ends the request's budget hold with {@code u}'s cost and keeps it for the completion record. */
    private void settled(@Nullable Usage u, boolean estimated) {
        usage = u;
        costEstimated = estimated;
        costNano = Cost.nanoUsd(u, endpoint.price());
        ticket.settle(costNano);
    }

    private void emit(int status, @Nullable String errorCode, Scorer.@Nullable Result verdict) {
        emit(status, errorCode, verdict, capture != null && settlement.recordContent()
                ? AnswerText.of(capture.answer()) : null);
    }

    /** Hands this request's {@link Completion} to the sinks (audit, metrics, live feed); once. */
    private void emit(int status, @Nullable String errorCode, Scorer.@Nullable Result verdict, @Nullable String answerText) {
        if (completionSent) {
            return;
        }
        completionSent = true;
        long now = System.nanoTime();
        settlement.completions().accept(new Completion(System.currentTimeMillis(), requestId, caller.tenant(),
                caller.keyId(), caller.app(), request.kind() == ParsedRequest.Kind.CHAT ? "chat" : "embeddings",
                request.model(), answeredBy == null ? null : answeredBy.model().id(),
                endpoint == null ? null : endpoint.id(), route.strategy(), status, errorCode, request.stream(),
                usage == null ? 0 : usage.promptTokens(), usage == null ? 0 : usage.completionTokens(), costNano,
                costEstimated, (now - caller.arrivalNanos()) / 1000,
                firstEventNanos < 0 ? -1 : (firstEventNanos - caller.arrivalNanos()) / 1000, failures.size(),
                verdict.score(), verdict.outcome(),
                settlement.recordContent() ? AnswerText.prompt(request.body()) : null, answerText,
                request.kind() == ParsedRequest.Kind.CHAT ? Completion.formatOf(request.body()) : null));
    }

    private static String formatScore(double score) {
        return BigDecimal.valueOf(score).setScale(4, java.math.RoundingMode.HALF_UP).stripTrailingZeros()
                .toPlainString();
    }

    /** The endpoint failed: its verdict, once (the breaker's too unless the head had it). */
    private void recordFailure(int status) {
        if (permitHeld) {
            permitHeld = false;
            outcomes.failed(route, endpoint, status, attemptMicros(), breakerPermit);
            breakerPermit = false;
        }
    }

    /** No verdict (the client left): a breaker permit not yet judged goes back. */
    private void abandonPermit() {
        if (permitHeld) {
            permitHeld = false;
            if (breakerPermit) {
                outcomes.abandoned(endpoint);
            }
            breakerPermit = false;
        }
    }

    private long attemptMicros() {
        return (System.nanoTime() - attemptStartNanos) / 1000;
    }

    private boolean crossesModels() {
        String first = route.first().model().id();
        for (Endpoint e : route.endpoints()) {
            if (!e.model().id().equals(first)) {
                return true;
            }
        }
        return false;
    }

    private void releaseUpstream(boolean keepAlive) {
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            upstreamClient.release(ch, keepAlive);
        }
    }

    private void discardUpstream() {
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            UpstreamClient.discard(ch);
        }
    }

    private void releaseBuffers() {
        if (aggregate != null) {
            aggregate.release();
            aggregate = null;
        }
        if (stream != null) {
            stream.release();
        }
    }

    private void cancelTimers() {
        cancel(timer);
        timer = null;
    }

    private static void cancel(@Nullable ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }
}
