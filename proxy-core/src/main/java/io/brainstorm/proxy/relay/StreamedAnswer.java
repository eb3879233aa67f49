package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.StreamCapture;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.translate.MessagesStream;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.lang.System.Logger.Level;
import org.jspecify.annotations.Nullable;

/**
 * An {@link Exchange} in its {@code STREAMING} and {@code SCORING} states: a 2xx stream whose head
 * went to the client. Its events are relayed ({@link StreamRelay}), and it ends in one of three
 * ways, each ending the exchange: complete (the usage event or {@code : x-br} comment,
 * {@code [DONE]}, trailers), after the scorer's verdict when the answer asked for structure; broken
 * (one last event with an {@code error} object and {@code finish_reason: "error"}, no
 * {@code [DONE]}, docs/architecture.md §3); or crashed (the same, for a gateway failure).
 *
 * <p><b>Budget.</b> A stream without usage, or one that broke, is charged the prompt estimate plus
 * one completion token per content event relayed ({@link Bill#settleEstimate}).
 *
 * <p><b>Reference counting.</b> {@link #feed} takes ownership of each part's content
 * ({@link StreamRelay}); {@link #release()} drops what is held.
 *
 * <p><b>Threading.</b> Used on the request's event loop; the scorer's verdict comes back to it.
 */
final class StreamedAnswer {
    static final int MAX_EVENT_BYTES = 4 * 1024 * 1024;
    private static final Scorer.Result PLAIN_OK = Scorer.result(ScoreOutcome.PLAIN_OK);
    private static final Scorer.Result EMPTY = Scorer.result(ScoreOutcome.EMPTY);
    private static final System.Logger log = System.getLogger(StreamedAnswer.class.getName());

    private final AnswerParts parts;
    private final Exchange exchange;
    private final Attempts attempts;
    private final Bill bill;
    /** The side copy for the scorer or the completion record, else null. */
    private final @Nullable StreamCapture capture;

    private final StreamRelay relay;

    /**
     * Writes the stream's head to the client.
     *
     * @param anthropic the attempt's translation when the endpoint speaks Anthropic's format, else null
     */
    StreamedAnswer(AnswerParts parts, @Nullable AnthropicAttempt anthropic) {
        this.parts = parts;
        this.exchange = parts.exchange();
        this.attempts = parts.attempts();
        this.bill = parts.bill();
        Settlement settlement = parts.settlement();
        this.capture = parts.scored() || settlement.recordContent()
                ? settlement.scoring().capture()
                : null;
        this.relay = new StreamRelay(
                parts.client(),
                parts.requestId(),
                MAX_EVENT_BYTES,
                capture,
                anthropic == null ? null : anthropic.streamTranslator(),
                messagesEvents(parts, anthropic));
        parts.client().write(parts.view().streamHead());
    }

    /** A Messages client's stream: Anthropic's events passed through, or the chunks translated; null for an OpenAI client. */
    private static @Nullable MessagesEvents messagesEvents(AnswerParts parts, @Nullable AnthropicAttempt anthropic) {
        MessagesClient m = parts.messages();
        if (m == null) {
            return null;
        }
        MessagesStream reverse = anthropic != null && anthropic.passThrough()
                ? null
                : new MessagesStream(parts.requestId(), m.clientModel());
        return new MessagesEvents(parts.client(), parts.requestId(), reverse);
    }

    /**
     * Relays the events of {@code content} (owned from here on); at the last part, the connection
     * goes back to {@code call}'s pool and the stream ends. The relay is released when the exchange
     * ends, so it tells whether it still runs after each step that may end it.
     */
    void read(HttpContent content, UpstreamCall call) {
        if (feed(content) && !relay.released()) {
            relay.end();
            call.release();
            if (!relay.released()) {
                finish();
            }
        }
    }

    /** @return true when {@code content} was the last part; false while more is to come, or when it broke */
    private boolean feed(HttpContent content) {
        try {
            relay.feed(content.content());
            if (relay.relayedEvents() > 0) {
                parts.timeline().contentRelayed();
            }
            String broken = relay.broken();
            if (broken != null && !relay.released()) {
                broke(broken);
                return false;
            }
        } catch (SseEventTooLongException e) {
            broke("the upstream sent an event larger than " + MAX_EVENT_BYTES + " bytes");
            return false;
        }
        return content instanceof LastHttpContent;
    }

