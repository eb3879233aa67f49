package io.brainstorm.proxy.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What routing knows of a request, read once from its body. Immutable.
 *
 * <p>The gateway makes these; a plugin reads them through the accessors and makes its own only in
 * tests, with {@link #builder()}. See the package doc for what may change in a minor version.
 */
public final class RouteRequest {

    private final String requestId;
    private final String tenant;
    private final String model;
    private final String variant;
    private final TaskClass taskClass;
    private final boolean stream;
    private final boolean tools;
    private final boolean json;
    private final long estimatedInputTokens;
    private final long maxTokens;
    private final String user;

    private RouteRequest(Builder b) {
        if (b.requestId == null || b.tenant == null || b.model == null || b.variant == null) {
            throw new IllegalStateException("requestId, tenant, model, variant: " + b.requestId + ", " + b.tenant + ", "
                    + b.model + ", " + b.variant + " (expected: all set)");
        }
        if (b.estimatedInputTokens < 0) {
            throw new IllegalArgumentException("estimatedInputTokens: " + b.estimatedInputTokens + " (expected: >= 0)");
        }
        if (b.maxTokens < -1) {
            throw new IllegalArgumentException("maxTokens: " + b.maxTokens + " (expected: >= 0, or -1 for none)");
        }
        this.requestId = b.requestId;
        this.tenant = b.tenant;
        this.model = b.model;
        this.variant = b.variant;
        this.taskClass = b.taskClass != null ? b.taskClass : TaskClass.of(b.tools, b.json, b.estimatedInputTokens);
        this.stream = b.stream;
        this.tools = b.tools;
        this.json = b.json;
        this.estimatedInputTokens = b.estimatedInputTokens;
        this.maxTokens = b.maxTokens;
        this.user = b.user == null ? "" : b.user;
    }

    /** A builder; the request id, tenant, model and variant must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** The gateway's id for the request ({@code X-BR-Request-Id}). */
    public String requestId() {
        return requestId;
    }

    /** The tenant the calling key belongs to. */
    public String tenant() {
        return tenant;
    }

    /** The model asked for, without the variant ({@code sim/alpha}), or {@code auto}. */
    public String model() {
        return model;
    }

    /** The variant suffix that chose this strategy ({@code floor}, a plugin's name), or {@code auto}. */
    public String variant() {
        return variant;
    }

    /** Kind and size of the request. */
    public TaskClass taskClass() {
        return taskClass;
    }

    /** The answer is streamed. */
    public boolean stream() {
        return stream;
    }

    /** The request declares tools. */
    public boolean tools() {
        return tools;
    }

    /** The request asks for {@code response_format} json_object or json_schema. */
    public boolean json() {
        return json;
    }

    /** Prompt size estimate. */
    public long estimatedInputTokens() {
        return estimatedInputTokens;
    }

    /** {@code max_completion_tokens} or {@code max_tokens}; -1 when the request sets neither. */
    public long maxTokens() {
        return maxTokens;
    }

    /** The request's OpenAI {@code user} field; empty when absent. */
    public String user() {
        return user;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RouteRequest r
                && requestId.equals(r.requestId)
                && tenant.equals(r.tenant)
                && model.equals(r.model)
                && variant.equals(r.variant)
                && taskClass.equals(r.taskClass)
                && stream == r.stream
                && tools == r.tools
                && json == r.json
                && estimatedInputTokens == r.estimatedInputTokens
                && maxTokens == r.maxTokens
                && user.equals(r.user);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                requestId,
                tenant,
                model,
                variant,
                taskClass,
                stream,
                tools,
                json,
                estimatedInputTokens,
                maxTokens,
                user);
    }

    @Override
    public String toString() {
        return "RouteRequest[requestId=" + requestId + ", tenant=" + tenant + ", model=" + model + ", variant="
                + variant + ", taskClass=" + taskClass + ", stream=" + stream + ", tools=" + tools + ", json=" + json
                + ", estimatedInputTokens=" + estimatedInputTokens + ", maxTokens=" + maxTokens + ", user=" + user
                + "]";
    }

    /**
     * Makes a {@link RouteRequest}. Unset values: not streamed, no tools, no JSON, 0 estimated input
     * tokens, {@code maxTokens} -1 (none), empty user, and the task class of tools, JSON and the
     * estimate ({@link TaskClass#of}). Not thread-safe; {@link #build()} may be called more than once.
     */
    public static final class Builder {
        private @Nullable String requestId;
        private @Nullable String tenant;
        private @Nullable String model;
        private @Nullable String variant;
        private @Nullable TaskClass taskClass;
        private boolean stream;
        private boolean tools;
        private boolean json;
        private long estimatedInputTokens;
        private long maxTokens = -1;
        private @Nullable String user = "";

        private Builder() {}

        public Builder requestId(String requestId) {
            this.requestId = requestId;
            return this;
        }

        public Builder tenant(String tenant) {
            this.tenant = tenant;
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder variant(String variant) {
            this.variant = variant;
            return this;
        }

        /** The task class; when not set (or null), {@link TaskClass#of} of tools, JSON and the estimate. */
        public Builder taskClass(@Nullable TaskClass taskClass) {
            this.taskClass = taskClass;
            return this;
        }

        public Builder stream(boolean stream) {
            this.stream = stream;
            return this;
        }

        public Builder tools(boolean tools) {
            this.tools = tools;
            return this;
        }

        public Builder json(boolean json) {
            this.json = json;
            return this;
        }

        public Builder estimatedInputTokens(long tokens) {
            this.estimatedInputTokens = tokens;
            return this;
        }

        /** {@code max_tokens}, or -1 for none. */
        public Builder maxTokens(long tokens) {
            this.maxTokens = tokens;
            return this;
        }

        /** The OpenAI {@code user} field; null counts as empty. */
        public Builder user(@Nullable String user) {
            this.user = user;
            return this;
        }

        /**
         * @throws IllegalStateException    when the request id, tenant, model or variant is not set
         * @throws IllegalArgumentException when the estimate is negative or {@code maxTokens} below -1
         */
        public RouteRequest build() {
            return new RouteRequest(this);
        }
    }
}
