package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.brainstorm.proxy.config.Price;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import org.junit.jupiter.api.Test;

class CostTest {

    private static final long MAX_TOKENS = 1_000_000_000L;
    /** $100,000 per million tokens. */
    private static final long MAX_PRICE = 100_000_000_000_000L;

    private static long reference(long tokens, long nanoPerMillion) {
        return BigDecimal.valueOf(tokens)
                .multiply(BigDecimal.valueOf(nanoPerMillion))
                .divide(BigDecimal.valueOf(1_000_000), 0, RoundingMode.HALF_UP)
                .longValueExact();
    }

    @Test
    void tokensNanoEqualsExactHalfUpRounding() {
        qt().withExamples(20_000)
                .forAll(longs().between(0, MAX_TOKENS), longs().between(0, MAX_PRICE))
                .checkAssert((tokens, price) -> {
                    long cost = Cost.tokensNano(tokens, price);
                    assertTrue(cost >= 0, tokens + " x " + price);
                    assertEquals(reference(tokens, price), cost, tokens + " x " + price);
                });
    }

    @Test
    void tokensNanoAtTheEdges() {
        assertEquals(reference(MAX_TOKENS, MAX_PRICE), Cost.tokensNano(MAX_TOKENS, MAX_PRICE));
        assertEquals(100_000_000_000_000_000L, Cost.tokensNano(MAX_TOKENS, MAX_PRICE));
        assertEquals(reference(999_999, 999_999), Cost.tokensNano(999_999, 999_999));
        assertEquals(0, Cost.tokensNano(0, Long.MAX_VALUE));
        assertEquals(0, Cost.tokensNano(Long.MAX_VALUE, 0));
        assertEquals(1, Cost.tokensNano(1, 500_000), "half rounds up");
        assertEquals(0, Cost.tokensNano(1, 499_999));
        assertEquals(2_500, Cost.tokensNano(1, 2_500_000_000L));
    }

