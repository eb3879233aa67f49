package io.brainstorm.proxy.server;

import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.api.ModelList;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.relay.Settlement;
import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.settle.CompletionSink;
import io.brainstorm.proxy.settle.Scoring;
import io.brainstorm.proxy.settle.audit.AuditLog;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a request needs once the gateway has started, built in one piece when start-up finishes and
 * published by {@link Gateway#start(Services)}: until then the gateway is starting and API calls are
 * answered 503.
 *
 * <p><b>Threading:</b> immutable; every part is thread-safe.
 *
 * @param router     the routes
 * @param models     what {@code GET /v1/models} lists, over {@code router}
 * @param admission  budgets and rate limits
 * @param answers    answered requests, for {@code /v1/feedback}
 * @param settlement where every exchange reports to (attempts' ends, the scorer, completions)
 * @param audit      the audit trail (its head, counters and folder), or null when {@code audit.enabled} is false
 */
public record Services(
        Router router,
        ModelList models,
        Admission admission,
        AnswerLog answers,
        Settlement settlement,
        @Nullable AuditLog audit) {
    public Services {
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(models, "models");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(answers, "answers");
        Objects.requireNonNull(settlement, "settlement");
    }

    /**
     * The services over {@code router}: its model list, an outcome recorder over its state that
     * remembers answers in {@code answers}, and a scorer with threads of its own, which the caller
     * closes when the gateway stops ({@link #scoring()}).
     *
     * @param completions where each ended request goes (audit, metrics, live feed)
     * @param audit       null when the audit trail is disabled
     */
    public static Services start(
            GatewayConfig config,
            CompletionSink completions,
            Router router,
            Admission admission,
            AnswerLog answers,
            @Nullable AuditLog audit) {
        ModelList models = new ModelList(router);
        OutcomeRecorder outcomes = new OutcomeRecorder(router.state(), answers);
        Settlement settlement = new Settlement(
                outcomes,
                Scoring.start(config.scoring()),
                completions,
                config.routing().maxAttempts(),
                config.audit().enabled() && config.audit().recordContent());
        return new Services(router, models, admission, answers, settlement, audit);
    }

    /** Where attempts' ends go (breakers, latency, learning). */
    public OutcomeRecorder outcomes() {
        return settlement.outcomes();
    }

    /** The answer scorer and its threads. */
    public Scoring scoring() {
        return settlement.scoring();
    }
}
