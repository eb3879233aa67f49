package io.brainstorm.proxy.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How one attempt at one endpoint ended, passed to {@link RoutingStrategy#observe}. Immutable.
 *
 * <p>The gateway makes these; a plugin reads them through the accessors and makes its own only in
 * tests, with {@link #builder()}. See the package doc for what may change in a minor version.
 */
public final class Outcome {

    private final String requestId;
    private final String candidateId;
    private final String endpoint;
    private final String model;
    private final TaskClass taskClass;
    private final int status;
    private final double score;
    private final long latencyMicros;
    private final long ttftMicros;
    private final long costNanoUsd;

    private Outcome(Builder b) {
        if (b.requestId == null
                || b.candidateId == null
                || b.endpoint == null
                || b.model == null
                || b.taskClass == null) {
            throw new IllegalStateException("requestId, candidateId, endpoint, model, taskClass: " + b.requestId + ", "
                    + b.candidateId + ", " + b.endpoint + ", " + b.model + ", " + b.taskClass + " (expected: all set)");
        }
        if (!(b.score >= 0 && b.score <= 1)) {
            throw new IllegalArgumentException("score: " + b.score + " (expected: 0..1)");
        }
        this.requestId = b.requestId;
        this.candidateId = b.candidateId;
        this.endpoint = b.endpoint;
        this.model = b.model;
        this.taskClass = b.taskClass;
        this.status = b.status;
        this.score = b.score;
        this.latencyMicros = b.latencyMicros;
        this.ttftMicros = b.ttftMicros;
        this.costNanoUsd = b.costNanoUsd;
    }

    /** A builder; the request id, candidate id, endpoint, model and task class must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** The request's id. */
    public String requestId() {
        return requestId;
    }

    /** The {@link Candidate#id()} that was tried. */
    public String candidateId() {
        return candidateId;
    }

    /** Its provider account. */
    public String endpoint() {
        return endpoint;
    }

    /** Its model. */
    public String model() {
        return model;
    }

    /** The request's task class. */
    public TaskClass taskClass() {
        return taskClass;
    }

    /** The upstream's HTTP status; 0 when it gave none (connect error, reset, timeout). */
    public int status() {
        return status;
    }

    /**
     * Answer quality 0..1: 0 for an error, a timeout, an empty answer or one cut by
     * {@code finish_reason: length}; 1 for a complete non-empty answer.
     */
    public double score() {
        return score;
    }

    /** Time from sending the request to the end of the answer (or of the failure). */
    public long latencyMicros() {
        return latencyMicros;
    }

    /** Time to the first streamed event; -1 when not streamed or none arrived. */
    public long ttftMicros() {
        return ttftMicros;
    }

    /** What the attempt cost, in nano-USD (0 when it failed). */
    public long costNanoUsd() {
        return costNanoUsd;
    }

    /** Whether the endpoint answered with a 2xx status (whatever the answer's quality). */
    public boolean answered() {
        return status >= 200 && status < 300;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Outcome x
                && requestId.equals(x.requestId)
                && candidateId.equals(x.candidateId)
                && endpoint.equals(x.endpoint)
                && model.equals(x.model)
                && taskClass.equals(x.taskClass)
                && status == x.status
                && Double.compare(score, x.score) == 0
                && latencyMicros == x.latencyMicros
                && ttftMicros == x.ttftMicros
                && costNanoUsd == x.costNanoUsd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                requestId,
                candidateId,
                endpoint,
                model,
                taskClass,
                status,
                score,
                latencyMicros,
                ttftMicros,
                costNanoUsd);
    }

    @Override
    public String toString() {
        return "Outcome[requestId=" + requestId + ", candidateId=" + candidateId + ", endpoint=" + endpoint
                + ", model=" + model + ", taskClass=" + taskClass + ", status=" + status + ", score=" + score
                + ", latencyMicros=" + latencyMicros + ", ttftMicros=" + ttftMicros + ", costNanoUsd=" + costNanoUsd
                + "]";
    }

    /**
     * Makes an {@link Outcome}. Unset values: status 0, score 0, latency 0, {@code ttftMicros} -1,
     * cost 0. Not thread-safe; {@link #build()} may be called more than once.
     */
    public static final class Builder {
        private @Nullable String requestId;
        private @Nullable String candidateId;
        private @Nullable String endpoint;
        private @Nullable String model;
        private @Nullable TaskClass taskClass;
        private int status;
        private double score;
        private long latencyMicros;
        private long ttftMicros = -1;
        private long costNanoUsd;

        private Builder() {}

        public Builder requestId(String requestId) {
            this.requestId = requestId;
            return this;
        }

        public Builder candidateId(String candidateId) {
            this.candidateId = candidateId;
            return this;
        }

        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder taskClass(TaskClass taskClass) {
            this.taskClass = taskClass;
            return this;
        }

        public Builder status(int status) {
            this.status = status;
            return this;
        }

        public Builder score(double score) {
            this.score = score;
            return this;
        }

        public Builder latencyMicros(long micros) {
            this.latencyMicros = micros;
            return this;
        }

        public Builder ttftMicros(long micros) {
            this.ttftMicros = micros;
            return this;
        }

        public Builder costNanoUsd(long nanoUsd) {
            this.costNanoUsd = nanoUsd;
            return this;
        }

        /**
         * @throws IllegalStateException    when an id, the endpoint, the model or the task class is not set
         * @throws IllegalArgumentException when the score is outside 0..1
         */
        public Outcome build() {
            return new Outcome(this);
        }
    }
}
