package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Observation;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learnt posteriors: the same rule as {@link Posterior#update} however the observations are
 * batched, this process's own seen at once, another's once written, kept across close and open, no
 * update lost.
 */
class LearningStoreTest {
    private static final TaskClass JSON_SMALL = TaskClass.of(false, true, 10);
    private static final TaskClass TOOLS_LARGE = TaskClass.of(true, false, 100_000);

    @TempDir
    Path dir;

    @Test
    void posteriorsSurviveCloseAndOpen() throws Exception {
        Posterior expected = Posterior.PRIOR.update(1, 1, 0.9).update(0.25, 3, 0.9);
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(settings(0.9));
            assertEquals(
                    Posterior.PRIOR, l.belief("sim/alpha@sim-east", JSON_SMALL).posterior());
            l.observe("sim/alpha@sim-east", JSON_SMALL, Observation.of(1, 1, 0));
            l.observe("sim/alpha@sim-east", JSON_SMALL, Observation.of(0.25, 3, 0));
            assertEquals(expected, l.belief("sim/alpha@sim-east", JSON_SMALL).posterior());
        }
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(settings(0.9));
            assertEquals(expected, l.belief("sim/alpha@sim-east", JSON_SMALL).posterior());
            assertEquals(
                    Posterior.PRIOR, l.belief("sim/alpha@sim-east", TOOLS_LARGE).posterior());
            assertEquals(
                    Posterior.PRIOR, l.belief("sim/beta@sim-west", JSON_SMALL).posterior());
            assertEquals(
                    expected,
                    l.snapshot().get("sim/alpha@sim-east").get(JSON_SMALL.key()).posterior());
            assertEquals(java.util.Set.of("sim/alpha@sim-east"), l.snapshot().keySet());
        }
    }

    @Test
    void posteriorsLearntBeforeBeliefsCm3AreImportedOnceAsTheSharedBeliefs() throws Exception {
        try (ChronicleCellStore<byte[]> old =
                ChronicleCellStore.named(dir.resolve("learning.cm3"), "learning", 3 * TaskClass.COUNT, 64, "m/x@e")) {
            old.update("sim/alpha@sim-east", c -> {
                int k = 3 * JSON_SMALL.index();
                c[k] = Double.doubleToRawLongBits(41);
                c[k + 1] = Double.doubleToRawLongBits(11);
                c[k + 2] = 50;
                return 0;
            });
        }
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(LearningSettings.DEFAULTS);
            assertEquals(
                    new Posterior(41, 11, 50),
                    l.belief("sim/alpha@sim-east", JSON_SMALL).posterior());
            assertEquals(
                    Posterior.PRIOR, l.belief("sim/alpha@sim-east", TOOLS_LARGE).posterior());
        }
        assertEquals(false, java.nio.file.Files.exists(dir.resolve("learning.cm3")));
        assertEquals(true, java.nio.file.Files.exists(dir.resolve("learning.cm3.imported")));
        try (StateStore again = StateStore.open(dir)) {
            assertEquals(
                    new Posterior(41, 11, 50),
                    again.learning(LearningSettings.DEFAULTS)
                            .belief("sim/alpha@sim-east", JSON_SMALL)
                            .posterior(),
                    "kept, and not imported twice");
        }
    }

    @Test
    void aDamagedLegacyFileIsSetAsideAndTheStoreStillOpens() throws Exception {
        Damage.garble(dir.resolve("learning.cm3"), 16); // a header never completed: Chronicle would wait a minute
        long t0 = System.nanoTime();
        try (StateStore store = StateStore.open(dir)) {
            assertEquals(
                    Posterior.PRIOR,
                    store.learning(LearningSettings.DEFAULTS)
                            .belief("c@e", JSON_SMALL)
                            .posterior());
        }
        assertTrue(System.nanoTime() - t0 < java.util.concurrent.TimeUnit.SECONDS.toNanos(30), "did not wait for it");
        assertEquals(false, java.nio.file.Files.exists(dir.resolve("learning.cm3")));
        assertEquals(true, java.nio.file.Files.exists(dir.resolve("learning.cm3.not-imported")));
    }

    @Test
    void concurrentUpdatesAreNotLostOnChronicle() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            concurrentUpdates(store.learning(settings(1.0)));
        }
    }

    @Test
    void concurrentUpdatesAreNotLostOnTheHeap() throws Exception {
        concurrentUpdates(StateStore.inMemory().learning(settings(1.0)));
    }

    @Test
    void twoStoresOnOneDirectorySeeEachOthersUpdatesOnceWritten() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            a.learning(settings(1.0)).observe("c@e", JSON_SMALL, Observation.of(1, 1, 0));
            b.learning(settings(1.0)).observe("c@e", JSON_SMALL, Observation.of(0, 1, 0));
            // each sees its own at once; the other's after that one's flush (≤ 200 ms) and its own refresh (≤ 1 s)
            assertEquals(
                    new Posterior(2, 1, 1),
                    a.learning(settings(1.0)).belief("c@e", JSON_SMALL).posterior());
            assertEquals(
                    new Posterior(1, 2, 1),
                    b.learning(settings(1.0)).belief("c@e", JSON_SMALL).posterior());
            Posterior both = new Posterior(2, 2, 2);
            assertEquals(
                    both,
                    eventually(
                            () -> a.learning(settings(1.0))
                                    .belief("c@e", JSON_SMALL)
                                    .posterior(),
                            both));
            assertEquals(
                    both,
                    eventually(
                            () -> b.learning(settings(1.0))
                                    .belief("c@e", JSON_SMALL)
                                    .posterior(),
                            both));
        }
    }

    @Test
    void ownObservationsShowAtOnceAndCloseWritesThemAll() throws Exception {
        Posterior[] expected = new Posterior[20];
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(settings(0.9));
            for (int c = 0; c < expected.length; c++) {
                expected[c] = Posterior.PRIOR;
                for (int i = 0; i <= c; i++) {
                    double score = (i * 7 % 5) / 4.0;
                    l.observe("m@e" + c, TOOLS_LARGE, Observation.of(score, 1 + i % 3, 0));
                    expected[c] = expected[c].update(score, 1 + i % 3, 0.9);
                    assertEquals(expected[c], l.belief("m@e" + c, TOOLS_LARGE).posterior(), "at once, candidate " + c);
                }
            }
        }
        try (StateStore again = StateStore.open(dir)) {
            LearningStore l = again.learning(settings(0.9));
            for (int c = 0; c < expected.length; c++) {
                assertEquals(
                        expected[c], l.belief("m@e" + c, TOOLS_LARGE).posterior(), "after a reopen, candidate " + c);
            }
        }
    }

    /**
     * Observations written in batches, whenever the flush comes, leave exactly the beliefs one
     * update per observation gives, change detector and its firings included: in the entry and in
     * the view routing reads, at every step.
     */
    @Test
    void batchesGiveTheSameBeliefsAsOneUpdateAtATime() {
        List<TaskClass> classes = List.of(JSON_SMALL, TOOLS_LARGE);
        // a detector quick to fire, so that the 60 steps see resets both ways
        LearningSettings sensitive = settings(0.8).withDetector(new ChangeDetector(0.2, 1.5, 2));
        qt().withExamples(300)
                .forAll(lists().of(integers().between(0, 4 * 11 * 2 - 1)).ofSizeBetween(1, 60))
                .checkAssert(steps -> {
                    HeapCellStore<String> cells = new HeapCellStore<>(CellLearningStore.LENGTH);
                    CellLearningStore batched = new CellLearningStore(cells, sensitive, Long.MAX_VALUE, true);
                    List<String> told = new ArrayList<>();
                    batched.onReset((key, tc, r, now) -> told.add(tc.key() + " " + r.direction() + " " + now));
                    List<String> expectedTold = new ArrayList<>();
                    Belief[] oneByOne = {Belief.PRIOR, Belief.PRIOR};
                    int n = 0;
                    for (int step : steps) {
                        int k = step % 2;
                        double score = (step / 2 % 11) / 10.0;
                        double weight = 1 + step / 22 % 4;
                        Observation o = Observation.of(score, weight, n++);
                        batched.observe("m@e", classes.get(k), o);
                        Belief.Step next = oneByOne[k].observe(o, sensitive.detector(), 0.8);
                        oneByOne[k] = next.after();
                        if (next.reset() != null) {
                            expectedTold.add(
                                    classes.get(k).key() + " " + next.reset().direction() + " " + o.nowMillis());
                        }
                        if (step % 3 == 0) {
                            batched.flush();
                        }
                        assertEquals(oneByOne[0], batched.belief("m@e", JSON_SMALL));
                        assertEquals(oneByOne[1], batched.belief("m@e", TOOLS_LARGE));
                    }
                    batched.flush();
                    assertEquals(expectedTold, told, "each firing told once, when written");
                    CellLearningStore reader = new CellLearningStore(cells, sensitive, Long.MAX_VALUE, true);
                    assertEquals(oneByOne[0], reader.belief("m@e", JSON_SMALL));
                    assertEquals(oneByOne[1], reader.belief("m@e", TOOLS_LARGE));
                });
    }

    @Test
    void concurrentUpdatesAndFlushesLoseNothing() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(settings(1.0));
            AtomicBoolean done = new AtomicBoolean();
            Thread flusher = new Thread(() -> {
                while (!done.get()) {
                    store.flush();
                }
            });
            flusher.start();
            try {
                concurrentUpdates(l);
            } finally {
                done.set(true);
                flusher.join();
            }
        }
        try (StateStore again = StateStore.open(dir)) {
            assertEquals(
                    new Posterior(1 + 8_000, 1 + 8_000, 16_000),
                    again.learning(settings(1.0))
                            .belief("sim/alpha@sim-east", TOOLS_LARGE)
                            .posterior());
        }
    }

    /** What {@code read} returns once it returns {@code expected}, or after 5 s. */
    private static Posterior eventually(java.util.function.Supplier<Posterior> read, Posterior expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        Posterior p = read.get();
        while (!p.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            p = read.get();
        }
        return p;
    }

    private static void concurrentUpdates(LearningStore l) throws InterruptedException {
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 2_000; i++) {
                    // discount 1: α − 1 counts the good answers exactly, whatever the order
                    l.observe("sim/alpha@sim-east", TOOLS_LARGE, Observation.of(id % 2, 1, 0));
                }
            });
            all.add(th);
            th.start();
        }
        for (Thread th : all) {
            th.join();
        }
        assertEquals(
                new Posterior(1 + 8_000, 1 + 8_000, 16_000),
                l.belief("sim/alpha@sim-east", TOOLS_LARGE).posterior());
    }

    /** Discount {@code d}, no change detection: posteriors as {@link Posterior#update} gives them. */
    static LearningSettings settings(double d) {
        return LearningSettings.DEFAULTS.withDiscount(d).withDetector(ChangeDetector.OFF);
    }
}
