package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.spi.TaskClass;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Old days go: budget and answer files beyond their windows are deleted once no store has them
 * open, recent ones and today's and tomorrow's kept.
 */
class StateStorePurgeTest {
    private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);
    private static final StateStore.Options TEN_DAYS = new StateStore.Options(10);
    private static final long NOW = System.currentTimeMillis();
    private static final long DAY_MILLIS = 24L * 3600 * 1000;

    @TempDir
    Path dir;

    @Test
    void openDeletesTheDaysBeyondTheWindowAndKeepsTheRest() throws Exception {
        try (StateStore s = StateStore.open(dir, TEN_DAYS)) {
            for (int daysAgo : new int[] {40, 11, 10, 3, 1}) {
                spend(s, TODAY.minusDays(daysAgo), 5);
            }
        }
        try (StateStore s = StateStore.open(dir, TEN_DAYS)) {
            assertEquals(days(10, 3, 1, 0, -1), filesOnDisk("budgets"));
            assertEquals(new DayUsage(5, 0, 1), s.budgets().usage("k", TODAY.minusDays(10)));
            // a read of a deleted day answers nothing and does not bring the file back
            assertEquals(DayUsage.ZERO, s.budgets().usage("k", TODAY.minusDays(11)));
            assertEquals(days(10, 3, 1, 0, -1), filesOnDisk("budgets"));
        }
    }

    @Test
    void aLaterPurgeUnmapsPastDaysAndDeletesFilesThisProcessHadOpen() throws Exception {
        try (StateStore s = StateStore.open(dir, TEN_DAYS)) {
            spend(s, TODAY, 7);
            assertEquals(Set.of(TODAY, TODAY.plusDays(1)), s.openDays());

            // three days on: today's file is unmapped, not deleted; tomorrow's is two days back, still mapped
            assertEquals(List.of(), s.purgeDays(TODAY.plusDays(3)));
            assertEquals(Set.of(TODAY.plusDays(1)), s.openDays());
            assertEquals(new DayUsage(7, 0, 1), s.budgets().usage("k", TODAY));

            // twelve days on: both are beyond the window, although this process had them open
            assertEquals(List.of(TODAY, TODAY.plusDays(1)), s.purgeDays(TODAY.plusDays(12)));
            assertEquals(Set.of(), s.openDays());
            assertEquals(Set.of(), filesOnDisk("budgets"));
            assertEquals(DayUsage.ZERO, s.budgets().usage("k", TODAY));
        }
    }

    @Test
    void answerFilesOlderThanEightDaysArePurgedOnceNoStoreHasThemOpen() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            for (int daysAgo : new int[] {10, 8, 7, 1}) {
                a.answers().remember("req_" + daysAgo, answer(daysAgo));
            }
            b.answers().remember("req_b", answer(10));
            // answers reach their day files at the stores' next flush
            a.flush();
            b.flush();
            assertEquals(days(10, 8, 7, 1, 0, -1), filesOnDisk("answers"));

            // a unmaps what feedback no longer reads; b still has day -10 open, so it stays
            assertEquals(List.of(), a.purgeDays(TODAY));
            assertEquals(days(7, 1, 0, -1), a.openAnswerDays());
            assertEquals(days(10, 8, 7, 1, 0, -1), filesOnDisk("answers"));

            assertEquals(List.of(TODAY.minusDays(10)), b.purgeDays(TODAY));
            assertEquals(days(8, 7, 1, 0, -1), filesOnDisk("answers"));
            assertEquals(
                    "sim/alpha@sim-east", a.answers().find("req_7", "acme", NOW).candidateId());
        }
        try (StateStore s = StateStore.open(dir)) {
            assertEquals(days(8, 7, 1, 0, -1), filesOnDisk("answers"), "the purge at open keeps eight days back");
            // eight days on, every file before today goes
            assertEquals(
                    List.of(TODAY.minusDays(8), TODAY.minusDays(7), TODAY.minusDays(1)),
                    s.purgeDays(TODAY.plusDays(8)));
            assertEquals(days(0, -1), filesOnDisk("answers"));
        }
    }

    @Test
    void theHeapStoreForgetsTheDaysBeyondTheWindow() throws Exception {
        StateStore s = StateStore.inMemory();
        spend(s, TODAY.minusDays(36), 5);
        spend(s, TODAY.minusDays(35), 6);
        spend(s, TODAY.minusDays(3), 7);
        assertEquals(List.of(TODAY.minusDays(36)), s.purgeDays(TODAY));
        assertEquals(DayUsage.ZERO, s.budgets().usage("k", TODAY.minusDays(36)));
        assertEquals(new DayUsage(6, 0, 1), s.budgets().usage("k", TODAY.minusDays(35)));
        // the heap holds the only copy: past days are not dropped before the window ends
        assertEquals(new DayUsage(7, 0, 1), s.budgets().usage("k", TODAY.minusDays(3)));
    }

    @Test
    void theWindowMustCoverTheDaysRequestsStillWrite() {
        assertEquals(35, StateStore.Options.DEFAULTS.budgetDaysKept());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new StateStore.Options(2));
        assertEquals("budgetDaysKept: 2 (expected: > 2)", e.getMessage());
    }

    private static void spend(StateStore s, LocalDate day, long amount) {
        Reservation r = s.budgets().reserve("k", day, amount, 1_000);
        assertTrue(r.granted());
        s.budgets().settle(r, amount);
    }

    private static AnswerLog.Answer answer(int daysAgo) {
        return new AnswerLog.Answer(
                "acme", "sim/alpha@sim-east", TaskClass.of(false, true, 10), NOW - daysAgo * DAY_MILLIS);
    }

    /** Days as days before today (negative: after). */
    private static Set<LocalDate> days(int... daysAgo) {
        Set<LocalDate> out = new TreeSet<>();
        for (int d : daysAgo) {
            out.add(TODAY.minusDays(d));
        }
        return out;
    }

    private Set<LocalDate> filesOnDisk(String folder) throws IOException {
        Set<LocalDate> out = new TreeSet<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir.resolve(folder))) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                assertTrue(name.endsWith(".cm3"), name);
                out.add(LocalDate.parse(name.substring(0, name.length() - 4)));
            }
        }
        return out;
    }
}
