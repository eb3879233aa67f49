package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Why a reservation is refused: busy while holds of requests in flight are in the way, exceeded once
 * the settled spend itself leaves no room, with the figures the ledger decided on.
 */
class BudgetVerdictTest {
    private static final LocalDate DAY = LocalDate.of(2026, 11, 26);

    @TempDir
    Path dir;

    @Test
    void heapLedger() {
        burstThenSpend(StateStore.inMemory().budgets());
    }

    @Test
    void chronicleLedger() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            burstThenSpend(store.budgets());
        }
    }

    private static void burstThenSpend(BudgetLedger ledger) {
        Reservation a = ledger.reserve("k", DAY, 400, 1_000);
        Reservation b = ledger.reserve("k", DAY, 400, 1_000);
        Reservation busy = ledger.reserve("k", DAY, 400, 1_000);
        assertEquals(Reservation.Verdict.BUSY, busy.verdict(), busy.toString());
        assertEquals(new DayUsage(0, 800, 0), new DayUsage(busy.spentNano(), busy.heldNano(), 0));
        assertEquals(2, busy.heldCount());
        assertEquals(200, busy.remainingNano());

        // the holds end far below their worst case: the same request now fits
        ledger.settle(a, 100);
        ledger.settle(b, 100);
        Reservation c = ledger.reserve("k", DAY, 400, 1_000);
        assertEquals(Reservation.Verdict.GRANTED, c.verdict());
        assertEquals(200, c.spentNano());
        ledger.settle(c, 400);

        Reservation exceeded = ledger.reserve("k", DAY, 401, 1_000);
        assertEquals(Reservation.Verdict.EXCEEDED, exceeded.verdict(), exceeded.toString());
        assertEquals(600, exceeded.spentNano());
        assertEquals(0, exceeded.heldNano());
        // what the spend leaves still fits, and while it is held the next one is busy, not exceeded
        Reservation last = ledger.reserve("k", DAY, 400, 1_000);
        assertEquals(Reservation.Verdict.GRANTED, last.verdict());
        assertEquals(
                Reservation.Verdict.BUSY, ledger.reserve("k", DAY, 1, 1_000).verdict());
        ledger.settle(last, 400);
        Reservation spent = ledger.reserve("k", DAY, 1, 1_000);
        assertEquals(Reservation.Verdict.EXCEEDED, spent.verdict());
        assertEquals(0, spent.remainingNano());
        assertEquals(new DayUsage(1_000, 0, 4), ledger.usage("k", DAY));
    }
}
