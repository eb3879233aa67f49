package io.brainstorm.proxy.settle;

import org.jspecify.annotations.Nullable;

/**
 * One API request, as it ended: what the audit trail records, what {@code /metrics} counts and what
 * the dashboard's live feed shows (docs/architecture.md §9). Filled in as the request goes through a
 * {@link Builder} and made once per request on the event loop that served it, after the answer (or
 * the error) went to the client.
 *
 * <p>Never holds a secret: {@code keyId} is the key's public id. {@code prompt} and {@code answer}
 * are null unless the audit is configured to record content.
 *
 * <p>Make one with {@link #builder}; the canonical constructor is for the builder only, so that a
 * component added later changes no caller.
 *
 * @param atMillis         when the request ended (epoch ms, wall clock)
 * @param requestId        the {@code X-BR-Request-Id}
 * @param tenant           the key's tenant, or null when the request was not authenticated
 * @param keyId            the key's id, or null when the request was not authenticated
 * @param app              the application's name ({@code X-Title}, else {@code HTTP-Referer}), or null
 * @param operation        {@code chat}, {@code embeddings} or {@code messages} ({@code /v1/messages})
 * @param requestedModel   the model the client asked for (with its variant), or null if the body had none
 * @param selectedModel    the {@code provider/model} that answered, or null when none did
 * @param endpoint         the endpoint that answered (or was tried last), or null
 * @param strategy         the strategy that decided, or null when the request was refused before routing
 * @param status           the HTTP status the client got (200 for a stream that began, even if it broke)
 * @param errorCode        the OpenAI-shaped error code the client got ({@code budget_exceeded}, …;
 *                         {@code stream_broken} when a stream ended with an error event), or null
 * @param stream           whether the client asked for a stream
 * @param promptTokens     prompt tokens (reported or estimated), 0 when unknown
 * @param completionTokens completion tokens (reported or estimated), 0 when unknown
 * @param cachedTokens     of the prompt tokens, how many the provider read from its cache
 *                         ({@link Usage#cachedPromptTokens()}); 0 when unknown
 * @param cacheWriteTokens of the prompt tokens, how many the provider wrote to its cache, of any
 *                         lifetime ({@link Usage#allCacheWriteTokens()}: Anthropic's cache creation);
 *                         0 when unknown
 * @param costNanoUsd      what was charged to the key's budget, in nano-USD
 * @param costEstimated    true when the provider reported no usage and the cost is the gateway's estimate
 * @param latencyMicros    from the request's arrival to its last byte written
 * @param ttftMicros       to the first streamed content event, or -1
 * @param fallbacks        endpoints that failed before the one that answered
 * @param score            the scorer's 0..1 verdict on the answer, or -1 when not scored
 * @param scoreOutcome     why the score is what it is ({@link ScoreOutcome}), or null when not scored
 * @param prompt           the request's messages as JSON text, when content recording is on; else null
 * @param answer           the answer's content as text, when content recording is on; else null
 * @param format           what the answer was asked to be: {@code plain}, {@code json_object},
 *                         {@code json_schema} or {@code tools} (tools win when both are asked); null for
 *                         embeddings and for requests refused before their body was read
 */
