package io.brainstorm.proxy.settle;

import io.brainstorm.proxy.config.Price;
import java.math.BigDecimal;

/**
 * Money arithmetic of the settle step: what an answer cost, in integer nano-USD, and how amounts are
 * written in JSON and headers. Never a {@code double}.
 *
 * <p><b>The bill of an answer</b> ({@link #nanoUsd}) has five lines, each its tokens times its
 * {@link Price} component:
 * <ul>
 *   <li>uncached prompt tokens ({@link Usage#uncachedPromptTokens()}) at the input price;
 *   <li>prompt tokens read from the cache at the cached-input price;
 *   <li>prompt tokens written to the cache with the default (five-minute) lifetime at the
 *       cache-write price;
 *   <li>prompt tokens written to the cache for one hour at the one-hour cache-write price;
 *   <li>completion tokens, reasoning tokens included, at the output price: a provider that
 *       reports reasoning apart ({@code completion_tokens_details.reasoning_tokens}) counts them in
 *       {@code completion_tokens} too, and Anthropic counts thinking in {@code output_tokens}.
 * </ul>
 * The lines depend only on the counts, never on how the answer travelled: a streamed answer whose
 * usage adds up to the same {@link Usage} as a whole one costs the same to the nano-USD.
 *
 * <p><b>Rounding.</b> Each line is rounded half-up to a whole nano-USD on its own, so a cost is
 * exact to within 2.5 nano-USD of the true value.
 *
 * <p><b>Errors.</b> A result beyond {@code long} range throws {@link ArithmeticException}; nothing
 * wraps around. For scale: 10^9 tokens at $100,000 per million is 10^17 nano-USD, well inside.
 */
public final class Cost {

    private static final long MILLION = 1_000_000L;
    private static final int NANO_DIGITS = 9;
    /** nano-USD per million tokens → USD per token: 10^9 · 10^6. */
    private static final int PER_TOKEN_DIGITS = 15;

    private Cost() {}

    /**
     * {@code tokens × nanoPerMillion / 10^6}, rounded half-up, in nano-USD.
     *
     * @throws IllegalArgumentException if an argument is negative
     * @throws ArithmeticException      if the result does not fit in a {@code long}
     */
    public static long tokensNano(long tokens, long nanoPerMillion) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        if (nanoPerMillion < 0) {
            throw new IllegalArgumentException("nanoPerMillion: " + nanoPerMillion + " (expected: >= 0)");
        }
        // tokens = tq·10^6 + tr, price = pq·10^6 + pr, so
        // tokens·price/10^6 = tq·price + tr·pq + tr·pr/10^6, where only the last term has a fraction
        // and tr·pr < 10^12 cannot overflow.
        long tq = tokens / MILLION;
        long tr = tokens % MILLION;
        long pq = nanoPerMillion / MILLION;
        long pr = nanoPerMillion % MILLION;
        try {
            long whole = Math.addExact(Math.multiplyExact(tq, nanoPerMillion), tr * pq);
            return Math.addExact(whole, (tr * pr + MILLION / 2) / MILLION);
        } catch (ArithmeticException e) {
            throw new ArithmeticException("cost of " + tokens + " tokens at " + nanoPerMillion
                    + " nano-USD per million (expected: at most " + Long.MAX_VALUE + " nano-USD)");
        }
    }

    /**
     * What an answer cost in nano-USD: the five lines of the class doc, each rounded on its own,
     * added up.
     *
     * @throws ArithmeticException if the result does not fit in a {@code long}
     */
    public static long nanoUsd(Usage usage, Price price) {
        try {
            long sum = tokensNano(usage.uncachedPromptTokens(), price.inputNanoPerM());
            sum = Math.addExact(sum, tokensNano(usage.cachedPromptTokens(), price.cachedInputNanoPerM()));
            sum = Math.addExact(sum, tokensNano(usage.cacheWriteTokens(), price.cacheWriteNanoPerM()));
            sum = Math.addExact(sum, tokensNano(usage.cacheWrite1hTokens(), price.cacheWrite1hNanoPerM()));
            return Math.addExact(sum, tokensNano(usage.completionTokens(), price.outputNanoPerM()));
        } catch (ArithmeticException e) {
            throw new ArithmeticException(
                    "cost of " + usage + " at " + price + " (expected: at most " + Long.MAX_VALUE + " nano-USD)");
        }
    }

    /**
     * Nano-USD as a plain USD decimal without trailing zeros but with at least one fraction digit:
     * {@code 0} → {@code "0.0"}, {@code 1_250_000} → {@code "0.00125"}, {@code 12_500_000_000} →
     * {@code "12.5"}, {@code -1} → {@code "-0.000000001"}.
     */
    public static String formatUsd(long nano) {
        BigDecimal usd = BigDecimal.valueOf(nano, NANO_DIGITS).stripTrailingZeros();
        if (usd.scale() < 1) {
            usd = usd.setScale(1);
        }
        return usd.toPlainString();
    }

    /**
     * A price in nano-USD per million tokens as USD per token, the way OpenRouter's {@code pricing}
     * fields write it: {@code 2_500_000_000} → {@code "0.0000025"}, {@code 0} → {@code "0"}. Plain
     * notation, never an exponent.
     */
    public static String perTokenUsd(long nanoPerMillion) {
        return BigDecimal.valueOf(nanoPerMillion, PER_TOKEN_DIGITS)
                .stripTrailingZeros()
                .toPlainString();
    }
}
