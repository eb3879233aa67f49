package io.brainstorm.proxy.config;

/**
 * What an endpoint charges, in integer nano-USD per million tokens (so $2.50 per million is
 * {@code 2_500_000_000L}). Money is never a {@code double} in this project. How a {@link
 * io.brainstorm.proxy.settle.Usage} is priced line by line is {@link
 * io.brainstorm.proxy.settle.Cost#nanoUsd}.
 *
 * @param inputNanoPerM        price of a prompt token neither read from nor written to the cache
 * @param outputNanoPerM       price of a completion token (reasoning tokens included)
 * @param cachedInputNanoPerM  price of a prompt token the provider served from its cache
 * @param cacheWriteNanoPerM   price of a prompt token written to the provider's cache with its
 *     default lifetime (Anthropic: five minutes); the input price where writes are not billed apart
 * @param cacheWrite1hNanoPerM price of a prompt token written to the cache for one hour (Anthropic)
 */
public record Price(
        long inputNanoPerM,
        long outputNanoPerM,
        long cachedInputNanoPerM,
        long cacheWriteNanoPerM,
        long cacheWrite1hNanoPerM) {
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
        if (cacheWriteNanoPerM < 0) {
            throw new IllegalArgumentException("cacheWriteNanoPerM: " + cacheWriteNanoPerM + " (expected: >= 0)");
        }
        if (cacheWrite1hNanoPerM < 0) {
            throw new IllegalArgumentException("cacheWrite1hNanoPerM: " + cacheWrite1hNanoPerM + " (expected: >= 0)");
        }
    }

    /** A price whose cache writes, of either lifetime, cost what plain input costs (OpenAI's way). */
    public Price(long inputNanoPerM, long outputNanoPerM, long cachedInputNanoPerM) {
        this(inputNanoPerM, outputNanoPerM, cachedInputNanoPerM, inputNanoPerM, inputNanoPerM);
    }

    /**
     * The most a prompt token may cost: the input price, or a cache write's when it is dearer
     * (Anthropic's one-hour write is twice the input price). A budget reservation prices the prompt
     * at this, so an answer that wrote the whole prompt to the cache still settles within it.
     */
    public long dearestPromptNanoPerM() {
        return Math.max(inputNanoPerM, Math.max(cacheWriteNanoPerM, cacheWrite1hNanoPerM));
    }
}
