package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.longRange;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.spi.LatencyStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** Latency quantiles over 60 s in 6 buckets of 10 s (T0 starts a bucket), as the {@code :fast} strategy reads them. */
class LatencyWindowTest {
    private static final long T0 = 1_700_000_000_000L;
    private final LatencyWindow window = new LatencyWindow(Duration.ofSeconds(60), 6);

    @Test
    void quantilesOfKnownDataAreWithinOnePercent() {
        List<Long> samples = new ArrayList<>();
        for (long ms = 1; ms <= 1_000; ms++) {
            samples.add(ms * 1_000);
        }
        Collections.shuffle(samples, new Random(7));
        samples.forEach(micros -> window.record(T0, micros));

        LatencyStats s = window.stats(T0);
        assertEquals(1_000, s.count());
        assertWithinOnePercent(500_000, s.p50Micros());
        assertWithinOnePercent(900_000, s.p90Micros());
        assertWithinOnePercent(990_000, s.p99Micros());
    }

    @Test
    void aSlowMinuteIsForgottenOnceItLeavesTheWindow() {
        for (int i = 0; i < 100; i++) {
            window.record(T0, 2_000_000); // a slow spell: 2 s
        }
        for (int i = 0; i < 100; i++) {
            window.record(T0 + 30_000, 20_000); // then fast: 20 ms
        }
        LatencyStats both = window.stats(T0 + 59_999);
        assertEquals(200, both.count());
        assertWithinOnePercent(2_000_000, both.p90Micros());

        LatencyStats fastOnly = window.stats(T0 + 60_000);
        assertEquals(100, fastOnly.count(), "the slow bucket left the window");
        assertWithinOnePercent(20_000, fastOnly.p99Micros());

        assertSame(LatencyStats.EMPTY, window.stats(T0 + 90_000));
        assertTrue(window.stats(T0 + 10 * 60_000).isEmpty());
    }

    @Test
    void statsAreCachedButAFirstAnswerShowsAtOnce() {
        assertTrue(window.stats(T0).isEmpty());
        window.record(T0, 100_000);
        LatencyStats first = window.stats(T0);
        assertEquals(1, first.count(), "an empty result is never served from the cache once samples exist");
        assertSame(first, window.stats(T0 + 500), "no new samples: the cached result, nothing merged");

        window.record(T0 + 500, 300_000);
        assertSame(first, window.stats(T0 + 999), "new samples wait up to a tenth of a bucket (1 s)");
        LatencyStats second = window.stats(T0 + 1_500);
        assertEquals(2, second.count());
        assertNotEquals(first, second);
    }

    @Test
    void theCacheNeverOutlivesItsBucket() {
        window.record(T0, 100_000);
        LatencyStats s = window.stats(T0 + 9_999);
        assertEquals(1, s.count());
        window.record(T0 + 9_999, 100_000);
        assertEquals(2, window.stats(T0 + 10_000).count(), "a new bucket merges again at once");
    }

    @Test
    void timeRunningBackwardsCountsInTheNewestBucket() {
        window.record(T0 + 20_000, 1_000);
        window.record(T0, 1_000);
        assertEquals(2, window.stats(T0 + 20_000).count());
        assertEquals(2, window.stats(T0 + 79_999).count());
        assertEquals(0, window.stats(T0 + 80_000).count());
    }

    @Test
    void hugeValuesAreCappedAndNegativeOnesRefused() {
        window.record(T0, Long.MAX_VALUE);
        assertWithinOnePercent(LatencyWindow.MAX_MICROS, window.stats(T0).p99Micros());
        assertEquals(
                "micros: -1 (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> window.record(T0, -1))
                        .getMessage());
        assertEquals(
                "buckets: 0 (expected: 1..60 and at most window in ms, 60000)",
                assertThrows(IllegalArgumentException.class, () -> new LatencyWindow(Duration.ofSeconds(60), 0))
                        .getMessage());
    }

    /**
     * Whatever the pattern of samples and reads: a read never counts a sample older than the window,
     * and always counts one younger than the window minus two buckets that is at least a tenth of a
     * bucket old (younger ones may wait for the cache).
     */
    @Test
    void readsAreNeverStalerThanTheirBound() {
        Gen<List<Long>> steps = lists().of(longRange(-1, 25_000)).ofSizeBetween(1, 300);
        qt().withExamples(300).forAll(steps).checkAssert(gaps -> {
            LatencyWindow w = new LatencyWindow(Duration.ofSeconds(60), 6);
            List<Long> times = new ArrayList<>();
            long now = T0;
            for (long gap : gaps) {
                if (gap < 0) {
                    continue;
                }
                now += gap % 7 == 0 ? 0 : gap;
                if (gap % 3 == 0) {
                    w.record(now, gap);
                    times.add(now);
                } else {
                    final long t = now;
                    long count = w.stats(now).count();
                    long inWindow = times.stream().filter(r -> t - r < 60_000).count();
                    long settled = times.stream()
                            .filter(r -> t - r >= 1_000 && t - r < 40_000)
                            .count();
                    assertTrue(
                            count <= inWindow && count >= settled,
                            count + " samples counted; " + inWindow + " in the window, " + settled + " must count");
                }
            }
        });
    }

    private static void assertWithinOnePercent(long expected, long actual) {
        assertTrue(Math.abs(actual - expected) <= expected / 100, actual + " (expected: " + expected + " ± 1 %)");
    }
}
