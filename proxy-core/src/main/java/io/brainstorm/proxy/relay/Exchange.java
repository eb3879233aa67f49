package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.api.Responses;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.brainstorm.proxy.upstream.UpstreamListener;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One request's trip upstream and back: tries the route's candidates in order, relays the answer
 * (whole, or as a stream of SSE events), and works out what it cost. This class is the state
 * machine; its helpers hold the rest: {@link Attempts} (which endpoint next, permits, failover,
 * verdicts), {@link UpstreamCall} (the attempt's connection, backpressure), {@link Deadline} (the
 * one timer), {@link WholeAnswer} and {@link StreamedAnswer} (the answer in its states),
 * {@link ClientView} (the messages, the {@code X-BR-*} governance), {@link Bill} (the cost, the
 * budget hold), {@link Timeline} (the timestamps), {@link CompletionRecord} (the request's record).
 *
 * <p><b>States.</b> {@code CONNECTING} (an upstream connection is being acquired), {@code WAITING}
 * (the request was sent, the head is due), then {@code STREAMING} or {@code AGGREGATING} (a stream
 * or a whole answer is read), {@code SCORING} (a structured stream ended upstream; its end waits
 * for the scorer), {@code DONE} (nothing more is written). A failure in {@code CONNECTING},
 * {@code WAITING} or {@code AGGREGATING} fails over to the next attempt while nothing has reached
 * the client (a stale kept-alive connection is retried once on a new one, with no verdict); once
 * a stream's head left, it ends the stream with an error event (docs/architecture.md §3).
 *
 * <p><b>Errors.</b> Whatever throws inside the exchange (an upstream read, a timer task, a future
 * listener, a scorer callback) ends it in {@link #crashed}, with one error answer and nothing after.
 * Each attempt's end goes to the {@link OutcomeRecorder} once, the {@link Completion} to the sinks once.
 *
 * <p><b>Threading.</b> Everything, helpers included, runs on the client channel's event loop;
 * upstream connections are opened on it, so no field needs to be {@code volatile}.
 *
 * <p><b>Reference counting.</b> Buffers read from upstream are either written to the client
 * (which releases them), held in {@link #answer} or {@link #stream} (released in
 * {@link #releaseBuffers()} on every end), or released where they are dropped.
 */
public final class Exchange implements UpstreamListener {
    private static final System.Logger log = System.getLogger(Exchange.class.getName());

    private enum State {
        CONNECTING,
        WAITING,
        STREAMING,
        AGGREGATING,
        SCORING,
        DONE
    }

    private final ChannelHandlerContext client;
    private final ParsedRequest request;
    private final RoutePlan route;
    private final String requestId;
    private final Consumer<ChannelFuture> onDone;
    private final Timeline timeline;
    private final Attempts attempts;
    private final UpstreamCall call;
    private final ClientView view;
    private final Deadline deadline;
    private final Bill bill;
    /** This request's record, started by the server; {@link #emit} ends it. */
    private final CompletionRecord record;
    /** The Messages client whose answers are in Anthropic's shape, or null for an OpenAI client. */
    private final @Nullable MessagesClient messages;
    /** What an answer's state works with, made once since none of it changes between attempts. */
    private final AnswerParts parts;

    private State state = State.CONNECTING;
    /** The answer being read in {@code AGGREGATING}, else null. */
    private @Nullable WholeAnswer answer;
    /** The answer being relayed in {@code STREAMING} and {@code SCORING}, else null. */
    private @Nullable StreamedAnswer stream;
    /** The current attempt's translation when its endpoint speaks Anthropic's format, else null. */
    private @Nullable AnthropicAttempt anthropic;

    /**
     * @param clientTrailers whether the client asked for trailers ({@code TE: trailers})
     * @param onDone         gets the write of the exchange's last message (or the client's close)
     * @param messages       for a client of the Anthropic Messages API ({@code POST /v1/messages}):
     *                       its request, of which {@code request} is the OpenAI form; every answer
     *                       then goes back in Anthropic's shape ({@link MessagesClient}). Null for
     *                       an OpenAI client.
     */
    public Exchange(
            ChannelHandlerContext client,
            UpstreamClient upstreamClient,
            ParsedRequest request,
            RoutePlan route,
            Settlement settlement,
            Ticket ticket,
            Completion.Builder completion,
            boolean clientTrailers,
            Consumer<ChannelFuture> onDone,
            @Nullable MessagesClient messages) {
        this(
                client,
                Upstreams.of(upstreamClient),
                request,
                route,
                settlement,
                ticket,
                completion,
                clientTrailers,
                onDone,
                System::nanoTime,
                messages);
    }

    /**
     * @param clock    the clock of {@code completion}'s arrival, read for every timeout and latency
     * @param messages the Messages client whose request this is, or null for an OpenAI client
     */
    Exchange(
            ChannelHandlerContext client,
            Upstreams upstreams,
            ParsedRequest request,
            RoutePlan route,
            Settlement settlement,
            Ticket ticket,
            Completion.Builder completion,
            boolean clientTrailers,
            Consumer<ChannelFuture> onDone,
            LongSupplier clock,
            @Nullable MessagesClient messages) {
        this.client = client;
        this.messages = messages;
        this.request = request;
        this.route = route;
        this.requestId = completion.requestId();
        this.onDone = onDone;
        this.timeline = new Timeline(clock, completion.arrivalNanos());
        this.attempts = new Attempts(route, settlement.outcomes(), timeline, settlement.maxAttempts(), this.requestId);
        this.call = new UpstreamCall(upstreams);
        this.view = new ClientView(this.requestId, route, ticket, attempts, clientTrailers, messages);
        this.deadline = new Deadline(
                client.executor(), timeline, route.first().timeouts().total(), () -> guarded(this::onTimer));
        this.bill = new Bill(ticket, request.features().estimatedInputTokens());
        this.record = new CompletionRecord(completion, request, settlement, attempts, bill, timeline);
        boolean scored = settlement
                .scoring()
                .applies(request.features().json(), request.features().tools());
        this.parts = new AnswerParts(
                this, client, requestId, request, settlement, scored, attempts, view, bill, timeline, record, messages);
    }

    /** Starts the first attempt. Call on the client's event loop. */
    public void start() {
        guarded(() -> {
            deadline.start(route.first().timeouts());
            attempt();
        });
    }

    /** Runs a step from outside the call chain (listener, timer, caller); a throw ends in {@link #crashed}. */
    void guarded(Runnable step) {
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
            if (attempts.lastFailureInvalid()) {
                // the provider had the prompt and answered: charged as a stream that broke before any content
                bill.settleEstimate(0, attempts.endpoint());
            }
            failWith(attempts.exhausted());
            return;
        }
        try {
            anthropic = AnthropicAttempt.of(request, attempts.endpoint(), messages);
        } catch (ApiError e) {
            // the request cannot go there as it is (n: 2 at Anthropic): on down the plan, no verdict
            attempts.unsuited(e);
            attempt();
            return;
        }
        timeline.attemptStarted();
        state = State.CONNECTING;
        // the retry after a stale connection takes a new one: the others parked as long may be stale too
        Future<Channel> f = call.acquire(client.channel().eventLoop(), attempts.endpoint(), attempts.retriedStale());
        if (f.isDone()) {
            onConnected(f);
        } else {
            f.addListener(done -> guarded(() -> onConnected(f)));
        }
    }

    private void onConnected(Future<Channel> f) {
        if (state == State.DONE) {
            if (f.isSuccess()) {
                call.discardUnused(f.getNow());
            }
            return;
        }
        if (!f.isSuccess()) {
            failAttempt("connect failed: " + UpstreamCall.describe(f.cause()));
            return;
        }
        Channel ch = f.getNow();
        call.open(ch, this);
        state = State.WAITING;
        AnthropicAttempt anthropic = this.anthropic;
        ByteBuf body = anthropic == null
                ? request.upstreamBody(client.alloc(), attempts.endpoint())
                : anthropic.body(client.alloc());
        ch.writeAndFlush(view.upstreamRequest(body, request.upstreamPath(), request.stream(), anthropic))
                .addListener((ChannelFutureListener) w -> guarded(() -> {
                    if (!w.isSuccess() && ch == call.channel() && state == State.WAITING) {
                        failAttempt("sending the request failed: " + UpstreamCall.describe(w.cause()));
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
        if (call.skipInformational(msg)) {
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
                stream().read(content, call);
            } else if (state == State.AGGREGATING) {
                deadline.touch();
                answer().read(content, call);
            } else {
                content.release();
            }
        }
    }

    private void onResponseHead(HttpResponse response) {
        call.responseStarted();
        UpstreamErrors.Rejection rejected = UpstreamErrors.rejection(response, request.stream(), anthropic != null);
        if (rejected != null) {
            failAttempt(rejected.reason(), false, rejected.invalid(), rejected.status(), rejected.retryAfterMillis());
            return;
        }
        attempts.responded();
        call.answering(response);
        deadline.reading(attempts.endpoint().timeouts().idle());
        if (request.stream() && response.status().code() / 100 == 2) {
            state = State.STREAMING;
            attempts.relaying();
            stream = new StreamedAnswer(parts, anthropic);
        } else {
            state = State.AGGREGATING;
            answer = new WholeAnswer(parts, response, anthropic);
        }
    }

    @Override
    public void onUpstreamReadComplete() {
        // not guarded(): once per read batch, so no lambda on this path
        try {
            if (state != State.DONE) {
                call.readNext(client, state == State.STREAMING);
            }
        } catch (Throwable e) {
            crashed(e);
        }
    }

    /** The client channel can take more: resume reading upstream. */
    public void onClientWritable() {
        guarded(() -> {
            if (state == State.STREAMING) {
                call.resume();
            }
        });
    }

    @Override
    public void onUpstreamClosed() {
        guarded(() -> upstreamBroke("the connection closed"));
    }

    @Override
    public void onUpstreamError(Throwable cause) {
        guarded(() -> upstreamBroke(UpstreamCall.describe(cause)));
    }

    private void upstreamBroke(String reason) {
        call.lost();
        switch (state) {
            case WAITING, AGGREGATING -> failAttempt(reason + " before the answer was complete");
            case STREAMING -> stream().broke(reason);
            default -> {}
        }
    }

    /** A structured stream ended upstream: its end waits for the scorer, no timeout counts. */
    void awaitScore() {
        state = State.SCORING;
        deadline.stop();
    }

    /** Whether the exchange still waits for the scorer (the client did not leave meanwhile). */
    boolean awaitingScore() {
        return state == State.SCORING;
    }

    /** The timer fired: acts on the timeout that passed, if one did. */
    private void onTimer() {
        Deadline.Passed passed = state == State.DONE || state == State.SCORING ? null : deadline.expired();
        if (passed == null) {
            return;
        }
        if (passed == Deadline.Passed.FIRST_BYTE && state == State.WAITING) {
            failAttempt(passed.reason(route, attempts.endpoint()), true, false, 0, -1);
        } else if (passed == Deadline.Passed.TOTAL
                || passed == Deadline.Passed.IDLE && (state == State.STREAMING || state == State.AGGREGATING)) {
            call.discard();
            if (state == State.STREAMING) {
                stream().broke(passed.reason(route, attempts.endpoint()));
            } else {
                failWith(ApiError.upstreamTimeout(passed.message(route, attempts.endpoint())));
            }
        }
    }

    private void failAttempt(String reason) {
        failAttempt(reason, false, false, 0, -1);
    }

    /** The attempt failed before anything reached the client: a stale connection's retry, or failover. */
    void failAttempt(String reason, boolean timeout, boolean invalid, int status, long retryAfterMillis) {
        boolean stale = state == State.WAITING && call.stale(timeout, status);
        call.failed();
        deadline.attemptEnded();
        if (answer != null) {
            answer.release();
            answer = null;
        }
        attempts.failed(reason, stale, timeout, invalid, status, retryAfterMillis);
        attempt();
    }

    void failWith(ApiError error) {
        if (state == State.DONE) {
            return;
        }
        attempts.recordFailure(0);
        if (state == State.STREAMING) {
            stream().broke(error.getMessage());
            return;
        }
        if (state == State.SCORING) {
            return;
        }
        FullHttpResponse response = errorAnswer(error);
        bill.costHeaders(response.headers());
        complete(response);
        emit(error.status().code(), error.code(), attempts.fallbacks() == 0 ? Scorer.NOT_APPLICABLE : Scorer.ERROR);
    }

    /** The gateway's error answer: OpenAI's shape, or Anthropic's for a Messages client. */
    private FullHttpResponse errorAnswer(ApiError error) {
        FullHttpResponse response = Responses.error(client, error, requestId);
        return messages == null ? response : MessagesClient.errorAnswer(response, error);
    }

    /** Writes {@code lastMessage}, the exchange's last, and lets go of everything it holds. */
    void complete(Object lastMessage) {
        attempts.abandon();
        // nothing billable came back (every attempt failed): a no-op when the answer settled it
        bill.release();
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
            stream().cancelled();
        } else if (state == State.WAITING || state == State.AGGREGATING) {
            // the provider had the prompt: charge its estimate rather than nothing
            bill.settleEstimate(0, attempts.endpoint());
        } else {
            bill.release();
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
        try {
            attempts.abandon();
            deadline.stop();
            call.discard();
            if (state == State.STREAMING || state == State.SCORING) {
                stream().crashed(message);
            } else {
                bill.nothingCharged();
                complete(errorAnswer(ApiError.internal(message)));
                emit(500, "internal_error", Scorer.NOT_APPLICABLE);
            }
        } catch (Throwable again) {
            log.log(
                    Level.ERROR,
                    "request " + requestId + ": could not end it cleanly; closing the client connection",
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
            bill.release();
        } finally {
            stopAll();
        }
    }

    /** Hands this request's {@link Completion} to the sinks (audit, metrics, live feed); once. */
    void emit(int status, @Nullable String errorCode, Scorer.Result verdict) {
        record.emit(status, errorCode, verdict, stream == null ? null : stream.answerText());
    }

    /** Lets go of everything the exchange holds while it runs: the timer, the upstream connection, the buffers. */
    private void stopAll() {
        deadline.stop();
        call.discard();
        releaseBuffers();
    }

    private StreamedAnswer stream() {
        return Objects.requireNonNull(stream, "no StreamedAnswer outside STREAMING and SCORING");
    }

    private WholeAnswer answer() {
        return Objects.requireNonNull(answer, "no WholeAnswer outside AGGREGATING");
    }

    private void releaseBuffers() {
        if (answer != null) {
            answer.release();
        }
        if (stream != null) {
            stream.release();
        }
    }
}
