package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@link LearningStore} on the heap: lost when the process ends. For routers made without a state
 * store (tests, benchmarks); the gateway keeps its learning in the state store.
 *
 * <p><b>Threading:</b> one array of beliefs per candidate, updated by compare-and-set, so reads
 * never lock and concurrent updates are never lost.
 */
public final class InMemoryLearningStore implements LearningStore {
    private final double discount;
    private final ConcurrentHashMap<String, AtomicReferenceArray<Posterior>> cells = new ConcurrentHashMap<>();

    /** @param discount γ of {@link Posterior#update}, in (0, 1] */
    public InMemoryLearningStore(double discount) {
        if (!(discount > 0 && discount <= 1)) {
            throw new IllegalArgumentException("discount: " + discount + " (expected: in (0, 1])");
        }
        this.discount = discount;
    }

    @Override
    public Posterior posterior(String candidateId, TaskClass taskClass) {
        AtomicReferenceArray<Posterior> byClass = cells.get(candidateId);
        if (byClass == null) {
            return Posterior.PRIOR;
        }
        Posterior p = byClass.get(taskClass.index());
        return p == null ? Posterior.PRIOR : p;
    }

    @Override
    public void observe(String candidateId, TaskClass taskClass, double score, double weight) {
        AtomicReferenceArray<Posterior> byClass =
                cells.computeIfAbsent(candidateId, k -> new AtomicReferenceArray<>(TaskClass.COUNT));
        int i = taskClass.index();
        while (true) {
            Posterior old = byClass.get(i);
            Posterior next = (old == null ? Posterior.PRIOR : old).update(score, weight, discount);
            if (byClass.compareAndSet(i, old, next)) {
                return;
            }
        }
    }

    @Override
    public Map<String, Map<String, Posterior>> snapshot() {
        Map<String, Map<String, Posterior>> out = new TreeMap<>();
        cells.forEach((id, byClass) -> {
            Map<String, Posterior> m = new TreeMap<>();
            for (TaskClass tc : TaskClass.all()) {
                Posterior p = byClass.get(tc.index());
                if (p != null) {
                    m.put(tc.key(), p);
                }
            }
            out.put(id, m);
        });
        return out;
    }
}
