package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the store cannot do ends in a {@link StateStoreException} with a message, never a crash or silent loss. */
class StateStoreErrorsTest {
    @TempDir
    Path dir;

    @Test
    void aFullMapRefusesNewKeysWithAClearError() throws Exception {
        try (ChronicleCellStore<Long> s = ChronicleCellStore.hashed(dir.resolve("tiny.cm3"), "tiny", 3, 100)) {
            StateStoreException e = assertThrows(StateStoreException.class, () -> {
                for (int i = 0; i < 1_000_000; i++) {
                    s.update("key-" + i, c -> c[0] = 1);
                }
            });
            assertTrue(e.getMessage().contains("tiny.cm3 is full"), e.getMessage());
            // keys already there still work
            assertEquals(2, s.update("key-0", c -> ++c[0]));
        }
    }

    @Test
    void aNinthOwnerProcessOnOneEntryIsRefused() {
        long[] c = new long[BudgetCells.LENGTH];
        for (int p = 1; p <= BudgetCells.OWNER_SLOTS; p++) {
            assertTrue(BudgetCells.reserve(c, new ProcessOwner(p, 7), 1, 100, "k", "2026-11-26"));
        }
        StateStoreException e = assertThrows(
                StateStoreException.class,
                () -> BudgetCells.reserve(c, new ProcessOwner(99, 7), 1, 100, "k", "2026-11-26"));
        assertTrue(e.getMessage().startsWith("k on 2026-11-26: 8 processes"), e.getMessage());
        // an owner that ends its reservations frees its slot
        BudgetCells.release(c, new ProcessOwner(3, 7), 1);
        assertTrue(BudgetCells.reserve(c, new ProcessOwner(99, 7), 1, 100, "k", "2026-11-26"));
        assertEquals(8, BudgetCells.reserved(c));
    }

    @Test
    void aReusedPidIsNotTheOwner() {
        ProcessOwner me = ProcessOwner.CURRENT;
        assertTrue(me.isAlive());
        long parent = ProcessHandle.current().parent().orElseThrow().pid();
        ProcessOwner parentNow = ProcessOwner.of(ProcessHandle.of(parent).orElseThrow());
        assertTrue(parentNow.isAlive());
        // the same pid started at another time is someone else, long gone
        assertEquals(false, new ProcessOwner(parent, parentNow.startMillis() - 3_600_000).isAlive());
        assertEquals(false, new ProcessOwner(Integer.MAX_VALUE - 1L, 0).isAlive());
    }
}