    @Test
    void tokensNanoThrowsRatherThanWraps() {
        qt().forAll(longs().between(MAX_TOKENS, Long.MAX_VALUE), longs().between(MAX_PRICE, Long.MAX_VALUE))
                .checkAssert((tokens, price) -> {
                    BigInteger exact = BigInteger.valueOf(tokens)
                            .multiply(BigInteger.valueOf(price))
                            .add(BigInteger.valueOf(500_000))
                            .divide(BigInteger.valueOf(1_000_000));
                    if (exact.bitLength() < 64) {
                        assertEquals(exact.longValueExact(), Cost.tokensNano(tokens, price));
                    } else {
                        ArithmeticException e =
                                assertThrows(ArithmeticException.class, () -> Cost.tokensNano(tokens, price));
                        assertTrue(e.getMessage().contains(tokens + " tokens"), e.getMessage());
                    }
                });
        assertThrows(IllegalArgumentException.class, () -> Cost.tokensNano(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> Cost.tokensNano(1, -1));
    }

    @Test
    void costIsAdditiveWithinRounding() {
        qt().withExamples(20_000)
                .forAll(
                        longs().between(0, MAX_TOKENS / 2),
                        longs().between(0, MAX_TOKENS / 2),
                        longs().between(0, MAX_PRICE))
                .checkAssert((a, b, price) -> {
                    long split = Cost.tokensNano(a, price) + Cost.tokensNano(b, price);
                    long whole = Cost.tokensNano(a + b, price);
                    assertTrue(Math.abs(split - whole) <= 1, a + " + " + b + " x " + price);
                });
    }

    @Test
    void nanoUsdPricesEachKindOfToken() {
        Price gpt4o = new Price(2_500_000_000L, 10_000_000_000L, 1_250_000_000L);
        // 1000 prompt (400 cached), 200 completion of which 50 reasoning
        Usage usage = new Usage(1_000, 200, 400, 50);
        long expected = 600 * 2_500L + 400 * 1_250L + 200 * 10_000L;
        assertEquals(expected, Cost.nanoUsd(usage, gpt4o));
        assertEquals("0.004", Cost.formatUsd(expected));
        assertEquals(0, Cost.nanoUsd(Usage.ZERO, gpt4o));
        assertThrows(
                ArithmeticException.class,
                () -> Cost.nanoUsd(new Usage(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2, 0, 0), gpt4o));
    }

    @Test
    void nanoUsdMatchesTheSumOfItsParts() {
        qt().forAll(
                        longs().between(0, MAX_TOKENS),
                        longs().between(0, MAX_TOKENS),
                        longs().between(0, 100),
                        longs().between(0, MAX_PRICE))
                .checkAssert((prompt, completion, cachedPercent, price) -> {
                    long cached = prompt * cachedPercent / 100;
                    Price p = new Price(price, price / 3, price / 7);
                    long cost = Cost.nanoUsd(new Usage(prompt, completion, cached, 0), p);
                    assertEquals(
                            reference(prompt - cached, price)
                                    + reference(cached, price / 7)
                                    + reference(completion, price / 3),
                            cost);
                });
    }

    /** Claude Sonnet 4.5 as conf/models.yaml prices it: $3 input, $0.30 cache read, $3.75 and $6 cache writes, $15 output. */
    private static final Price SONNET_4_5 =
            new Price(3_000_000_000L, 15_000_000_000L, 300_000_000L, 3_750_000_000L, 6_000_000_000L);

    @Test
    void nanoUsdPricesCacheWritesApartFromInputAndReads() {
        // 1,000 uncached + 2,000 cache read + 3,000 five-minute writes + 500 one-hour writes = 6,500 prompt
        // tokens, and 400 output tokens:
        //   1,000 x $3.00/M  =  3,000,000 nano-USD
        //   2,000 x $0.30/M  =    600,000
        //   3,000 x $3.75/M  = 11,250,000
        //     500 x $6.00/M  =  3,000,000
        //     400 x $15.00/M =  6,000,000
        //                     ----------
        //                     23,850,000 nano-USD = $0.02385
        Usage usage = new Usage(6_500, 400, 2_000, 0, 3_000, 500);
        assertEquals(1_000, usage.uncachedPromptTokens());
        assertEquals(23_850_000L, Cost.nanoUsd(usage, SONNET_4_5));
        assertEquals("0.02385", Cost.formatUsd(Cost.nanoUsd(usage, SONNET_4_5)));
        // the same 6,500 prompt tokens with no cache at all: 6,500 x $3.00/M + 400 x $15.00/M
        assertEquals(19_500_000L + 6_000_000L, Cost.nanoUsd(new Usage(6_500, 400, 0, 0), SONNET_4_5));
    }

    @Test
    void reasoningTokensArePricedAsTheOutputTheyArePartOf() {
        // 100 prompt, 50 completion of which 30 reasoning: 100 x $3.00/M + 50 x $15.00/M = 300,000 + 750,000
        assertEquals(1_050_000L, Cost.nanoUsd(new Usage(100, 50, 0, 30), SONNET_4_5));
        assertEquals(
                Cost.nanoUsd(new Usage(100, 50, 0, 0), SONNET_4_5),
                Cost.nanoUsd(new Usage(100, 50, 0, 30), SONNET_4_5));
    }

    @Test
    void eachLineOfTheBillIsRoundedOnItsOwn() {
        // one token of each kind at 1.5, 0.5, 2.5, 3.5 and 1.5 nano-USD per token: each rounds half up
        // (2 + 1 + 3 + 4 + 2 = 12), where rounding the exact sum, 9.5, would give 10
        Price price = new Price(1_500_000L, 1_500_000L, 500_000L, 2_500_000L, 3_500_000L);
        assertEquals(12, Cost.nanoUsd(new Usage(4, 1, 1, 0, 1, 1), price));
    }

    @Test
    void withoutCacheWritePricesAWriteCostsWhatInputCosts() {
        Price openAi = new Price(2_500_000_000L, 10_000_000_000L, 1_250_000_000L);
        assertEquals(
                new Price(2_500_000_000L, 10_000_000_000L, 1_250_000_000L, 2_500_000_000L, 2_500_000_000L), openAi);
        assertEquals(
                Cost.nanoUsd(new Usage(1_000, 10, 100, 0), openAi),
                Cost.nanoUsd(new Usage(1_000, 10, 100, 0, 600, 200), openAi));
    }

    @Test
    void nanoUsdWithCacheWritesMatchesTheSumOfItsParts() {
        // percents: of the prompt, cached; of the rest, written for 5 minutes; of the rest, for 1 hour
        qt().forAll(
                        longs().between(0, MAX_TOKENS),
                        longs().between(0, 100 * 101 * 101 - 1),
                        longs().between(0, MAX_PRICE))
                .checkAssert((prompt, percents, price) -> {
                    long cachedPercent = percents % 101;
                    long writePercent = percents / 101 % 101;
                    long oneHourPercent = percents / 101 / 101;
                    long cached = prompt * cachedPercent / 100;
                    long writes = (prompt - cached) * writePercent / 100;
                    long oneHour = (prompt - cached - writes) * oneHourPercent / 100;
                    long completion = prompt / 3;
                    Price p = new Price(price, price / 3, price / 7, price / 4 * 5, price * 2);
                    long cost = Cost.nanoUsd(new Usage(prompt, completion, cached, 0, writes, oneHour), p);
                    assertEquals(
                            reference(prompt - cached - writes - oneHour, price)
                                    + reference(cached, price / 7)
                                    + reference(writes, price / 4 * 5)
                                    + reference(oneHour, price * 2)
                                    + reference(completion, price / 3),
                            cost);
                });
    }

    @Test
    void usageRejectsMoreCachedAndWrittenTokensThanPromptTokens() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new Usage(100, 0, 60, 0, 30, 11));
        assertEquals(
                "cacheWriteTokens: 30 + cacheWrite1hTokens: 11 (expected: <= promptTokens 100 - cachedPromptTokens 60)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Usage(100, 0, 0, 0, 101, 0));
        assertThrows(IllegalArgumentException.class, () -> new Usage(100, 0, 0, 0, 0, -1));
        assertThrows(
                IllegalArgumentException.class,
                () -> new Usage(Long.MAX_VALUE, 0, 0, 0, Long.MAX_VALUE, Long.MAX_VALUE));
        assertEquals(0, new Usage(100, 0, 60, 0, 30, 10).uncachedPromptTokens());
    }

