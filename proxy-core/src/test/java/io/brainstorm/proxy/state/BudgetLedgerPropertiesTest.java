package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Any interleaving of reserve, settle and release (settling at most what was reserved, and ending
 * some reservations twice) keeps spent + reserved within the budget, nothing negative, and every
 * nano-USD accounted for: spent + reserved = settled actuals + open reservations. Every refusal
 * says why, with the figures it was decided on: exceeded when the settled spend leaves no room,
 * busy when only the reservations in flight are in the way.
 */
class BudgetLedgerPropertiesTest {
    private static final LocalDate DAY = LocalDate.of(2026, 11, 26);
    private static final AtomicInteger KEYS = new AtomicInteger();

    @TempDir
    static Path dir;

    private static StateStore chronicle;

    @BeforeAll
    static void open() throws IOException {
        chronicle = StateStore.open(dir);
    }

    @AfterAll
    static void close() {
        chronicle.close();
    }

    @Test
    void heapLedgerNeverOverspendsAndConservesMoney() {
        check(StateStore.inMemory().budgets());
    }

    @Test
    void chronicleLedgerNeverOverspendsAndConservesMoney() {
        check(chronicle.budgets());
    }

    private static void check(BudgetLedger ledger) {
        qt().withExamples(300)
                .forAll(
                        longs().between(0, 5_000),
                        lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 80))
                .checkAssert((budget, steps) -> run(ledger, "key-" + KEYS.incrementAndGet(), budget, steps));
    }

    private static void run(BudgetLedger ledger, String key, long budget, List<Integer> steps) {
        List<Reservation> open = new ArrayList<>();
        List<Reservation> ended = new ArrayList<>();
        long settledActuals = 0;
        long settledCount = 0;
        for (int step : steps) {
            int op = step % 4;
            int arg = step / 4;
            if (op == 0 || open.isEmpty() && op != 3) {
                long amount = arg % 1_200;
                Reservation r = ledger.reserve(key, DAY, amount, budget);
                DayUsage before = usageWithout(open, ended, settledActuals, settledCount);
                assertTrue(r.remainingNano() >= 0, "remaining " + r.remainingNano());
                assertEquals(before.spentNano(), r.spentNano(), "spent seen by the decision");
                assertEquals(before.reservedNano(), r.heldNano(), "held seen by the decision");
                assertEquals(open.size(), r.heldCount(), "reservations in flight seen by the decision");
                if (r.granted()) {
                    assertEquals(Reservation.Verdict.GRANTED, r.verdict());
                    open.add(r);
                    assertEquals(budget - before.spentNano() - before.reservedNano() - amount, r.remainingNano());
                } else {
                    assertTrue(
                            before.spentNano() + before.reservedNano() + amount > budget,
                            "refused " + amount + " with " + before + " of " + budget);
                    Reservation.Verdict expected = before.spentNano() + amount > budget
                            ? Reservation.Verdict.EXCEEDED
                            : Reservation.Verdict.BUSY;
                    assertEquals(expected, r.verdict(), "refused " + amount + " with " + before + " of " + budget);
                    if (r.verdict() == Reservation.Verdict.BUSY) {
                        // busy is the truth: with nothing in flight the same request fits
                        assertTrue(open.size() > 0, "busy with nothing in flight: " + before);
                    }
                }
            } else if (op == 1 && !open.isEmpty()) {
                Reservation r = open.remove(arg % open.size());
                long actual = r.amountNano() == 0 ? 0 : (arg / 7) % (r.amountNano() + 1);
                ledger.settle(r, actual);
                ended.add(r);
                settledActuals += actual;
                settledCount++;
            } else if (op == 2 && !open.isEmpty()) {
                Reservation r = open.remove(arg % open.size());
                ledger.release(r);
                ended.add(r);
            } else if (!ended.isEmpty()) {
                // ending a reservation again changes nothing
                Reservation r = ended.get(arg % ended.size());
                if (arg % 2 == 0) {
                    ledger.settle(r, r.amountNano());
                } else {
                    ledger.release(r);
                }
            }
            DayUsage u = ledger.usage(key, DAY);
            long openAmount = open.stream().mapToLong(Reservation::amountNano).sum();
            assertTrue(u.spentNano() >= 0 && u.reservedNano() >= 0 && u.requests() >= 0, u.toString());
            assertTrue(u.spentNano() + u.reservedNano() <= budget, u + " over budget " + budget);
            assertEquals(settledActuals, u.spentNano(), "spent");
            assertEquals(openAmount, u.reservedNano(), "reserved");
            assertEquals(settledCount, u.requests(), "requests");
        }
    }

    /** The model's usage, which the ledger was just checked against after the previous step. */
    private static DayUsage usageWithout(List<Reservation> open, List<Reservation> ended, long settled, long count) {
        return new DayUsage(
                settled, open.stream().mapToLong(Reservation::amountNano).sum(), count);
    }
}
