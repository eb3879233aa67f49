package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many threads race for one small budget: never more granted than it holds, no settle lost. */
class BudgetConcurrencyTest {
    private static final LocalDate DAY = LocalDate.of(2026, 11, 26);

    @TempDir
    Path dir;

    @Test
    void heapLedger() throws Exception {
        race(StateStore.inMemory().budgets());
    }

    @Test
    void chronicleLedger() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            race(store.budgets());
        }
    }

    private static void race(BudgetLedger ledger) throws Exception {
        long budget = 1_000_003;
        int threads = 16;
        int attempts = 5_000;
        AtomicLong granted = new AtomicLong();
        AtomicLong charged = new AtomicLong();
        AtomicLong settles = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < attempts; i++) {
                    long amount = 1 + (seed * 31L + i * 17L) % 40;
                    Reservation r = ledger.reserve("hot", DAY, amount, budget);
                    if (!r.granted()) {
                        continue;
                    }
                    granted.addAndGet(amount);
                    if (i % 5 == 0) {
                        ledger.release(r);
                        granted.addAndGet(-amount);
                    } else {
                        // settle a little under the reservation, as a real answer does
                        long actual = amount - i % 3;
                        ledger.settle(r, Math.max(0, actual));
                        charged.addAndGet(Math.max(0, actual));
                        settles.incrementAndGet();
                    }
                }
            });
            all.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : all) {
            th.join();
        }
        DayUsage u = ledger.usage("hot", DAY);
        assertEquals(0, u.reservedNano());
        assertEquals(charged.get(), u.spentNano(), "no settle lost");
        assertEquals(settles.get(), u.requests());
        assertTrue(u.spentNano() <= budget, u + " over " + budget);
        // 16 × 5,000 asks of about 20 are eight times the budget: it must have run out
        assertTrue(budget - u.spentNano() < 1_000, "budget left unused: " + u);
    }

    @Test
    void exactlyTheBudgetIsGrantedWhenEveryoneHoldsTheirReservation() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            BudgetLedger ledger = store.budgets();
            AtomicLong granted = new AtomicLong();
            List<Thread> all = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 500; i++) {
                        if (ledger.reserve("last-cents", DAY, 3, 1_000).granted()) {
                            granted.addAndGet(3);
                        }
                    }
                });
                all.add(th);
                th.start();
            }
            for (Thread th : all) {
                th.join();
            }
            assertEquals(999, granted.get());
            assertEquals(new DayUsage(0, 999, 0), ledger.usage("last-cents", DAY));
            Reservation refused = ledger.reserve("last-cents", DAY, 2, 1_000);
            assertEquals(false, refused.granted());
            assertEquals(1, refused.remainingNano());
            // nothing is spent: only the 333 holds are in the way
            assertEquals(Reservation.Verdict.BUSY, refused.verdict());
            assertEquals(999, refused.heldNano());
            assertEquals(333, refused.heldCount());
            assertEquals(
                    Reservation.Verdict.EXCEEDED,
                    ledger.reserve("last-cents", DAY, 1_001, 1_000).verdict(),
                    "more than the whole budget never fits");
        }
    }

    @Test
    void racingRefusalsSayWhyAndNoneIsBusyOnceNothingIsInFlight() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            racingVerdicts(store.budgets());
        }
        racingVerdicts(StateStore.inMemory().budgets());
    }

    /**
     * Threads reserve 50..149 of 20,000 and settle a tenth of it, as real answers do, until the
     * settled spend leaves no room for their largest ask. Each refusal's verdict must agree with the
     * figures it was decided on; when all have stopped, a refusal is never busy.
     */
    private static void racingVerdicts(BudgetLedger ledger) throws Exception {
        long budget = 20_000;
        AtomicLong charged = new AtomicLong();
        AtomicLong busy = new AtomicLong();
        List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int seed = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 200_000; i++) {
                    long amount = 50 + (seed * 37L + i * 13L) % 100;
                    Reservation r = ledger.reserve("burst", DAY, amount, budget);
                    if (r.granted()) {
                        ledger.settle(r, amount / 10);
                        charged.addAndGet(amount / 10);
                        continue;
                    }
                    boolean roomInSpend = r.spentNano() + amount <= budget;
                    if (r.spentNano() + r.heldNano() + amount <= budget
                            || roomInSpend != (r.verdict() == Reservation.Verdict.BUSY)) {
                        wrong.add(r.toString());
                    }
                    if (r.verdict() == Reservation.Verdict.BUSY) {
                        busy.incrementAndGet();
                    } else if (r.spentNano() + 149 > budget) {
                        return; // the day's spend leaves no room for any ask of this thread
                    }
                }
                wrong.add("thread " + seed + " never saw the budget spent");
            });
            all.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : all) {
            th.join();
        }
        assertEquals(List.of(), wrong);
        DayUsage u = ledger.usage("burst", DAY);
        assertEquals(charged.get(), u.spentNano(), "no settle lost");
        assertEquals(0, u.reservedNano());
        assertTrue(u.spentNano() <= budget, u + " over " + budget);
        for (long amount = 1; amount <= 200; amount++) {
            Reservation r = ledger.reserve("burst", DAY, amount, budget);
            assertEquals(
                    u.spentNano() + amount <= budget ? Reservation.Verdict.GRANTED : Reservation.Verdict.EXCEEDED,
                    r.verdict(),
                    "nothing in flight: " + r);
            ledger.release(r);
        }
    }

    @Test
    void argumentsOutOfRangeAreRefused() {
        BudgetLedger ledger = StateStore.inMemory().budgets();
        assertThrows(IllegalArgumentException.class, () -> ledger.reserve("k", DAY, -1, 10));
        Reservation r = ledger.reserve("k", DAY, 5, 10);
        assertThrows(IllegalArgumentException.class, () -> ledger.settle(r, -1));
    }
}
