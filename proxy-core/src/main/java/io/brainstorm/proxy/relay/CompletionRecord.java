package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.Usage;
import org.jspecify.annotations.Nullable;

/**
 * One request's {@link Completion}, started by the server: an {@link Exchange} fills it from its
 * helpers ({@link Attempts}, {@link Bill}, {@link Timeline}) when it ends, and hands it to the
 * sinks (audit, metrics, live feed) once.
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class CompletionRecord {
    private final Completion.Builder completion;
    private final ParsedRequest request;
    private final Settlement settlement;
    private final Attempts attempts;
    private final Bill bill;
    private final Timeline timeline;
    private boolean sent;

    CompletionRecord(
            Completion.Builder completion,
            ParsedRequest request,
            Settlement settlement,
            Attempts attempts,
            Bill bill,
            Timeline timeline) {
        this.completion = completion;
        this.request = request;
        this.settlement = settlement;
        this.attempts = attempts;
        this.bill = bill;
        this.timeline = timeline;
    }

    /** Fills the record and hands it to the sinks; a second call does nothing. */
    void emit(int status, @Nullable String errorCode, Scorer.Result verdict, @Nullable String answerText) {
        if (sent) {
            return;
        }
        sent = true;
        Endpoint endpoint = attempts.endpointIfAny();
        Endpoint answeredBy = attempts.answeredBy();
        Usage usage = bill.usage();
        long ttft = timeline.firstEventMicros();
        if (ttft >= 0) {
            completion.ttftMicros(ttft);
        }
        completion
                .selected(answeredBy == null ? null : answeredBy.model().id(), endpoint == null ? null : endpoint.id())
                .status(status, errorCode)
                .usage(usage)
                .cost(bill.costNano(), bill.estimated())
                .latencyMicros(timeline.latencyMicros())
                .fallbacks(attempts.fallbacks())
                .score(verdict.score(), verdict.outcome())
                .prompt(settlement.recordContent() ? request.prompt() : null)
                .answer(answerText);
        settlement.completions().accept(completion.build());
    }
}
