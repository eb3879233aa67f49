package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import io.brainstorm.proxy.testing.ChildJvm;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files store's budget leases (docs/architecture.md §6): a leased ledger answers every request
 * as a ledger without leases does, with the same figures; its spend shows at once and reaches the
 * file by close; an idle lease goes back, so another process is not refused for long; a killed
 * owner's lease is counted as spent, never more than one lease.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BudgetLeaseTest {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC);
    private static final AtomicInteger KEYS = new AtomicInteger();

    @TempDir
    Path dir;

    @Test
    void leasedLedgerAnswersAsAnExactOneDoes() throws Exception {
        try (StateStore files = StateStore.open(dir)) {
            BudgetLedger exact = StateStore.inMemory().budgets();
            BudgetLedger leased = files.budgets();
            qt().withExamples(200)
                    .forAll(
                            longs().between(0, 300_000),
                            lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 300))
                    .checkAssert(
                            (budget, steps) -> same(exact, leased, "key-" + KEYS.incrementAndGet(), budget, steps));
        }
    }

    /** Runs {@code steps} on both ledgers: every answer, with its figures, and every usage must agree. */
    private static void same(BudgetLedger exact, BudgetLedger leased, String key, long budget, List<Integer> steps) {
        List<Reservation[]> open = new ArrayList<>();
        for (int step : steps) {
            int op = step % 3;
            int arg = step / 3;
            if (op == 0 || open.isEmpty()) {
                // mostly small asks, which leases serve, and now and then a large one
                long amount = arg % 10 == 0 ? arg % 40_000 : arg % 1_200;
                Reservation a = exact.reserve(key, DAY, amount, budget);
                Reservation b = leased.reserve(key, DAY, amount, budget);
                assertEquals(figures(a), figures(b), "reserve " + amount + " of " + budget);
                if (a.granted()) {
                    open.add(new Reservation[] {a, b});
                }
            } else {
                Reservation[] r = open.remove(arg % open.size());
                if (arg % 4 == 0) {
                    exact.release(r[0]);
                    leased.release(r[1]);
                } else {
                    // mostly under the worst case, sometimes over it (the provider charged it)
                    long actual = (arg / 4) % (r[0].amountNano() * 5 / 4 + 1);
                    exact.settle(r[0], actual);
                    leased.settle(r[1], actual);
                    leased.settle(r[1], actual); // again: nothing changes
                }
            }
            assertEquals(exact.usage(key, DAY), leased.usage(key, DAY), "usage after step " + step);
        }
    }

    private static String figures(Reservation r) {
        return r.verdict() + " remaining=" + r.remainingNano() + " spent=" + r.spentNano() + " held=" + r.heldNano()
                + " count=" + r.heldCount();
    }

    @Test
    void spendShowsAtOnceAndCloseWritesBackEveryLease() throws Exception {
        long spent = 0;
        try (StateStore store = StateStore.open(dir)) {
            BudgetLedger ledger = store.budgets();
            for (int i = 0; i < 500; i++) {
                Reservation r = ledger.reserve("k", DAY, 1_000, 10_000_000);
                assertTrue(r.granted(), r.toString());
                ledger.settle(r, 300 + i);
                spent += 300 + i;
                // the user sees their spend at once, not when the lease is written back
                assertEquals(new DayUsage(spent, 0, i + 1), ledger.usage("k", DAY));
            }
            Reservation inFlight = ledger.reserve("k", DAY, 1_000, 10_000_000);
            assertTrue(inFlight.granted());
            assertEquals(new DayUsage(spent, 1_000, 500), ledger.usage("k", DAY));
            ledger.release(inFlight);
        }
        try (StateStore after = StateStore.open(dir)) {
            // nothing of the closed owner is reserved any more, and every settle reached the file
            assertEquals(0, after.releasedAtOpen());
            assertEquals(new DayUsage(spent, 0, 500), after.budgets().usage("k", DAY));
        }
    }

    @Test
    void anIdleLeaseGoesBack() throws Exception {
        try (StateStore store = StateStore.open(dir);
                StateStore other = StateStore.open(dir)) {
            store.budgets().settle(store.budgets().reserve("k", DAY, 1_000, 1_000_000), 400);
            // the other ledger sees the entry as it is: a lease of 1/8 of the budget, minus what went back
            DayUsage seen = other.budgets().usage("k", DAY);
            assertTrue(seen.reservedNano() >= 16 * 1_000, "no lease taken: " + seen);
            DayUsage u = waitFor(other.budgets(), "k", d -> d.reservedNano() == 0, 10_000);
            assertEquals(new DayUsage(400, 0, 1), u, "lease not returned");
        }
    }

    @Test
    void anotherProcessIsNotRefusedForLongBecauseOfAnIdleLease() throws Exception {
        long budget = 1_000_000;
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("lease", dir.toString(), "k", DAY.toString(), "1000", "" + budget, "0")
                    .start();
            child.await("leased");
            // all that is left but the child's spend: it fits only once the child's idle lease is back
            long rest = budget - 1_000;
            long t0 = System.nanoTime();
            Reservation r = store.budgets().reserve("k", DAY, rest, budget);
            while (!r.granted() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) {
                assertEquals(Reservation.Verdict.BUSY, r.verdict(), r.toString());
                Thread.sleep(20);
                r = store.budgets().reserve("k", DAY, rest, budget);
            }
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("granted after the child's idle lease went back: " + waited + " ms");
            assertTrue(r.granted(), "still refused after " + waited + " ms: " + r);
            assertEquals(0, r.remainingNano());
            child.process().destroyForcibly();
            child.process().waitFor();
        }
    }

    @Test
    void aKilledOwnersLeaseIsCountedAsSpentAndNoMore() throws Exception {
        long budget = 1_000_000;
        long amount = 1_000;
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("lease", dir.toString(), "k", DAY.toString(), "" + amount, "" + budget, "1")
                    .start();
            child.await("leased");
            // the child's lease: 64 worst cases (less than 1/8 of the budget), its spend inside it
            long lease = BudgetLease.size(amount, budget);
            assertEquals(64 * amount, lease);
            // written back or not yet, the child's spend and its unused money are the lease
            DayUsage seen = store.budgets().usage("k", DAY);
            assertEquals(lease, seen.spentNano() + seen.reservedNano(), seen.toString());
            // too large for a lease of its own (more than 1/128 of what is left): an exact reservation
            Reservation mine = store.budgets().reserve("k", DAY, 10_000, budget);
            assertTrue(mine.granted());

            child.process().destroyForcibly();
            child.process().waitFor();
            try (StateStore after = StateStore.open(dir)) {
                DayUsage u = after.budgets().usage("k", DAY);
                // the dead child's lease held unused money and (unless a refill had just written it
                // back) its 1,000 of spend, which cannot be told apart: all of it counts as spent, so
                // the day never under-counts and over-counts by at most one lease; a live process's
                // reservation stays
                assertTrue(u.spentNano() >= amount && u.spentNano() - amount <= lease, u.toString());
                assertTrue(u.spentNano() == lease || u.spentNano() == amount + lease, u.toString());
                assertEquals(10_000, u.reservedNano(), u.toString());
                Reservation rest = after.budgets().reserve("k", DAY, budget - u.spentNano(), budget);
                assertEquals(Reservation.Verdict.BUSY, rest.verdict(), "only this live process's 10,000 in the way");
            }
            store.budgets().release(mine);
        }
    }

    private static DayUsage waitFor(
            BudgetLedger ledger, String key, java.util.function.Predicate<DayUsage> done, long millis)
            throws InterruptedException {
        long t0 = System.nanoTime();
        DayUsage u = ledger.usage(key, DAY);
        while (!done.test(u) && System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(millis)) {
            Thread.sleep(20);
            u = ledger.usage(key, DAY);
        }
        return u;
    }
}
