package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.route.LearningStore;
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
            LearningStore l = store.learning(0.9);
            assertEquals(Posterior.PRIOR, l.posterior("sim/alpha@sim-east", JSON_SMALL));
            l.observe("sim/alpha@sim-east", JSON_SMALL, 1, 1);
            l.observe("sim/alpha@sim-east", JSON_SMALL, 0.25, 3);
            assertEquals(expected, l.posterior("sim/alpha@sim-east", JSON_SMALL));
        }
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(0.9);
            assertEquals(expected, l.posterior("sim/alpha@sim-east", JSON_SMALL));
            assertEquals(Posterior.PRIOR, l.posterior("sim/alpha@sim-east", TOOLS_LARGE));
            assertEquals(Posterior.PRIOR, l.posterior("sim/beta@sim-west", JSON_SMALL));
            assertEquals(
                    java.util.Map.of("sim/alpha@sim-east", java.util.Map.of(JSON_SMALL.key(), expected)), l.snapshot());
        }
    }

    @Test
    void concurrentUpdatesAreNotLostOnChronicle() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            concurrentUpdates(store.learning(1.0));
        }
    }

    @Test
    void concurrentUpdatesAreNotLostOnTheHeap() throws Exception {
        concurrentUpdates(StateStore.inMemory().learning(1.0));
    }

    @Test
    void twoStoresOnOneDirectorySeeEachOthersUpdatesOnceWritten() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            a.learning(1.0).observe("c@e", JSON_SMALL, 1, 1);
            b.learning(1.0).observe("c@e", JSON_SMALL, 0, 1);
            // each sees its own at once; the other's after that one's flush (≤ 200 ms) and its own refresh (≤ 1 s)
            assertEquals(new Posterior(2, 1, 1), a.learning(1.0).posterior("c@e", JSON_SMALL));
            assertEquals(new Posterior(1, 2, 1), b.learning(1.0).posterior("c@e", JSON_SMALL));
            Posterior both = new Posterior(2, 2, 2);
            assertEquals(both, eventually(() -> a.learning(1.0).posterior("c@e", JSON_SMALL), both));
            assertEquals(both, eventually(() -> b.learning(1.0).posterior("c@e", JSON_SMALL), both));
        }
    }

    @Test
    void ownObservationsShowAtOnceAndCloseWritesThemAll() throws Exception {
        Posterior[] expected = new Posterior[20];
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(0.9);
            for (int c = 0; c < expected.length; c++) {
                expected[c] = Posterior.PRIOR;
                for (int i = 0; i <= c; i++) {
                    double score = (i * 7 % 5) / 4.0;
                    l.observe("m@e" + c, TOOLS_LARGE, score, 1 + i % 3);
                    expected[c] = expected[c].update(score, 1 + i % 3, 0.9);
                    assertEquals(expected[c], l.posterior("m@e" + c, TOOLS_LARGE), "at once, candidate " + c);
                }
            }
        }
        try (StateStore again = StateStore.open(dir)) {
            LearningStore l = again.learning(0.9);
            for (int c = 0; c < expected.length; c++) {
                assertEquals(expected[c], l.posterior("m@e" + c, TOOLS_LARGE), "after a reopen, candidate " + c);
            }
        }
    }

    /**
     * Observations written in batches, whenever the flush comes, leave exactly the posterior one
     * update per observation gives: in the entry and in the view routing reads, at every step.
     */
    @Test
    void batchesGiveTheSamePosteriorsAsOneUpdateAtATime() {
        List<TaskClass> classes = List.of(JSON_SMALL, TOOLS_LARGE);
        qt().withExamples(300)
                .forAll(lists().of(integers().between(0, 4 * 11 * 2 - 1)).ofSizeBetween(1, 60))
                .checkAssert(steps -> {
                    HeapCellStore<String> cells = new HeapCellStore<>(CellLearningStore.LENGTH);
                    CellLearningStore batched = new CellLearningStore(cells, 0.8, Long.MAX_VALUE, true);
                    Posterior[] oneByOne = {Posterior.PRIOR, Posterior.PRIOR};
                    for (int step : steps) {
                        int k = step % 2;
                        double score = (step / 2 % 11) / 10.0;
                        double weight = 1 + step / 22 % 4;
                        batched.observe("m@e", classes.get(k), score, weight);
                        oneByOne[k] = oneByOne[k].update(score, weight, 0.8);
                        if (step % 3 == 0) {
                            batched.flush();
                        }
                        assertEquals(oneByOne[0], batched.posterior("m@e", JSON_SMALL));
                        assertEquals(oneByOne[1], batched.posterior("m@e", TOOLS_LARGE));
                    }
                    batched.flush();
                    CellLearningStore reader = new CellLearningStore(cells, 0.8, Long.MAX_VALUE, true);
                    assertEquals(oneByOne[0], reader.posterior("m@e", JSON_SMALL));
                    assertEquals(oneByOne[1], reader.posterior("m@e", TOOLS_LARGE));
                });
    }

    @Test
    void concurrentUpdatesAndFlushesLoseNothing() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            LearningStore l = store.learning(1.0);
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
                    again.learning(1.0).posterior("sim/alpha@sim-east", TOOLS_LARGE));
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
                    l.observe("sim/alpha@sim-east", TOOLS_LARGE, id % 2, 1);
                }
            });
            all.add(th);
            th.start();
        }
        for (Thread th : all) {
            th.join();
        }
        assertEquals(new Posterior(1 + 8_000, 1 + 8_000, 16_000), l.posterior("sim/alpha@sim-east", TOOLS_LARGE));
    }
}
