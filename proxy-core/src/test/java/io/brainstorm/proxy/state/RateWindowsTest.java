package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-minute request and token limits on an injected time, on both stores. */
class RateWindowsTest {
    private static final long T0 = 1_764_000_000_000L; // a minute boundary (divisible by 60,000)

    @TempDir
    Path dir;

    @Test
    void heap() {
        check(StateStore.inMemory().rates());
    }

    @Test
    void chronicle() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            check(store.rates());
        }
    }

    @Test
    void chronicleWindowsAreSharedByStoresOnOneDirectory() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            assertEquals(0, a.rates().tryAcquire("k", T0, 2, 0, 0));
            assertEquals(0, b.rates().tryAcquire("k", T0 + 1, 2, 0, 0));
            assertEquals(60_000 - 2, a.rates().tryAcquire("k", T0 + 2, 2, 0, 0));
        }
    }

    private static void check(RateWindows w) {
        assertEquals(0, T0 % 60_000);
        // rpm 3: the fourth request of the minute waits for the next minute
        for (int i = 0; i < 3; i++) {
            assertEquals(0, w.tryAcquire("rpm", T0 + 1_000 * i, 3, 10, 0));
        }
        assertEquals(60_000 - 15_000, w.tryAcquire("rpm", T0 + 15_000, 3, 10, 0));
        assertEquals(1, w.tryAcquire("rpm", T0 + 59_999, 3, 10, 0));
        assertEquals(0, w.tryAcquire("rpm", T0 + 60_000, 3, 10, 0));
        // other keys are counted apart
        assertEquals(0, w.tryAcquire("other", T0 + 15_000, 3, 10, 0));

        // tpm 100: 60 + 40 fit, one more token does not; a refused request counts nothing
        assertEquals(0, w.tryAcquire("tpm", T0, 0, 60, 100));
        assertEquals(60_000 - 30_000, w.tryAcquire("tpm", T0 + 30_000, 0, 41, 100));
        assertEquals(0, w.tryAcquire("tpm", T0 + 30_001, 0, 40, 100));
        assertEquals(60_000 - 30_002, w.tryAcquire("tpm", T0 + 30_002, 0, 1, 100));
        assertEquals(0, w.tryAcquire("tpm", T0 + 60_000, 0, 100, 100));

        // a request larger than tpm alone goes through only as the first of an empty minute
        assertEquals(0, w.tryAcquire("big", T0, 0, 500, 100));
        assertEquals(0, w.tryAcquire("big", T0 + 120_000, 0, 500, 100));
        assertEquals(60_000 - 1, w.tryAcquire("big", T0 + 120_001, 0, 1, 100));

        // both limits: whichever is reached first refuses
        assertEquals(0, w.tryAcquire("both", T0, 1, 1, 100));
        assertEquals(60_000, w.tryAcquire("both", T0, 1, 1, 100));

        // unlimited
        for (int i = 0; i < 100; i++) {
            assertEquals(0, w.tryAcquire("free", T0, 0, 1_000_000, 0));
        }
    }
}
