package io.brainstorm.proxy.config;

/**
 * What an endpoint charges, in integer nano-USD per million tokens (so $2.50 per million is
 * {@code 2_500_000_000L}). Money is never a {@code double} in this project.
 *
 * @param inputNanoPerM        price of a prompt token
 * @param outputNanoPerM       price of a completion token (reasoning tokens included)
 * @param cachedInputNanoPerM  price of a prompt token the provider served from its cache
 */
public record Price(long inputNanoPerM, long outputNanoPerM, long cachedInputNanoPerM) {
    public Price {
        if (inputNanoPerM < 0) {
            throw new IllegalArgumentException("inputNanoPerM: " + inputNanoPerM + " (expected: >= 0)");
        }
        if (outputNanoPerM < 0) {
            throw new IllegalArgumentException("outputNanoPerM: " + outputNanoPerM + " (expected: >= 0)");
        }
        if (cachedInputNanoPerM < 0) {
            throw new IllegalArgumentException("cachedInputNanoPerM: " + cachedInputNanoPerM + " (expected: >= 0)");
        }
    }
}
