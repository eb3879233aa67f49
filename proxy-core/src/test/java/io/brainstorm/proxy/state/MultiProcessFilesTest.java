package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A file another process has open is neither purged nor recovered under it; once that process is gone, it is. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MultiProcessFilesTest {
    private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);

    @TempDir
    Path dir;

    private ChildJvm child;

    @AfterEach
    void stopChild() throws InterruptedException {
        if (child != null) {
            child.process().destroyForcibly();
            child.process().waitFor();
        }
    }

    @Test
    void aDayFileAnotherProcessHasOpenIsNotDeletedUntilItClosesIt() throws Exception {
        LocalDate held = TODAY.minusDays(40);
        LocalDate free = TODAY.minusDays(41);
        child = ChildJvm.main(StateChild.class)
                .args("hold", dir.toString(), "k", held.toString(), "1000", "10000", "1")
                .start();
        assertEquals("holding 1", child.await("holding"));
        try (StateStore s = StateStore.open(dir)) {
            s.budgets().settle(s.budgets().reserve("k", free, 5, 10_000), 5);
        }

        try (StateStore s = StateStore.open(dir)) {
            assertFalse(Files.exists(dayFile(free)), "a day nobody has open is deleted at open");
            assertTrue(Files.exists(dayFile(held)));
            assertEquals(new DayUsage(1_000, 1_000, 1), s.budgets().usage("k", held));
            // the hourly purge: this process's own mapping of the day is closed, the child's stays
            assertEquals(List.of(), s.purgeDays(TODAY));
            assertTrue(Files.exists(dayFile(held)));

            child.process().destroyForcibly();
            child.process().waitFor();
            assertEquals(List.of(held), s.purgeDays(TODAY));
            assertFalse(Files.exists(dayFile(held)));
        }
    }

    @Test
    void aDamagedFileAnotherProcessHasOpenIsLeftAloneWithAClearError() throws Exception {
        child = ChildJvm.main(StateChild.class)
                .args("hold", dir.toString(), "k", TODAY.toString(), "1000", "10000", "1")
                .start();
        assertEquals("holding 1", child.await("holding"));
        Path learning = dir.resolve("beliefs.cm3");
        // the child has the file mapped, and does not read its header again
        byte[] damaged = Damage.garble(learning, 16);

        IOException e = assertThrows(IOException.class, () -> StateStore.open(dir));
        assertEquals(
                learning + " is damaged (file=" + learning + " Self Bootstrapping Header checksum doesn't match"
                        + " the stored checksum) and another gateway process has it open; recovery needs every gateway"
                        + " process on " + dir + " stopped",
                e.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(learning));
        assertEquals(List.of(), Damage.asideCopies(learning));

        child.process().destroyForcibly();
        child.process().waitFor();
        try (StateStore s = StateStore.open(dir)) {
            assertArrayEquals(
                    damaged, Files.readAllBytes(Damage.asideCopies(learning).get(0)));
            // the budgets were not touched: the dead child's spend stays, its reservation is released
            assertEquals(1, s.releasedAtOpen());
            assertEquals(new DayUsage(1_000, 0, 1), s.budgets().usage("k", TODAY));
        }
    }

    private Path dayFile(LocalDate day) {
        return dir.resolve("budgets").resolve(day + ".cm3");
    }
}
