package io.brainstorm.proxy.spi;

import java.util.Set;

/**
 * One endpoint a request may be sent to: a model at one provider account.
 *
 * @param id                       unique among candidates: {@code <model>@<endpoint>}, e.g. {@code sim/alpha@sim-east}
 * @param endpoint                 the provider account, e.g. {@code sim-east}; shown in {@code X-BR-Endpoint}
 * @param model                    {@code provider/model}, e.g. {@code sim/alpha}
 * @param inputNanoUsdPerMillion   price of a million prompt tokens, in nano-USD ($2.50 is {@code 2_500_000_000})
 * @param outputNanoUsdPerMillion  price of a million completion tokens, in nano-USD
 * @param capabilities             what the model supports: {@code tools}, {@code json}, {@code vision}, {@code embeddings}
 * @param contextLength            tokens of context
 * @param maxOutputTokens          the provider's cap on completion tokens
 * @param stats                    what the gateway has observed of this endpoint, for the request's task class
 */
public record Candidate(String id, String endpoint, String model, long inputNanoUsdPerMillion,
                        long outputNanoUsdPerMillion, Set<String> capabilities, long contextLength,
                        long maxOutputTokens, EndpointStats stats) {

    /** Completion tokens expected when a request sets no {@code max_tokens}, for cost estimates. */
    public static final long DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

    private static final long MILLION = 1_000_000L;

    public Candidate {
        if (inputNanoUsdPerMillion < 0 || outputNanoUsdPerMillion < 0) {
            throw new IllegalArgumentException("prices: " + inputNanoUsdPerMillion + "/" + outputNanoUsdPerMillion
                    + " nano-USD per million (expected: >= 0)");
        }
        capabilities = Set.copyOf(capabilities);
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
    public static long expectedCostNanoUsd(RouteRequest request, long inputNanoUsdPerMillion,
                                           long outputNanoUsdPerMillion, long maxOutputTokens) {
        return tokensNano(request.estimatedInputTokens(), inputNanoUsdPerMillion)
                + tokensNano(expectedOutputTokens(request, maxOutputTokens), outputNanoUsdPerMillion);
    }

    private static long tokensNano(long tokens, long nanoPerMillion) {
        // split so that neither product overflows for any realistic token count and price
        return tokens / MILLION * nanoPerMillion + tokens % MILLION * nanoPerMillion / MILLION;
    }
}
