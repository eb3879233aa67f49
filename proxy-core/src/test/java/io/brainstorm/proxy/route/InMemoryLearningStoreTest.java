package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

/** Beliefs on the heap: the prior, lost-update freedom, the discount, and firings told once. */
class InMemoryLearningStoreTest {
    private static final TaskClass PLAIN = TaskClass.of(false, false, 100);
    private static final TaskClass TOOLS_LARGE = TaskClass.of(true, false, 50_000);
    private static final LearningSettings NO_DETECTOR = LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF);

    @Test
    void nothingKnownIsTheUniformPrior() {
        InMemoryLearningStore store = new InMemoryLearningStore(LearningSettings.DEFAULTS);
        assertSame(Belief.PRIOR, store.belief("m@e", PLAIN));
        store.observe("m@e", PLAIN, Observation.of(1.0, 1, 0));
        assertSame(Belief.PRIOR, store.belief("m@e", TOOLS_LARGE), "another task class learnt nothing");
        assertEquals(new Posterior(2, 1, 1), store.belief("m@e", PLAIN).posterior());
    }

    @Test
    void scoresAndFeedbackCountFractionally() {
        InMemoryLearningStore store = new InMemoryLearningStore(LearningSettings.DEFAULTS);
        store.observe("m@e", PLAIN, Observation.of(0.75, 2, 0));
        Posterior p = store.belief("m@e", PLAIN).posterior();
        assertEquals(2.5, p.alpha(), 1e-12);
        assertEquals(1.5, p.beta(), 1e-12);
        assertEquals(java.util.Set.of("m@e"), store.snapshot().keySet());
        assertEquals(p, store.snapshot().get("m@e").get("plain/0-1k").posterior());
    }

    @Test
    void concurrentObservationsAreNeverLost() throws Exception {
        InMemoryLearningStore store = new InMemoryLearningStore(NO_DETECTOR); // every answer adds exactly 1
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
                        store.observe("m@e", PLAIN, Observation.of(good ? 1 : 0, 1, 0));
                        store.belief("m@e", PLAIN);
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
        Posterior p = store.belief("m@e", PLAIN).posterior();
        assertEquals((long) threads * perThread, p.observations());
        assertEquals(1 + threads / 2 * perThread, p.alpha());
        assertEquals(1 + threads / 2 * perThread, p.beta());
    }

    /**
     * With a discount γ = 0.995 (the old default) and no detector, a mean falls below 0.5 after k
     * bad answers, where (from α ← 1 + γ(α − 1) + s, β ← 1 + γ(β − 1) + 1 − s, starting at
     * α = 1 + A, β = 1) k is the least with γ^k · (1 + A(1 − γ)) &lt; 1: k = 139 after a long good
     * run. The default, no discount and the detector, drops it within 25.
     */
    @Test
    void aQualityDropShowsWithinTheComputedNumberOfAnswers() {
        double gamma = 0.995;
        InMemoryLearningStore discounted = new InMemoryLearningStore(NO_DETECTOR.withDiscount(gamma));
        InMemoryLearningStore detecting = new InMemoryLearningStore(LearningSettings.DEFAULTS);
        for (int i = 0; i < 3_000; i++) {
            discounted.observe("m@e", PLAIN, Observation.of(1, 1, i));
            detecting.observe("m@e", PLAIN, Observation.of(i % 10 < 9 ? 1 : 0, 1, i));
        }
        double a = discounted.belief("m@e", PLAIN).alpha() - 1;
        assertEquals(1 / (1 - gamma), a, 1e-3);
        int bound = (int) Math.floor(Math.log(1 + a * (1 - gamma)) / -Math.log(gamma)) + 1;
        assertEquals(139, bound);
        int k = 0;
        while (discounted.belief("m@e", PLAIN).mean() >= 0.5) {
            discounted.observe("m@e", PLAIN, Observation.of(0, 1, 0));
            k++;
            assertTrue(k <= bound, "still trusted after " + k + " bad answers");
        }
        assertEquals(bound, k);

        List<Belief.Reset> told = new ArrayList<>();
        detecting.onReset((key, tc, r, now) -> told.add(r));
        int n = 0;
        while (detecting.belief("m@e", PLAIN).mean() >= 0.5) {
            detecting.observe("m@e", PLAIN, Observation.of(0, 1, 0));
            n++;
            assertTrue(n <= 25, "a 0.9 endpoint still trusted after " + n + " bad answers");
        }
        assertEquals(1, told.size(), "one firing, told once: " + told);
        assertEquals(Belief.Direction.DOWN, told.get(0).direction());
        assertTrue(detecting.belief("m@e", PLAIN).dropped());
    }
}
