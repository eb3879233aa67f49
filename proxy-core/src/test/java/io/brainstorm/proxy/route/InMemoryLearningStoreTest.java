package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** Learnt answer quality per candidate and task class: the prior, lost-update freedom, and how fast a drop shows. */
class InMemoryLearningStoreTest {
    private static final TaskClass PLAIN = TaskClass.of(false, false, 100);
    private static final TaskClass TOOLS_LARGE = TaskClass.of(true, false, 50_000);

    @Test
    void nothingKnownIsTheUniformPrior() {
        InMemoryLearningStore store = new InMemoryLearningStore(0.995);
        assertSame(Posterior.PRIOR, store.posterior("m@e", PLAIN));
        store.observe("m@e", PLAIN, 1.0, 1);
        assertSame(Posterior.PRIOR, store.posterior("m@e", TOOLS_LARGE), "another task class learnt nothing");
        assertEquals(new Posterior(2, 1, 1), store.posterior("m@e", PLAIN));
    }

    @Test
    void scoresAndFeedbackCountFractionally() {
        InMemoryLearningStore store = new InMemoryLearningStore(1);
        store.observe("m@e", PLAIN, 0.75, 2);
        Posterior p = store.posterior("m@e", PLAIN);
        assertEquals(2.5, p.alpha(), 1e-12);
        assertEquals(1.5, p.beta(), 1e-12);
        assertEquals(java.util.Map.of("m@e", java.util.Map.of("plain/0-1k", p)), store.snapshot());
    }

    @Test
    void concurrentObservationsAreNeverLost() throws Exception {
        InMemoryLearningStore store = new InMemoryLearningStore(1); // no discount: every answer adds exactly 1
        int threads = 4;
        int perThread = 25_000;
        CyclicBarrier start = new CyclicBarrier(threads);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final boolean good = t % 2 == 0;
            workers[t] = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        store.observe("m@e", PLAIN, good ? 1 : 0, 1);
                        store.posterior("m@e", PLAIN);
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        Posterior p = store.posterior("m@e", PLAIN);
        assertEquals((long) threads * perThread, p.observations());
        assertEquals(1 + threads / 2 * perThread, p.alpha());
        assertEquals(1 + threads / 2 * perThread, p.beta());
    }

    /**
     * An endpoint that answered well for a long time and then only badly: with discount γ = 0.995
     * its mean falls below 0.5 after k bad answers, where (from α ← 1 + γ(α − 1) + s,
     * β ← 1 + γ(β − 1) + 1 − s, starting at α = 1 + A, β = 1) k is the least with
     * γ^k · (1 + A(1 − γ)) < 1. For a long good run A → 1 / (1 − γ) = 200, so k = 139: "a few hundred
     * requests" (docs/architecture.md §5).
     * Without a discount it would take as many bad answers as there were good ones.
     */
    @Test
    void aQualityDropShowsWithinTheComputedNumberOfAnswers() {
        double gamma = 0.995;
        InMemoryLearningStore store = new InMemoryLearningStore(gamma);
        InMemoryLearningStore undiscounted = new InMemoryLearningStore(1);
        for (int i = 0; i < 3_000; i++) {
            store.observe("m@e", PLAIN, 1, 1);
            undiscounted.observe("m@e", PLAIN, 1, 1);
        }
        double a = store.posterior("m@e", PLAIN).alpha() - 1;
        assertEquals(1 / (1 - gamma), a, 1e-3);
        int bound = (int) Math.floor(Math.log(1 + a * (1 - gamma)) / -Math.log(gamma)) + 1;
        assertEquals(139, bound);

        int k = 0;
        while (store.posterior("m@e", PLAIN).mean() >= 0.5) {
            store.observe("m@e", PLAIN, 0, 1);
            undiscounted.observe("m@e", PLAIN, 0, 1);
            k++;
            assertTrue(k <= bound, "still trusted after " + k + " bad answers");
        }
        assertEquals(bound, k);
        assertTrue(undiscounted.posterior("m@e", PLAIN).mean() > 0.9, "without a discount the drop goes unnoticed");
    }

    @Test
    void theDiscountMustBeInRange() {
        assertEquals(
                "discount: 0.0 (expected: in (0, 1])",
                assertThrows(IllegalArgumentException.class, () -> new InMemoryLearningStore(0))
                        .getMessage());
    }
}
