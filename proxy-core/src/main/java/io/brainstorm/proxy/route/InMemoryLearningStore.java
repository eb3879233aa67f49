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
 * <p><b>Threading:</b> one array of beliefs per key, updated by compare-and-set, so reads never
 * lock and concurrent updates are never lost; the reset listener is told after the swap, on the
 * observing thread.
 */
public final class InMemoryLearningStore implements LearningStore {
    private final ChangeDetector detector;
    private final double discount;
    private final ConcurrentHashMap<String, AtomicReferenceArray<Belief>> cells = new ConcurrentHashMap<>();
    private volatile ResetListener listener = (k, tc, r, now) -> {};

    public InMemoryLearningStore(LearningSettings settings) {
        this.detector = settings.detector();
        this.discount = settings.discount();
    }

    @Override
    public Belief belief(String key, TaskClass taskClass) {
        AtomicReferenceArray<Belief> byClass = cells.get(key);
        if (byClass == null) {
            return Belief.PRIOR;
        }
        Belief b = byClass.get(taskClass.index());
        return b == null ? Belief.PRIOR : b;
    }

    @Override
    public void observe(String key, TaskClass taskClass, Observation observation) {
        AtomicReferenceArray<Belief> byClass =
                cells.computeIfAbsent(key, k -> new AtomicReferenceArray<>(TaskClass.COUNT));
        int i = taskClass.index();
        while (true) {
            Belief old = byClass.get(i);
            Belief.Step step = (old == null ? Belief.PRIOR : old).observe(observation, detector, discount);
            if (byClass.compareAndSet(i, old, step.after())) {
                if (step.reset() != null) {
                    listener.reset(key, taskClass, step.reset(), observation.nowMillis());
                }
                return;
            }
        }
    }

    @Override
    public Map<String, Map<String, Belief>> snapshot() {
        Map<String, Map<String, Belief>> out = new TreeMap<>();
        cells.forEach((id, byClass) -> {
            Map<String, Belief> m = new TreeMap<>();
            for (TaskClass tc : TaskClass.all()) {
                Belief b = byClass.get(tc.index());
                if (b != null) {
                    m.put(tc.key(), b);
                }
            }
            out.put(id, m);
        });
        return out;
    }

    @Override
    public void onReset(ResetListener l) {
        this.listener = l;
    }
}
