package io.brainstorm.proxy.spi;

import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint a request may be sent to: a model at one provider account. Immutable.
 *
 * <p>The gateway makes these; a plugin reads them through the accessors and makes its own only in
 * tests, with {@link #builder()}. See the package doc for what may change in a minor version.
 */
public final class Candidate {

    /** Completion tokens expected when a request sets no {@code max_tokens}, for cost estimates. */
    public static final long DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

    private static final long MILLION = 1_000_000L;

    private final String id;
    private final String endpoint;
    private final String model;
    private final long inputNanoUsdPerMillion;
    private final long outputNanoUsdPerMillion;
    private final Set<String> capabilities;
    private final long contextLength;
    private final long maxOutputTokens;
    private final EndpointStats stats;

    private Candidate(Builder b) {
        if (b.endpoint == null || b.model == null) {
            throw new IllegalStateException(
                    "endpoint, model: " + b.endpoint + ", " + b.model + " (expected: both set)");
        }
        if (b.inputNanoUsdPerMillion < 0 || b.outputNanoUsdPerMillion < 0) {
            throw new IllegalArgumentException("prices: " + b.inputNanoUsdPerMillion + "/" + b.outputNanoUsdPerMillion
                    + " nano-USD per million (expected: >= 0)");
        }
        if (b.stats == null) {
            throw new IllegalArgumentException("stats: null (expected: set, EndpointStats.UNSEEN for none)");
        }
        this.id = b.id != null ? b.id : b.model + "@" + b.endpoint;
        this.endpoint = b.endpoint;
        this.model = b.model;
        this.inputNanoUsdPerMillion = b.inputNanoUsdPerMillion;
        this.outputNanoUsdPerMillion = b.outputNanoUsdPerMillion;
        this.capabilities = Set.copyOf(b.capabilities);
        this.contextLength = b.contextLength;
        this.maxOutputTokens = b.maxOutputTokens;
        this.stats = b.stats;
    }

    /** A builder; {@link Builder#endpoint} and {@link Builder#model} must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Unique among candidates: {@code <model>@<endpoint>}, e.g. {@code sim/alpha@sim-east}. */
    public String id() {
        return id;
    }

    /** The provider account, e.g. {@code sim-east}; shown in {@code X-BR-Endpoint}. */
    public String endpoint() {
        return endpoint;
    }

    /** {@code provider/model}, e.g. {@code sim/alpha}. */
    public String model() {
        return model;
    }

    /** Price of a million prompt tokens, in nano-USD ($2.50 is {@code 2_500_000_000}). */
    public long inputNanoUsdPerMillion() {
        return inputNanoUsdPerMillion;
    }

    /** Price of a million completion tokens, in nano-USD. */
    public long outputNanoUsdPerMillion() {
        return outputNanoUsdPerMillion;
    }

    /** What the model supports: {@code tools}, {@code json}, {@code vision}, {@code embeddings}. */
    public Set<String> capabilities() {
        return capabilities;
    }

    /** Tokens of context. */
    public long contextLength() {
        return contextLength;
    }

    /** The provider's cap on completion tokens. */
    public long maxOutputTokens() {
        return maxOutputTokens;
    }

    /** What the gateway has observed of this endpoint, for the request's task class. */
    public EndpointStats stats() {
        return stats;
    }

    public boolean supports(String capability) {
        return capabilities.contains(capability);
    }

    /**
     * The completion tokens to expect: the request's {@code max_tokens}, else
     * {@link #DEFAULT_EXPECTED_OUTPUT_TOKENS} capped at the model's limit (0 for an embeddings
     * model, whose limit is 0).
     */
    public long expectedOutputTokens(RouteRequest request) {
        return expectedOutputTokens(request, maxOutputTokens);
    }

    private static long expectedOutputTokens(RouteRequest request, long maxOutputTokens) {
        if (request.maxTokens() >= 0) {
            return request.maxTokens();
        }
        return Math.min(DEFAULT_EXPECTED_OUTPUT_TOKENS, Math.max(0, maxOutputTokens));
    }

    /**
     * The request's expected cost here, in nano-USD: estimated prompt tokens × input price +
     * expected completion tokens × output price. Rounded down per part, exact in integers.
     */
    public long expectedCostNanoUsd(RouteRequest request) {
        return expectedCostNanoUsd(request, inputNanoUsdPerMillion, outputNanoUsdPerMillion, maxOutputTokens);
    }

    /**
     * {@link #expectedCostNanoUsd(RouteRequest)} from prices and an output cap alone, for callers
     * that have no {@code Candidate} at hand.
     */
    public static long expectedCostNanoUsd(
            RouteRequest request, long inputNanoUsdPerMillion, long outputNanoUsdPerMillion, long maxOutputTokens) {
        return tokensNano(request.estimatedInputTokens(), inputNanoUsdPerMillion)
                + tokensNano(expectedOutputTokens(request, maxOutputTokens), outputNanoUsdPerMillion);
    }

    private static long tokensNano(long tokens, long nanoPerMillion) {
        // split so that neither product overflows for any realistic token count and price
        return tokens / MILLION * nanoPerMillion + tokens % MILLION * nanoPerMillion / MILLION;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Candidate c
                && id.equals(c.id)
                && endpoint.equals(c.endpoint)
                && model.equals(c.model)
                && inputNanoUsdPerMillion == c.inputNanoUsdPerMillion
                && outputNanoUsdPerMillion == c.outputNanoUsdPerMillion
                && capabilities.equals(c.capabilities)
                && contextLength == c.contextLength
                && maxOutputTokens == c.maxOutputTokens
                && stats.equals(c.stats);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                id,
                endpoint,
                model,
                inputNanoUsdPerMillion,
                outputNanoUsdPerMillion,
                capabilities,
                contextLength,
                maxOutputTokens,
                stats);
    }

    @Override
    public String toString() {
        return "Candidate[id=" + id + ", endpoint=" + endpoint + ", model=" + model + ", inputNanoUsdPerMillion="
                + inputNanoUsdPerMillion + ", outputNanoUsdPerMillion=" + outputNanoUsdPerMillion + ", capabilities="
                + capabilities + ", contextLength=" + contextLength + ", maxOutputTokens=" + maxOutputTokens
                + ", stats=" + stats + "]";
    }

    /**
     * Makes a {@link Candidate}. Unset values: {@code id} is {@code <model>@<endpoint>}, prices,
     * context length and output cap 0, no capabilities, {@link EndpointStats#UNSEEN}.
     * Not thread-safe; {@link #build()} may be called more than once.
     */
    public static final class Builder {
        private @Nullable String id;
        private @Nullable String endpoint;
        private @Nullable String model;
        private long inputNanoUsdPerMillion;
        private long outputNanoUsdPerMillion;
        private Set<String> capabilities = Set.of();
        private long contextLength;
        private long maxOutputTokens;
        private EndpointStats stats = EndpointStats.UNSEEN;

        private Builder() {}

        public Builder id(String id) {
            this.id = id;
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

        public Builder inputNanoUsdPerMillion(long nanoUsd) {
            this.inputNanoUsdPerMillion = nanoUsd;
            return this;
        }

        public Builder outputNanoUsdPerMillion(long nanoUsd) {
            this.outputNanoUsdPerMillion = nanoUsd;
            return this;
        }

        public Builder capabilities(Set<String> capabilities) {
            this.capabilities = capabilities;
            return this;
        }

        public Builder contextLength(long tokens) {
            this.contextLength = tokens;
            return this;
        }

        public Builder maxOutputTokens(long tokens) {
            this.maxOutputTokens = tokens;
            return this;
        }

        public Builder stats(EndpointStats stats) {
            this.stats = stats;
            return this;
        }

        /**
         * @throws IllegalStateException    when the endpoint or the model is not set
         * @throws IllegalArgumentException when a price is negative or the stats are null
         */
        public Candidate build() {
            return new Candidate(this);
        }
    }
}
