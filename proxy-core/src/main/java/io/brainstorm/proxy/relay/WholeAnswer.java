package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.Usage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An {@link Exchange} in its {@code AGGREGATING} state: an answer that is not streamed (or an
 * upstream's 4xx), gathered whole, at most {@link #MAX_BYTES}, then checked ({@link AnswerCheck}:
 * a 2xx that is not what it claims fails the attempt over) and relayed with the governance headers.
 * A 2xx whose request asked for structure is scored after it left; its verdict follows it into the
 * learning state and the completion record.
 *
 * <p><b>Reference counting.</b> {@link #read} takes ownership of each part's content; the gathered
 * body goes to the client in the response, or is released by {@link #release()}.
 *
 * <p><b>Threading.</b> Used on the request's event loop; the scorer's verdict comes back to it.
 */
final class WholeAnswer {
    static final int MAX_BYTES = 64 * 1024 * 1024;
    private static final Scorer.Result PLAIN_OK = Scorer.result(ScoreOutcome.PLAIN_OK);
    private static final Scorer.Result EMPTY = Scorer.result(ScoreOutcome.EMPTY);

    private final AnswerParts parts;
    private final Exchange exchange;
    private final Attempts attempts;
    private final Bill bill;
    private final HttpResponse head;
    /** The attempt's translation when the endpoint speaks Anthropic's format, else null. */
    private final @Nullable AnthropicAttempt anthropic;
    /** The answer read so far (in OpenAI's shape once finished); null once it went to the client or was released. */
    private @Nullable CompositeByteBuf body;
    /** What a Messages client gets instead of {@link #body}, once finished; else null. */
    private @Nullable ByteBuf clientBody;

    WholeAnswer(AnswerParts parts, HttpResponse head, @Nullable AnthropicAttempt anthropic) {
        this.anthropic = anthropic;
        this.parts = parts;
        this.exchange = parts.exchange();
        this.attempts = parts.attempts();
        this.bill = parts.bill();
        this.head = head;
        this.body = parts.client().alloc().compositeBuffer(1024);
    }

    /**
     * Adds {@code content}'s bytes (owned from here on); at the last part, the connection goes back
     * to {@code call}'s pool and the answer is finished. An answer that would outgrow
     * {@link #MAX_BYTES} ends the exchange with an error.
     */
    void read(HttpContent content, UpstreamCall call) {
        CompositeByteBuf body = Objects.requireNonNull(this.body, "a part read after the answer was finished");
        ByteBuf buf = content.content();
        if (body.readableBytes() + buf.readableBytes() > MAX_BYTES) {
            content.release();
            exchange.failWith(ApiError.upstream(
                    "The answer from " + attempts.endpoint().id() + " is larger than " + MAX_BYTES + " bytes."));
            return;
        }
        body.addComponent(true, buf);
        if (content instanceof LastHttpContent) {
            call.release();
            finish(body);
        }
    }

    /**
     * The whole answer is here: it fails the attempt over, or goes to the client and ends the
     * exchange. From Anthropic, it is translated into OpenAI's shape first (checked, scored and
     * recorded as such); a Messages client then gets Anthropic's own bytes, and from an OpenAI-format
     * endpoint the OpenAI answer translated into Anthropic's shape.
     */
    private void finish(CompositeByteBuf upstream) {
        int code = head.status().code();
        boolean ok = code / 100 == 2;
        ByteBufAllocator alloc = parts.client().alloc();
        CompositeByteBuf body = upstream;
        Usage translatedUsage = null;
        String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json");
        if (anthropic != null) {
            ByteBuf translated;
            if (ok) {
                AnthropicAttempt.Answer a = anthropic.answer(upstream, alloc);
                if (a == null) {
                    exchange.failAttempt("the answer was not an Anthropic message", false, true, code, -1);
                    return;
                }
                translated = a.body();
                translatedUsage = a.usage();
            } else {
                translated = anthropic.error(code, upstream, head.headers().get(HttpHeaderNames.RETRY_AFTER), alloc);
            }
            if (anthropic.passThrough()) {
                // the Messages client gets Anthropic's bytes as they came
                clientBody = upstream;
            } else {
                upstream.release();
                contentType = "application/json";
            }
            body = alloc.compositeBuffer(1).addComponent(true, translated);
            this.body = body;
        }
        AnswerCheck.Kind kind =
                parts.request().kind() == ParsedRequest.Kind.CHAT ? AnswerCheck.Kind.CHAT : AnswerCheck.Kind.EMBEDDINGS;
        AnswerCheck.Checked checked = ok ? AnswerCheck.check(body, kind, Json.MAPPER.getFactory()) : null;
        if (checked != null && checked.wrong() != null) {
            exchange.failAttempt("the answer was " + checked.wrong(), false, true, code, -1);
            return;
        }
        if (code == 400 && attempts.endpoint().azure() != null) {
            ByteBuf mapped = UpstreamErrors.azureContentFilter(body, alloc);
            if (mapped != null) {
                body.release();
                body = alloc.compositeBuffer(1).addComponent(true, mapped);
                this.body = body;
                contentType = "application/json";
            }
        }
        MessagesClient messages = parts.messages();
        if (messages != null && clientBody == null) {
            // an OpenAI-format endpoint's answer for a Messages client
            clientBody = ok
                    ? MessagesAnswer.message(body, parts.requestId(), messages, alloc)
                    : MessagesAnswer.error(code, body, alloc);
            contentType = "application/json";
        }
        attempts.relaying();
        Scorer.Result verdict = Scorer.NOT_APPLICABLE;
        ByteBuf toScore = null;
        String errorCode = null;
        if (checked != null) {
            Usage u = translatedUsage != null ? translatedUsage : checked.usage();
            if (u == null) {
                bill.settleEstimate(0, attempts.endpoint());
            } else {
                bill.settle(u, false, attempts.endpoint());
            }
            if (parts.scored()) {
                // the breaker and latency windows learn now; learning waits for the scorer's verdict
                attempts.answering();
                toScore = body.retainedDuplicate();
            } else {
                verdict = (u == null ? body.isReadable() : u.completionTokens() > 0) ? PLAIN_OK : EMPTY;
                attempts.answered(code, verdict.score(), bill.costNano());
            }
        } else {
            // a 4xx the upstream blames on the request: the endpoint is up, the answer says nothing of its quality
            bill.settle(new Usage(0, 0, 0, 0), false, attempts.endpoint());
            attempts.answered(code, verdict.score(), bill.costNano());
            errorCode = UpstreamErrors.code(body);
        }
        String answerText = parts.settlement().recordContent() && ok ? AnswerText.of(body) : null;
        ByteBuf answer;
        if (clientBody != null) {
            answer = clientBody;
            clientBody = null;
            release();
        } else {
            answer = body;
            this.body = null;
        }
        exchange.complete(parts.view().answer(head.status(), answer, contentType, bill.costNano(), bill.estimated()));
        if (toScore == null) {
            parts.record().emit(code, errorCode, verdict, answerText);
        } else {
            // the answer has left; its score follows it into the learning state and the completion record
            long latency = parts.timeline().attemptMicrosToEnd();
            Consumer<Scorer.Result> then = v -> exchange.guarded(() -> {
                attempts.scored(code, v.score(), latency, -1, bill.costNano());
                parts.record().emit(code, null, v, answerText);
            });
            parts.settlement()
                    .scoring()
                    .scoreAnswer(
                            parts.request().scoringFields(),
                            toScore,
                            parts.client().executor(),
                            then);
        }
    }

    /** Releases the bodies unless they went to the client. Idempotent. */
    void release() {
        if (body != null) {
            body.release();
            body = null;
        }
        if (clientBody != null) {
            clientBody.release();
            clientBody = null;
        }
    }
}