    /** The upstream's body ended: the stream completes, or breaks when {@code [DONE]} was missing. */
    private void finish() {
        if (!relay.sawDone()) {
            String broken = relay.broken();
            broke(broken != null ? broken : "the upstream ended the stream without " + relay.endMarker());
            return;
        }
        Usage u = relay.usage();
        if (u == null) {
            bill.settleEstimate(relay.relayedEvents(), attempts.endpoint());
        } else {
            bill.settle(u, false, attempts.endpoint());
        }
        StreamCapture capture = this.capture;
        if (parts.scored() && capture != null && !capture.overLimit()) {
            // the breaker and latency windows learn now; learning waits for the verdict
            attempts.answering();
            exchange.awaitScore();
            parts.settlement()
                    .scoring()
                    .score(
                            parts.request().scoringFields(),
                            capture.answer(),
                            parts.client().executor(),
                            this::onScored);
            return;
        }
        Scorer.Result verdict = parts.scored()
                ? Scorer.result(ScoreOutcome.OVER_LIMIT)
                : (u == null ? relay.relayedEvents() > 0 : u.completionTokens() > 0) ? PLAIN_OK : EMPTY;
        attempts.answered(200, verdict.score(), bill.costNano());
        end(verdict);
    }

    /** On the event loop: the scorer's verdict. */
    private void onScored(Scorer.Result verdict) {
        exchange.guarded(() -> {
            attempts.scored(
                    200,
                    verdict.score(),
                    parts.timeline().attemptMicrosToEnd(),
                    parts.timeline().ttftMicros(),
                    bill.costNano());
            if (exchange.awaitingScore()) {
                end(verdict);
            } else {
                // the client left while the answer was being scored
                exchange.emit(200, "client_closed", verdict);
            }
        });
    }

    /** Writes the end of a complete stream: the usage chunk or {@code : x-br} comment, {@code [DONE]}, trailers. */
    private void end(Scorer.Result verdict) {
        relay.writeEnd(
                parts.request().clientWantsUsage(),
                parts.view().xbr(bill.costNano(), bill.estimated(), verdict),
                Cost.formatUsd(bill.costNano()));
        exchange.complete(parts.view().streamEnd(bill.costNano(), bill.estimated(), verdict));
        exchange.emit(200, null, verdict);
    }

    /** The stream broke upstream (or timed out): the endpoint's failure, and the error event. */
    void broke(@Nullable String reason) {
        String endpoint = attempts.endpoint().id();
        log.log(Level.WARNING, "request {0}: stream from {1} broke: {2}", parts.requestId(), endpoint, reason);
        attempts.recordFailure(0);
        bill.settleEstimate(relay.relayedEvents(), attempts.endpoint());
        endWithErrorEvent(
                "The upstream stream from " + endpoint + " broke: " + reason + ". The answer is incomplete.",
                "upstream_error");
        exchange.emit(200, "upstream_error", Scorer.ERROR);
    }

    /** The gateway failed: the error event, charged as a broken stream unless it was settled. */
    void crashed(String message) {
        if (!bill.ended()) {
            bill.settleEstimate(relay.relayedEvents(), attempts.endpoint());
        }
        endWithErrorEvent(message, "internal_error");
        exchange.emit(200, "internal_error", Scorer.NOT_APPLICABLE);
    }

    /** The client left mid-stream: charged as a broken stream. */
    void cancelled() {
        bill.settleEstimate(relay.relayedEvents(), attempts.endpoint());
    }

    private void endWithErrorEvent(String message, String code) {
        parts.client()
                .write(new DefaultHttpContent(
                        parts.view().errorEvent(parts.client().alloc(), message, code, bill.costNano())));
        exchange.complete(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** The answer's text for the completion record, or null when content is not recorded. */
    @Nullable
    String answerText() {
        return capture != null && parts.settlement().recordContent() ? AnswerText.of(capture.answer()) : null;
    }

    /** Drops held bytes; events that still arrive are released unread. Idempotent. */
    void release() {
        relay.release();
    }
}