    @Test
    void formatUsdExamples() {
        assertEquals("0.0", Cost.formatUsd(0));
        assertEquals("0.00125", Cost.formatUsd(1_250_000));
        assertEquals("12.5", Cost.formatUsd(12_500_000_000L));
        assertEquals("3.0", Cost.formatUsd(3_000_000_000L));
        assertEquals("0.000000001", Cost.formatUsd(1));
        assertEquals("-0.000000001", Cost.formatUsd(-1));
        assertEquals("-9223372036.854775808", Cost.formatUsd(Long.MIN_VALUE));
        assertEquals("9223372036.854775807", Cost.formatUsd(Long.MAX_VALUE));
    }

    @Test
    void formatUsdRoundTrips() {
        qt().withExamples(20_000).forAll(longs().all()).checkAssert(nano -> {
            String text = Cost.formatUsd(nano);
            assertTrue(text.matches("-?\\d+\\.\\d+"), text);
            assertTrue(!text.endsWith("0") || text.endsWith(".0"), text);
            assertEquals(nano, new BigDecimal(text).movePointRight(9).longValueExact(), text);
        });
    }

    @Test
    void perTokenUsd() {
        assertEquals("0.0000025", Cost.perTokenUsd(2_500_000_000L));
        assertEquals("0.00001", Cost.perTokenUsd(10_000_000_000L));
        assertEquals("0.000000000000001", Cost.perTokenUsd(1));
        assertEquals("0", Cost.perTokenUsd(0));
        assertEquals("0.1", Cost.perTokenUsd(100_000_000_000_000L));
        qt().forAll(longs().between(0, Long.MAX_VALUE)).checkAssert(nano -> {
            String text = Cost.perTokenUsd(nano);
            assertTrue(!text.contains("E") && !text.contains("e"), text);
            assertEquals(nano, new BigDecimal(text).movePointRight(15).longValueExact(), text);
        });
    }
}
