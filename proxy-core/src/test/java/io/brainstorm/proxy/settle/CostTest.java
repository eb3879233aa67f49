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