public record Completion(
        long atMillis,
        String requestId,
        @Nullable String tenant,
        @Nullable String keyId,
        @Nullable String app,
        @Nullable String operation,
        @Nullable String requestedModel,
        @Nullable String selectedModel,
        @Nullable String endpoint,
        @Nullable String strategy,
        int status,
        @Nullable String errorCode,
        boolean stream,
        long promptTokens,
        long completionTokens,
        long cachedTokens,
        long cacheWriteTokens,
        long costNanoUsd,
        boolean costEstimated,
        long latencyMicros,
        long ttftMicros,
        int fallbacks,
        double score,
        @Nullable ScoreOutcome scoreOutcome,
        @Nullable String prompt,
        @Nullable String answer,
        @Nullable String format) {

    /** Score of a request that was not scored. */
    public static final double NO_SCORE = -1;

    /** Longest application name kept; the header is the client's to fill. */
    public static final int MAX_APP_CHARS = 200;

    /**
     * Starts the record of the request {@code requestId}, which arrived (was read whole) at
     * {@code arrivalNanos} ({@link System#nanoTime()}).
     */
    public static Builder builder(String requestId, long arrivalNanos) {
        return new Builder(requestId, arrivalNanos);
    }

    /** Whether the scorer gave a verdict. */
    public boolean scored() {
        return score >= 0;
    }

    /**
     * A request's {@link Completion}, filled in as the request goes (as Armeria's
     * {@code RequestLogBuilder}): the server starts it when the request arrives (id, arrival, app,
     * operation), then admission adds the key, parsing the model, stream flag and format, routing the
     * strategy, and the relay what happened (status, endpoint, tokens, cost, score, answer).
     * {@link #build()} freezes it.
     *
     * <p>What is never set keeps its default: null, 0 and false, with {@code score}
     * {@link #NO_SCORE}, {@code ttftMicros} -1, {@code atMillis} the wall clock at {@link #build()}
     * and {@code latencyMicros} from the arrival to {@link #build()}.
     *
     * <p><b>Threading.</b> Not thread-safe: filled and built on the event loop that serves the request.
     *
     * <p><b>Errors.</b> {@link #build()} a second time returns the same record; a setter called after
     * it throws {@link IllegalStateException}, since what it sets would be lost.
     */
    public static final class Builder {
        /** {@code atMillis} and {@code latencyMicros} not set: taken at {@link #build()}. */
        private static final long UNSET = Long.MIN_VALUE;

        private final String requestId;
        private final long arrivalNanos;
        private @Nullable Completion built;

        private long atMillis = UNSET;
        private long latencyMicros = UNSET;
        private @Nullable String tenant;
        private @Nullable String keyId;
        private @Nullable String app;
        private @Nullable String operation;
        private @Nullable String requestedModel;
        private boolean stream;
        private @Nullable String format;
        private @Nullable String strategy;
        private @Nullable String selectedModel;
        private @Nullable String endpoint;
        private int status;
        private @Nullable String errorCode;
        private long promptTokens;
        private long completionTokens;
        private long cachedTokens;
        private long cacheWriteTokens;
        private long costNanoUsd;
        private boolean costEstimated;
        private long ttftMicros = -1;
        private int fallbacks;
        private double score = NO_SCORE;
        private @Nullable ScoreOutcome scoreOutcome;
        private @Nullable String prompt;
        private @Nullable String answer;

        private Builder(String requestId, long arrivalNanos) {
            this.requestId = requestId;
            this.arrivalNanos = arrivalNanos;
        }

        /** The request's {@code X-BR-Request-Id}. */
        public String requestId() {
            return requestId;
        }

        /** When the request arrived ({@link System#nanoTime()}). */
        public long arrivalNanos() {
            return arrivalNanos;
        }

        /** The key that authenticated the request: its tenant and public id. */
        public Builder key(@Nullable String tenant, @Nullable String keyId) {
            requireOpen();
            this.tenant = tenant;
            this.keyId = keyId;
            return this;
        }

        /** The application's name, cut to {@value Completion#MAX_APP_CHARS} characters; null for none. */
        public Builder app(@Nullable String app) {
            requireOpen();
            this.app = app != null && app.length() > MAX_APP_CHARS ? app.substring(0, MAX_APP_CHARS) : app;
            return this;
        }

        /** {@code chat} or {@code embeddings}. */
        public Builder operation(@Nullable String operation) {
            requireOpen();
            this.operation = operation;
            return this;
        }

        /** The model the client asked for (with its variant). */
        public Builder requestedModel(@Nullable String model) {
            requireOpen();
            this.requestedModel = model;
            return this;
        }

        /** Whether the client asked for a stream. */
        public Builder stream(boolean stream) {
            requireOpen();
            this.stream = stream;
            return this;
        }

        /** What the answer was asked to be ({@code api.ParsedRequest.format()}), or null for embeddings. */
        public Builder format(@Nullable String format) {
            requireOpen();
            this.format = format;
            return this;
        }

        /** The strategy that decided the route. */
        public Builder strategy(@Nullable String strategy) {
            requireOpen();
            this.strategy = strategy;
            return this;
        }

        /** The model that answered (null when none did) and the endpoint that answered or was tried last. */
        public Builder selected(@Nullable String selectedModel, @Nullable String endpoint) {
            requireOpen();
            this.selectedModel = selectedModel;
            this.endpoint = endpoint;
            return this;
        }

        /** The HTTP status the client got and the error code with it, or null. */
        public Builder status(int status, @Nullable String errorCode) {
            requireOpen();
            this.status = status;
            this.errorCode = errorCode;
            return this;
        }

        /** Prompt and completion tokens, reported or estimated; no cache counts. */
        public Builder tokens(long promptTokens, long completionTokens) {
            requireOpen();
            this.promptTokens = promptTokens;
            this.completionTokens = completionTokens;
            return this;
        }

        /**
         * The provider's token counts: prompt and completion tokens, and of the prompt tokens those
         * read from and written to its cache. Null (no usage known) sets them all to 0.
         */
        public Builder usage(@Nullable Usage usage) {
            requireOpen();
            this.promptTokens = usage == null ? 0 : usage.promptTokens();
            this.completionTokens = usage == null ? 0 : usage.completionTokens();
            this.cachedTokens = usage == null ? 0 : usage.cachedPromptTokens();
            this.cacheWriteTokens = usage == null ? 0 : usage.allCacheWriteTokens();
            return this;
        }

        /** What was charged, in nano-USD, and whether it is the gateway's estimate. */
        public Builder cost(long nanoUsd, boolean estimated) {
            requireOpen();
            this.costNanoUsd = nanoUsd;
            this.costEstimated = estimated;
            return this;
        }

        /** The first streamed content event left at {@code nanoTime} ({@link System#nanoTime()}). */
        public Builder firstEventAt(long nanoTime) {
            return ttftMicros((nanoTime - arrivalNanos) / 1000);
        }

        /** The time to the first streamed content event, or -1. */
        public Builder ttftMicros(long micros) {
            requireOpen();
            this.ttftMicros = micros;
            return this;
        }

        public Builder fallbacks(int fallbacks) {
            requireOpen();
            this.fallbacks = fallbacks;
            return this;
        }

        /** The scorer's verdict: a score from 0 to 1, or {@link Completion#NO_SCORE}, and why. */
        public Builder score(double score, @Nullable ScoreOutcome outcome) {
            requireOpen();
            this.score = score;
            this.scoreOutcome = outcome;
            return this;
        }

        /** The request's messages as JSON text; only when content is recorded. */
        public Builder prompt(@Nullable String prompt) {
            requireOpen();
            this.prompt = prompt;
            return this;
        }

        /** The answer's content as text; only when content is recorded. */
        public Builder answer(@Nullable String answer) {
            requireOpen();
            this.answer = answer;
            return this;
        }

        /** When the request ended (epoch ms), instead of the clock at {@link #build()}. */
        public Builder atMillis(long atMillis) {
            requireOpen();
            this.atMillis = atMillis;
            return this;
        }

        /** The request's duration, instead of the time from its arrival to {@link #build()}. */
        public Builder latencyMicros(long micros) {
            requireOpen();
            this.latencyMicros = micros;
            return this;
        }

        /** Whether {@link #build()} was called. */
        public boolean built() {
            return built != null;
        }

        /** The record, made on the first call (the request ends now) and the same one on every later call. */
        public Completion build() {
            if (built == null) {
                long ended = atMillis != UNSET ? atMillis : System.currentTimeMillis();
                long micros = latencyMicros != UNSET ? latencyMicros : (System.nanoTime() - arrivalNanos) / 1000;
                built = new Completion(
                        ended,
                        requestId,
                        tenant,
                        keyId,
                        app,
                        operation,
                        requestedModel,
                        selectedModel,
                        endpoint,
                        strategy,
                        status,
                        errorCode,
                        stream,
                        promptTokens,
                        completionTokens,
                        cachedTokens,
                        cacheWriteTokens,
                        costNanoUsd,
                        costEstimated,
                        micros,
                        ttftMicros,
                        fallbacks,
                        score,
                        scoreOutcome,
                        prompt,
                        answer,
                        format);
            }
            return built;
        }

        private void requireOpen() {
            if (built != null) {
                throw new IllegalStateException("completion of request " + requestId + ": already built (expected:"
                        + " every field set before build())");
            }
        }
    }
}
