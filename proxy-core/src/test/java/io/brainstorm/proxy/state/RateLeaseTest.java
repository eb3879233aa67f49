package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.testing.ChildJvm;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files store's rate-window shares (docs/architecture.md §6): in one process leased windows
 * answer every request as exact ones do, with the same wait; across processes the limit holds; a
 * new minute starts afresh whatever shares the old one had; an idle share goes back, so another
 * process is refused early for about a second at most, and by at most the share.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RateLeaseTest {
    private static final long T0 = 1_764_000_000_000L; // a minute boundary (divisible by 60,000)
    private static final AtomicInteger KEYS = new AtomicInteger();

    @TempDir
    Path dir;

    @Test
    void leasedWindowsAnswerAsExactOnesDo() throws Exception {
        try (StateStore files = StateStore.open(dir)) {
            RateWindows exact = StateStore.inMemory().rates();
            RateWindows leased = files.rates();
            qt().withExamples(200)
                    .forAll(
                            integers().between(0, 3_000),
                            integers().between(0, 300_000),
                            lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 400))
                    .checkAssert(
                            (rpm, tpm, steps) -> same(exact, leased, "key-" + KEYS.incrementAndGet(), rpm, tpm, steps));
        }
    }

    /** Runs {@code steps} on both windows: every answer must agree. */
    private static void same(
            RateWindows exact, RateWindows leased, String key, int rpm, long tpm, List<Integer> steps) {
        long now = T0 + KEYS.get() * 7_919L;
        for (int step : steps) {
            // mostly a few millis apart, now and then a jump that may start a new minute
            now += step % 10 == 0 ? 20_000 : step % 7;
            // mostly small requests, which shares serve, and now and then one larger than most
            long tokens = (step / 10) % 13 == 0 ? step % 100_000 : step % 700;
            // now and then the key's limits change within the minute
            boolean lowered = (step / 130) % 17 == 0;
            int r = lowered ? rpm / 2 : rpm;
            long t = lowered ? tpm / 2 : tpm;
            long a = exact.tryAcquire(key, now, r, tokens, t);
            long b = leased.tryAcquire(key, now, r, tokens, t);
            assertEquals(a, b, "request of " + tokens + " tokens at " + now + " under rpm " + r + ", tpm " + t);
        }
    }

    @Test
    void twoProcessesEnforceOneLimit() throws Exception {
        int rpm = 300_000;
        long tokens = 10;
        long tpm = 2_000_000; // binds first: 200,000 requests
        int n = 300_000;
        long now = T0 + 5_000;
        long mine;
        long theirs;
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("rates", dir.toString(), "k", "" + now, "" + rpm, "" + tokens, "" + tpm, "" + n)
                    .start();
            child.await("ready");
            child.send("go");
            child.await("racing");
            mine = StateChild.rates(store.rates(), "k", now, rpm, tokens, tpm, n);
            theirs = Long.parseLong(child.await("granted=").substring("granted=".length()));
            assertEquals(0, child.process().waitFor());
        }
        System.out.println("two processes: this one got " + mine + ", the child " + theirs + " of " + tpm / tokens);
        assertTrue((mine + theirs) * tokens <= tpm, mine + " + " + theirs + " requests of " + tokens + " > " + tpm);
        assertTrue(mine > 0 && theirs > 0, "both processes took part: " + mine + ", " + theirs);
        // both closed, so every share went back: the entry counts exactly what was granted
        try (StateStore after = StateStore.open(dir)) {
            long rest = StateChild.rates(after.rates(), "k", now, rpm, tokens, tpm, n);
            assertEquals(tpm / tokens, mine + theirs + rest, "granted " + mine + " + " + theirs + ", then " + rest);
        }
    }

    @Test
    void aNewMinuteStartsAfreshAndAnOldShareLapses() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            // a takes a share of the first minute: 64 requests, counted as used
            assertEquals(0, a.rates().tryAcquire("k", T0, 1_000, 0, 0));
            // (935 unless a's share went back meanwhile, idle for a second on a loaded machine)
            long first = StateChild.rates(b.rates(), "k", T0 + 10, 1_000, 0, 0, 2_000);
            assertTrue(first >= 1_000 - 65 && first <= 999, "b got " + first);
            assertEquals(60_000 - 10, b.rates().tryAcquire("k", T0 + 10, 1_000, 0, 0));

            // the next minute has the whole limit again; a's old share counts nothing in it
            assertEquals(1_000, StateChild.rates(b.rates(), "k", T0 + 60_000, 1_000, 0, 0, 2_000));
            assertEquals(60_000, a.rates().tryAcquire("k", T0 + 60_000, 1_000, 0, 0));
            assertEquals(60_000 - 1, a.rates().tryAcquire("k", T0 + 60_001, 1_000, 0, 0));
            // and the one after starts afresh for a too
            assertEquals(1_000, StateChild.rates(a.rates(), "k", T0 + 120_000, 1_000, 0, 0, 2_000));
        }
    }

    @Test
    void anIdleShareGoesBack() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            assertEquals(0, a.rates().tryAcquire("k", T0, 1_000, 0, 0));
            // a's unused share (at most 64, 1/8 of what was left) may refuse b early, by no more than it
            long first = StateChild.rates(b.rates(), "k", T0 + 1, 1_000, 0, 0, 2_000);
            assertTrue(first >= 999 - 64, "refused early by more than one share: " + first);
            long t0 = System.nanoTime();
            long total = first;
            while (total < 999 && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) {
                Thread.sleep(20);
                total += StateChild.rates(b.rates(), "k", T0 + 2, 1_000, 0, 0, 100);
            }
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("b got " + first + ", then the rest after a's idle share went back: " + waited + " ms");
            assertEquals(999, total, "a's idle share not returned after " + waited + " ms");
            assertEquals(60_000 - 3, b.rates().tryAcquire("k", T0 + 3, 1_000, 0, 0));
        }
    }

    @Test
    void aKilledProcessesShareLapsesWithItsMinute() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("rate-share", dir.toString(), "k", "" + T0, "1000000", "1000")
                    .start();
            child.await("holding");
            child.process().destroyForcibly();
            child.process().waitFor();
            // the child's request and its share (64 more of its size) stay counted for the minute
            assertEquals(1_000 - 65, StateChild.rates(store.rates(), "k", T0 + 1, 0, 1_000, 1_000_000, 2_000));
            // and no longer once it is over
            assertEquals(1_000, StateChild.rates(store.rates(), "k", T0 + 60_000, 0, 1_000, 1_000_000, 2_000));
        }
    }
}
