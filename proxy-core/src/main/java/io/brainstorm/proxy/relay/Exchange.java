package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.RoutePlan;
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
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.lang.System.Logger.Level;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One request's trip upstream and back: tries the route's candidates in order, relays the answer
 * (whole, or as a stream of SSE events), and works out what it cost. This class is the state
 * machine; its helpers hold the rest: {@link Attempts} (which endpoint next, permits, verdicts),
 * {@link Deadline} (the one timer), {@link ClientView} (the messages and the {@code X-BR-*}
 * governance), {@link Timeline} (the timestamps), {@link StreamRelay} (a stream's bytes).
 *
 * <p><b>States.</b> {@code CONNECTING} (an upstream connection is being acquired),
 * {@code WAITING} (the request was sent, the head is due), then {@code STREAMING} or
 * {@code AGGREGATING} (reading a stream or a whole answer), {@code SCORING} (a structured stream
 * has ended upstream; its end waits for the scorer), {@code DONE} (nothing more is written).
 *
 * <p><b>Failover.</b> Connect errors, 401/403/408/429/5xx answers, resets, first-byte timeouts and
 * 2xx answers that are not what they claim ({@link AnswerCheck}: checked at the head for the
 * content type, at the end for a whole answer's JSON) move on to the next endpoint of the plan
 * while nothing has reached the client ({@link Attempts} says which, and when none is left). Once a
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
 * <p><b>Streams.</b> Events pass through as slices of the upstream's own buffers, flushed at the
 * end of each upstream read batch; only the usage event and {@code [DONE]} are touched
 * ({@link StreamRelay}).
 *
 * <p><b>Backpressure.</b> Upstream connections run with auto-read off; the next read is issued
 * only while the client channel is writable, and resumes from {@link #onClientWritable()}.
 *
 * <p><b>Threading.</b> Everything runs on the client channel's event loop, helpers included;
 * upstream connections are opened on it, so no field needs to be {@code volatile}.
 *
 * <p><b>Reference counting.</b> Buffers read from upstream are either written to the client
 * (which releases them), held in {@link #aggregate} or {@link #stream} (released in
 * {@link #releaseBuffers()} on every end), or released where they are dropped.
 */
public final class Exchange implements UpstreamListener {
    static final int MAX_AGGREGATE_BYTES = 64 * 1024 * 1024;
    static final int MAX_EVENT_BYTES = 4 * 1024 * 1024;
    private static final Scorer.Result PLAIN_OK = Scorer.result(ScoreOutcome.PLAIN_OK);
    private static final Scorer.Result EMPTY = Scorer.result(ScoreOutcome.EMPTY);
    private static final System.Logger log = System.getLogger(Exchange.class.getName());

    private enum State { CONNECTING, WAITING, STREAMING, AGGREGATING, SCORING, DONE }

    private final ChannelHandlerContext client;
    private final Upstreams upstreams;
    private final ParsedRequest request;
    private final RoutePlan route;
    private final Settlement settlement;
    private final Caller caller;
    private final Ticket ticket;
    private final String requestId;
    private final Consumer<ChannelFuture> onDone;
    private final Timeline timeline;
    private final Attempts attempts;
    private final ClientView view;
    private final Deadline deadline;

    private State state = State.CONNECTING;
    private Channel upstream;
    private HttpResponse upstreamResponse;
    private boolean upstreamReused;
    private boolean responseStarted;
    /** An informational head (1xx) was read; its parts are dropped up to its last one. */
    private boolean skippingInformational;
    private boolean readPending;
    private CompositeByteBuf aggregate;
    private StreamRelay stream;
    /** The side copy of a stream that is scored or recorded, else null. */
    private StreamCapture capture;

    /** What the answer cost, as settled; for the completion record. */
    private Usage usage;
    private long costNano;
    private boolean costEstimated;
    private boolean completionSent;
    /** The endpoint whose response the client got (its answer, or its 4xx), or null. */
    private Endpoint answeredBy;

    /**
     * @param clientTrailers whether the client asked for trailers ({@code TE: trailers})
     * @param onDone         gets the write of the exchange's last message (or the client's close)
     */
    public Exchange(ChannelHandlerContext client, UpstreamClient upstreamClient, ParsedRequest request,
                    RoutePlan route, Settlement settlement, Ticket ticket, String requestId, Caller caller,
                    boolean clientTrailers, Consumer<ChannelFuture> onDone) {
        this(client, Upstreams.of(upstreamClient), request, route, settlement, ticket, requestId, caller,
                clientTrailers, onDone, System::nanoTime);
    }

    /** @param clock the clock of {@code caller}'s arrival, read for every timeout and latency */
    Exchange(ChannelHandlerContext client, Upstreams upstreams, ParsedRequest request, RoutePlan route,
             Settlement settlement, Ticket ticket, String requestId, Caller caller, boolean clientTrailers,
             Consumer<ChannelFuture> onDone, LongSupplier clock) {
        this.client = client;
        this.upstreams = upstreams;
        this.request = request;
        this.route = route;
        this.settlement = settlement;
        this.caller = caller;
        this.ticket = ticket;
        this.requestId = requestId;
        this.onDone = onDone;
        this.timeline = new Timeline(clock, caller.arrivalNanos());
        this.attempts = new Attempts(route, settlement.outcomes(), timeline, settlement.maxAttempts(), requestId);
        this.view = new ClientView(requestId, route, ticket, attempts, clientTrailers);
        this.deadline = new Deadline(client.executor(), timeline, route.first().timeouts().total(),
                () -> guarded(this::onTimer));
    }

    /** Starts the first attempt. Call on the client's event loop. */
    public void start() {
        guarded(() -> {
            Timeouts t = route.first().timeouts();
            deadline.start(t.firstByte(), t.idle());
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
        if (!attempts.next(deadline)) {
            failAll();
            return;
        }
        timeline.attemptStarted();
        state = State.CONNECTING;
        // the retry after a stale connection takes a new one: the others parked as long may be stale too
        Future<Channel> f = upstreams.acquire(client.channel().eventLoop(), attempts.endpoint(),
                attempts.retriedStale());
        if (f.isDone()) {
            onConnected(f);
        } else {
            f.addListener(done -> guarded(() -> onConnected(f)));
        }
    }

    private void onConnected(Future<Channel> f) {
        if (state == State.DONE) {
            if (f.isSuccess()) {
                upstreams.discard(f.getNow());
            }
            return;
        }
        if (!f.isSuccess()) {
            failAttempt("connect failed: " + describe(f.cause()), false, 0, -1);
            return;
        }
        upstream = f.getNow();
        upstreamReused = upstreams.reused(upstream);
        responseStarted = false;
        skippingInformational = false;
        upstreams.attach(upstream, this);
        state = State.WAITING;
        ByteBuf body = request.upstreamBody(client.alloc(), attempts.endpoint());
        Channel ch = upstream;
        ch.writeAndFlush(view.upstreamRequest(body, request.upstreamPath(), request.stream()))
                .addListener((ChannelFutureListener) w -> guarded(() -> {
                    if (!w.isSuccess() && ch == upstream && state == State.WAITING) {
                        failAttempt("sending the request failed: " + describe(w.cause()), false, 0, -1);
                    }
                }));
        deadline.awaitHead(attempts.endpoint().timeouts().firstByte());
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
                deadline.touch();
                onStreamContent(content);
            } else if (state == State.AGGREGATING) {
                deadline.touch();
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
        attempts.responded();
        upstreamResponse = response;
        deadline.reading(attempts.endpoint().timeouts().idle());
        if (request.stream() && status / 100 == 2) {
            state = State.STREAMING;
            answeredBy = attempts.endpoint();
            if (scored() || settlement.recordContent()) {
                capture = settlement.scoring().capture();
            }
            stream = new StreamRelay(client, requestId, MAX_EVENT_BYTES, capture);
            client.write(view.streamHead());
        } else {
            state = State.AGGREGATING;
            aggregate = client.alloc().compositeBuffer(1024);
        }
    }

    private void onStreamContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        try {
            stream.feed(content.content());
            if (stream.relayedEvents() > 0) {
                timeline.contentRelayed();
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
                attempts.answered(200, overLimit.score(), costNano);
                endStream(overLimit);
                return;
            }
            // the breaker and latency windows learn now; learning waits for the verdict
            attempts.answering();
            state = State.SCORING;
            deadline.stop();
            settlement.scoring().score(request.body(), capture.answer(), client.executor(), this::onStreamScored);
            return;
        }
        boolean good = estimated ? stream.relayedEvents() > 0 : u.completionTokens() > 0;
        Scorer.Result verdict = good ? PLAIN_OK : EMPTY;
        attempts.answered(200, verdict.score(), costNano);
        endStream(verdict);
    }

    /** On the event loop: the scorer's verdict on a structured stream. */
    private void onStreamScored(Scorer.Result verdict) {
        guarded(() -> {
            attempts.scored(200, verdict.score(), timeline.attemptMicrosToEnd(), timeline.ttftMicros(), costNano);
            if (state == State.SCORING) {
                endStream(verdict);
            } else {
                // the client left while the answer was being scored
                emit(200, "client_closed", verdict);
            }
        });
    }

    /** Writes the end of a complete stream: the usage chunk or {@code : x-br} comment, {@code [DONE]}, trailers. */
    private void endStream(Scorer.Result verdict) {
        stream.writeEnd(request.clientWantsUsage(), view.xbr(costNano, costEstimated, verdict), Cost.formatUsd(costNano));
        complete(view.streamEnd(costNano, costEstimated, verdict));
        emit(200, null, verdict);
    }

    /**
     * What a stream cost when the provider reported no usage (or the stream broke): the prompt
     * estimate, and one completion token per content event relayed.
     */
    private Usage relayedUsageEstimate() {
        return new Usage(request.features().estimatedInputTokens(), stream.relayedEvents(), 0, 0);
    }

    /** What a request cost whose prompt the provider had, with nothing relayed: the prompt estimate. */
    private Usage promptEstimate() {
        return new Usage(request.features().estimatedInputTokens(), 0, 0, 0);
    }

    /** An error after the stream began: one last event, no {@code [DONE]}, the body ends. */
    private void streamError(String reason) {
        if (state != State.STREAMING) {
            return;
        }
        Endpoint endpoint = attempts.endpoint();
        log.log(Level.WARNING, "request {0}: stream from {1} broke: {2}", requestId, endpoint.id(), reason);
        attempts.recordFailure(0);
        String message = "The upstream stream from " + endpoint.id() + " broke: " + reason + ". The answer is incomplete.";
        settled(relayedUsageEstimate(), true);
        endWithErrorEvent(message, "upstream_error");
        emit(200, "upstream_error", Scorer.ERROR);
    }

    /** Ends a stream whose head left with one error event (DESIGN §3): no {@code [DONE]}, the body ends. */
    private void endWithErrorEvent(String message, String code) {
        client.write(new DefaultHttpContent(view.errorEvent(client.alloc(), message, code, costNano)));
        complete(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void onAggregateContent(HttpContent content) {
        ByteBuf buf = content.content();
        if (aggregate.readableBytes() + buf.readableBytes() > MAX_AGGREGATE_BYTES) {
            content.release();
            failWith(ApiError.upstream("The answer from " + attempts.endpoint().id() + " is larger than "
                    + MAX_AGGREGATE_BYTES + " bytes."));
            return;
        }
        aggregate.addComponent(true, buf);
        if (content instanceof LastHttpContent) {
            releaseUpstream(HttpUtil.isKeepAlive(upstreamResponse));
            finishAggregate();
        }
    }

    private void finishAggregate() {
        HttpResponseStatus status = upstreamResponse.status();
        int code = status.code();
        if (code / 100 == 2) {
            String wrong = AnswerCheck.body(aggregate, request.kind() == ParsedRequest.Kind.CHAT
                    ? AnswerCheck.Kind.CHAT : AnswerCheck.Kind.EMBEDDINGS, ParsedRequest.JSON.getFactory());
            if (wrong != null) {
                failAttempt("the answer was " + wrong, false, true, code, -1);
                return;
            }
        }
        answeredBy = attempts.endpoint();
        Scorer.Result verdict;
        ByteBuf toScore = null;
        String errorCode = null;
        if (code / 100 == 2) {
            Usage u = UsageParser.fromAnswer(aggregate, ParsedRequest.JSON);
            boolean estimated = u == null;
            settled(estimated ? promptEstimate() : u, estimated);
            if (scored()) {
                // the breaker and latency windows learn now; learning waits for the scorer's verdict
                attempts.answering();
                toScore = aggregate.retainedDuplicate();
                verdict = null;
            } else {
                boolean good = estimated ? aggregate.isReadable() : u.completionTokens() > 0;
                verdict = good ? PLAIN_OK : EMPTY;
                attempts.answered(code, verdict.score(), costNano);
            }
        } else {
            // a 4xx the upstream blames on the request: the endpoint is up, the answer says nothing of its quality
            settled(new Usage(0, 0, 0, 0), false);
            verdict = Scorer.NOT_APPLICABLE;
            attempts.answered(code, verdict.score(), costNano);
            errorCode = UpstreamErrors.code(aggregate);
        }
        String answerText = settlement.recordContent() && code / 100 == 2 ? AnswerText.of(aggregate) : null;
        CompositeByteBuf body = aggregate;
        aggregate = null;
        complete(view.answer(status, body, upstreamResponse.headers().get(HttpHeaderNames.CONTENT_TYPE,
                "application/json"), costNano, costEstimated));
        if (toScore == null) {
            emit(code, errorCode, verdict, answerText);
        } else {
            // the answer has left; its score follows it into the learning state and the completion record
            long latency = timeline.attemptMicrosToEnd();
            settlement.scoring().scoreAnswer(request.body(), toScore, client.executor(), v -> guarded(() -> {
                attempts.scored(code, v.score(), latency, -1, costNano);
                emit(code, null, v, answerText);
            }));
        }
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

    /** The timer fired: acts on the timeout that passed, if one did. */
    private void onTimer() {
        if (state == State.DONE || state == State.SCORING) {
            return;
        }
        Deadline.Passed passed = deadline.expired();
        if (passed == null) {
            return;
        }
        switch (passed) {
            case TOTAL -> {
                String reason = "the request took longer than " + route.first().timeouts().total().toMillis() + " ms";
                discardUpstream();
                if (state == State.STREAMING) {
                    streamError(reason);
                } else {
                    failWith(ApiError.upstreamTimeout("No answer in time: " + reason + "."));
                }
            }
            case FIRST_BYTE -> {
                if (state == State.WAITING) {
                    failAttempt("no response within " + attempts.endpoint().timeouts().firstByte().toMillis() + " ms",
                            true, 0, -1);
                }
            }
            case IDLE -> {
                String reason = "no data for " + attempts.endpoint().timeouts().idle().toMillis() + " ms";
                if (state == State.STREAMING) {
                    discardUpstream();
                    streamError(reason);
                } else if (state == State.AGGREGATING) {
                    discardUpstream();
                    failWith(ApiError.upstreamTimeout("The answer from " + attempts.endpoint().id() + " stalled: "
                            + reason + "."));
                }
            }
        }
    }

    private void failAttempt(String reason, boolean timeout, int status, long retryAfterMillis) {
        failAttempt(reason, timeout, false, status, retryAfterMillis);
    }

    /**
     * This attempt failed before anything reached the client: retry a stale connection, else try the next endpoint.
     *
     * @param invalid          a 2xx answer that is not what it claims ({@link AnswerCheck})
     * @param status           the upstream's status, or 0 when it gave none
     * @param retryAfterMillis a 429's {@code Retry-After}, or -1
     */
    private void failAttempt(String reason, boolean timeout, boolean invalid, int status, long retryAfterMillis) {
        // nothing read, or a 408: the provider had closed the kept-alive connection as idle
        boolean stale = upstreamReused && !timeout && state == State.WAITING && (!responseStarted || status == 408);
        discardUpstream();
        deadline.attemptEnded();
        upstreamResponse = null;
        if (aggregate != null) {
            aggregate.release();
            aggregate = null;
        }
        upstreamReused = false;
        if (!stale || !attempts.retryOnNewConnection(reason)) {
            attempts.failed(reason, timeout, invalid, status, retryAfterMillis);
        }
        attempt();
    }

    private void failAll() {
        ApiError error = attempts.exhausted();
        if (attempts.lastFailureInvalid()) {
            // the provider had the prompt and answered: charged as a stream that broke before any content
            settled(promptEstimate(), true);
        }
        failWith(error);
    }

    private void failWith(ApiError error) {
        if (state == State.DONE) {
            return;
        }
        attempts.recordFailure(0);
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
        emit(error.status().code(), error.code(), attempts.fallbacks() == 0 ? Scorer.NOT_APPLICABLE : Scorer.ERROR);
    }

    private void complete(Object lastMessage) {
        attempts.abandon();
        // nothing billable came back (every attempt failed): a no-op when the answer settled it
        ticket.release();
        state = State.DONE;
        stopAll();
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
        attempts.abandon();
        boolean streaming = state == State.STREAMING;
        if (streaming) {
            settled(relayedUsageEstimate(), true);
        } else if (state == State.WAITING || state == State.AGGREGATING) {
            // the provider had the prompt: charge its estimate rather than nothing
            settled(promptEstimate(), true);
        } else {
            ticket.release();
        }
        state = State.DONE;
        stopAll();
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
        endQuietly();
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
        log.log(Level.ERROR, "request " + requestId + " failed inside the gateway", cause);
        if (state == State.DONE) {
            // the answer had left (complete() released everything); what threw came after it
            return;
        }
        String message = "Internal gateway error; quote request id " + requestId + " when reporting it.";
        State was = state;
        try {
            attempts.abandon();
            deadline.stop();
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
            log.log(Level.ERROR, "request " + requestId + ": could not end it cleanly; closing the client connection",
                    again);
            if (state != State.DONE) {
                try {
                    endQuietly();
                } finally {
                    onDone.accept(client.close());
                }
            }
        }
    }

    /** Ends the exchange with nothing written: the permit back with no verdict, the ticket released, all let go. */
    private void endQuietly() {
        state = State.DONE;
        try {
            attempts.abandon();
            ticket.release();
        } finally {
            stopAll();
        }
    }

    /** Whether this answer goes through the scorer. */
    private boolean scored() {
        return settlement.scoring().applies(request.features().json(), request.features().tools());
    }

    /** Ends the request's budget hold with {@code u}'s cost and keeps it for the completion record. */
    private void settled(Usage u, boolean estimated) {
        usage = u;
        costEstimated = estimated;
        costNano = Cost.nanoUsd(u, attempts.endpoint().price());
        ticket.settle(costNano);
    }

    private void emit(int status, String errorCode, Scorer.Result verdict) {
        emit(status, errorCode, verdict, capture != null && settlement.recordContent()
                ? AnswerText.of(capture.answer()) : null);
    }

    /** Hands this request's {@link Completion} to the sinks (audit, metrics, live feed); once. */
    private void emit(int status, String errorCode, Scorer.Result verdict, String answerText) {
        if (completionSent) {
            return;
        }
        completionSent = true;
        Endpoint endpoint = attempts.endpoint();
        settlement.completions().accept(new Completion(System.currentTimeMillis(), requestId, caller.tenant(),
                caller.keyId(), caller.app(), request.kind() == ParsedRequest.Kind.CHAT ? "chat" : "embeddings",
                request.model(), answeredBy == null ? null : answeredBy.model().id(),
                endpoint == null ? null : endpoint.id(), route.strategy(), status, errorCode, request.stream(),
                usage == null ? 0 : usage.promptTokens(), usage == null ? 0 : usage.completionTokens(), costNano,
                costEstimated, timeline.latencyMicros(), timeline.firstEventMicros(), attempts.fallbacks(),
                verdict.score(), verdict.outcome(),
                settlement.recordContent() ? AnswerText.prompt(request.body()) : null, answerText,
                request.kind() == ParsedRequest.Kind.CHAT ? Completion.formatOf(request.body()) : null));
    }

    private void releaseUpstream(boolean keepAlive) {
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            upstreams.release(ch, keepAlive);
        }
    }

    private void discardUpstream() {
        Channel ch = upstream;
        upstream = null;
        if (ch != null) {
            upstreams.discard(ch);
        }
    }

    /** Lets go of everything the exchange holds while it runs: the timer, the upstream connection, the buffers. */
    private void stopAll() {
        deadline.stop();
        discardUpstream();
        releaseBuffers();
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

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }
}
