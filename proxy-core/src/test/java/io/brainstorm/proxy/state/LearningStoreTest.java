package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The learnt posteriors: the same rule as {@link Posterior#update}, kept across close and open, no update lost. */
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
    void twoStoresOnOneDirectorySeeEachOthersUpdates() throws Exception {
        try (StateStore a = StateStore.open(dir);
                StateStore b = StateStore.open(dir)) {
            a.learning(1.0).observe("c@e", JSON_SMALL, 1, 1);
            b.learning(1.0).observe("c@e", JSON_SMALL, 0, 1);
            assertEquals(new Posterior(2, 2, 2), b.learning(1.0).posterior("c@e", JSON_SMALL));
        }
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
