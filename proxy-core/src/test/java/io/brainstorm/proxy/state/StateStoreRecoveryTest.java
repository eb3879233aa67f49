package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.Observation;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged state file that no other process has open is moved aside beside a fresh one; a file
 * that fails for another reason is reported and left as it is.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StateStoreRecoveryTest {
    private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);
    private static final TaskClass CLASS = TaskClass.of(false, true, 10);

    @TempDir
    Path dir;

    @Test
    void aGarbledLearningFileIsMovedAsideAndLearningStartsAfresh() throws Exception {
        try (StateStore s = StateStore.open(dir)) {
            s.learning(settings(1.0)).observe("c@e", CLASS, Observation.of(1, 1, 0));
            spend(s, TODAY, 5);
        }
        Path learning = dir.resolve("beliefs.cm3");
        byte[] damaged = Damage.garble(learning, 16);

        try (StateStore s = StateStore.open(dir)) {
            assertEquals(
                    Posterior.PRIOR,
                    s.learning(settings(1.0)).belief("c@e", CLASS).posterior());
            assertEquals(Map.of(), s.learning(settings(1.0)).snapshot());
            // the other files are untouched
            assertEquals(new DayUsage(5, 0, 1), s.budgets().usage("k", TODAY));
            s.learning(settings(1.0)).observe("c@e", CLASS, Observation.of(0, 1, 0));
        }
        List<Path> aside = Damage.asideCopies(learning);
        assertEquals(1, aside.size(), aside.toString());
        assertTrue(
                aside.get(0).getFileName().toString().matches("beliefs\\.cm3\\.corrupt-\\d{8}T\\d{6}Z"),
                aside.toString());
        assertArrayEquals(damaged, Files.readAllBytes(aside.get(0)));

        // the fresh file is a healthy one: kept across a reopen, nothing more moved aside
        try (StateStore s = StateStore.open(dir)) {
            assertEquals(
                    new Posterior(1, 2, 1),
                    s.learning(settings(1.0)).belief("c@e", CLASS).posterior());
        }
        assertEquals(aside, Damage.asideCopies(learning));
    }

    @Test
    void aTruncatedDayFileIsMovedAsideAndThatDaysSpendStartsFromZero() throws Exception {
        try (StateStore s = StateStore.open(dir)) {
            spend(s, TODAY, 5);
            spend(s, TODAY.minusDays(1), 6);
        }
        Path today = dir.resolve("budgets").resolve(TODAY + ".cm3");
        byte[] damaged = Damage.truncateToHalf(today);

        try (StateStore s = StateStore.open(dir)) {
            assertEquals(DayUsage.ZERO, s.budgets().usage("k", TODAY));
            assertEquals(new DayUsage(6, 0, 1), s.budgets().usage("k", TODAY.minusDays(1)));
            spend(s, TODAY, 7);
            assertEquals(new DayUsage(7, 0, 1), s.budgets().usage("k", TODAY));
        }
        List<Path> aside = Damage.asideCopies(today);
        assertEquals(1, aside.size(), aside.toString());
        assertArrayEquals(damaged, Files.readAllBytes(aside.get(0)));
    }

    @Test
    void aGarbledHeaderSizeIsDamageToo() throws Exception {
        try (StateStore s = StateStore.open(dir)) {
            assertEquals(0, s.rates().tryAcquire("k", 1_000, 1, 0, 0));
            assertEquals(59_000, s.rates().tryAcquire("k", 1_000, 1, 0, 0));
        }
        Path rates = dir.resolve("rates.cm3");
        byte[] damaged = Damage.garble(rates, 0);
        try (StateStore s = StateStore.open(dir)) {
            // this minute's count went with the file
            assertEquals(0, s.rates().tryAcquire("k", 1_000, 1, 0, 0));
        }
        assertArrayEquals(damaged, Files.readAllBytes(Damage.asideCopies(rates).get(0)));
    }

    @Test
    void aFileWhoseCreatorDiedBeforeFinishingTheHeaderIsRecoveredWithoutWaitingForIt() throws Exception {
        StateStore.open(dir).close();
        Path rates = dir.resolve("rates.cm3");
        byte[] unfinished = Damage.unfinishHeader(rates);
        long t0 = System.nanoTime();
        StateStore.open(dir).close();
        // Chronicle alone waits a minute for the creator, then fails
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(millis < 10_000, millis + " ms");
        assertArrayEquals(
                unfinished, Files.readAllBytes(Damage.asideCopies(rates).get(0)));
    }

    @Test
    void aFileThatIsNotARegularFileIsReportedAndLeftAlone() throws Exception {
        Path learning = Files.createDirectories(dir.resolve("beliefs.cm3"));
        IOException e = assertThrows(IOException.class, () -> StateStore.open(dir));
        assertTrue(
                e.getMessage().startsWith(learning + " cannot be opened: ")
                        && e.getMessage().contains("Is a directory")
                        && e.getMessage().endsWith("(not a damaged file, so it was left as it is)"),
                e.getMessage());
        assertTrue(Files.isDirectory(learning));
        assertEquals(List.of(), Damage.asideCopies(learning));
        // nothing held on: the directory opens once the path is free
        Files.delete(learning);
        StateStore.open(dir).close();
    }

    @Test
    void aFileThisProcessMayNotOpenIsReportedAndLeftAlone() throws Exception {
        StateStore.open(dir).close();
        Path learning = dir.resolve("beliefs.cm3");
        byte[] before = Damage.garble(learning, 16);
        Files.setPosixFilePermissions(learning, PosixFilePermissions.fromString("---------"));

        ChildJvm child = ChildJvm.main(StateChild.class)
                .prefix(withoutPermissionOverride())
                .args("open", dir.toString())
                .start();
        String line = child.await("");
        assertEquals(0, child.process().waitFor());
        assertTrue(
                line.startsWith("failed " + learning + " cannot be opened: ")
                        && line.contains("Permission denied")
                        && line.endsWith("(not a damaged file, so it was left as it is)"),
                line);
        assertEquals("---------", PosixFilePermissions.toString(Files.getPosixFilePermissions(learning)));
        assertArrayEquals(before, Files.readAllBytes(learning));
        assertEquals(List.of(), Damage.asideCopies(learning));
    }

    /** Root reads and writes any file: its child runs without that capability. */
    private static List<String> withoutPermissionOverride() throws IOException, InterruptedException {
        Process id = new ProcessBuilder("id", "-u").start();
        boolean root = new String(id.getInputStream().readAllBytes()).trim().equals("0");
        id.waitFor();
        if (!root) {
            return List.of();
        }
        Path setpriv = Path.of("/usr/bin/setpriv");
        Assumptions.assumeTrue(
                Files.isExecutable(setpriv),
                "running as root without " + setpriv + ", so file permissions cannot be taken away from the child");
        return List.of(setpriv.toString(), "--bounding-set=-dac_override,-dac_read_search", "--");
    }

    private static void spend(StateStore s, LocalDate day, long amount) {
        Reservation r = s.budgets().reserve("k", day, amount, 1_000);
        assertTrue(r.granted());
        s.budgets().settle(r, amount);
    }

    /** Discount {@code d}, no change detection: posteriors as {@link Posterior#update} gives them. */
    static LearningSettings settings(double d) {
        return LearningSettings.DEFAULTS.withDiscount(d).withDetector(ChangeDetector.OFF);
    }
}
