package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Processes sharing one state directory: one budget between them, and dead owners released at the next open. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MultiProcessBudgetTest {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC);

    @TempDir
    Path dir;

    @Test
    void twoProcessesEnforceOneSharedBudget() throws Exception {
        long amount = 7;
        // leases make a reservation a heap CAS: a budget of 20,000 requests was gone before the
        // child's cold JVM asked once, so the race is ten times longer and the child starts first
        long budget = 200_000 * amount + 3;
        int n = 200_000;
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("race", dir.toString(), "k1", DAY.toString(), "" + amount, "" + budget, "" + n)
                    .start();
            child.await("ready");
            child.send("go");
            Thread.sleep(5);
            long mine = StateChild.race(store.budgets(), "k1", DAY, amount, budget, n);
            long theirs = Long.parseLong(child.await("granted=").substring("granted=".length()));
            assertEquals(0, child.process().waitFor());
            DayUsage u = store.budgets().usage("k1", DAY);
            System.out.println("two processes: this one got " + mine + ", the child " + theirs + " of " + budget);
            // both asked for the whole budget; together they got no more than it, and every grant was settled
            assertTrue(mine + theirs <= budget, mine + " + " + theirs + " > " + budget);
            assertEquals(budget - budget % amount, mine + theirs, "the budget was used up");
            assertTrue(mine > 0 && theirs > 0, "both processes took part: " + mine + ", " + theirs);
            assertEquals(new DayUsage(mine + theirs, 0, (mine + theirs) / amount), u);
        }
    }

    @Test
    void reservationsOfAKilledProcessAreReleasedAtTheNextOpenAndItsSpendKept() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            Reservation mine = store.budgets().reserve("k2", DAY, 100, 10_000);
            assertTrue(mine.granted());

            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("hold", dir.toString(), "k2", DAY.toString(), "1000", "10000", "3")
                    .start();
            assertEquals("holding 3", child.await("holding"));
            assertEquals(new DayUsage(1_000, 3_100, 1), store.budgets().usage("k2", DAY));

            // a live peer's reservations survive another process opening the store
            try (StateStore again = StateStore.open(dir)) {
                assertEquals(0, again.releasedAtOpen());
                assertEquals(new DayUsage(1_000, 3_100, 1), again.budgets().usage("k2", DAY));
            }

            child.process().destroyForcibly();
            child.process().waitFor();
            try (StateStore after = StateStore.open(dir)) {
                assertEquals(3, after.releasedAtOpen());
                // the dead child's settled spend stays; this live process's reservation stays
                assertEquals(new DayUsage(1_000, 100, 1), after.budgets().usage("k2", DAY));
            }
            store.budgets().settle(mine, 60);
            assertEquals(new DayUsage(1_060, 0, 2), store.budgets().usage("k2", DAY));
        }
    }
}
