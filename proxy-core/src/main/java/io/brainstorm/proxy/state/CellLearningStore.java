package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link LearningStore} over a {@link CellStore}: one entry per candidate id holding (α, β,
 * observations) for each of the {@link TaskClass#COUNT} task classes (3 × {@code COUNT} longs,
 * doubles as raw bits; α = 0 marks a class never observed). {@link #observe} is one atomic entry
 * update running {@link Posterior#update}, so no update is lost across threads or processes.
 *
 * <p><b>Threading:</b> {@link #posterior} runs for every candidate on the request path, so it
 * reads a heap copy of the candidate's beliefs, taken at most {@code refreshNanos} ago or at this
 * process's last update of it: another process's observations show here within that time.
 */
final class CellLearningStore implements LearningStore {
    static final int LENGTH = 3 * TaskClass.COUNT;

    private final CellStore<String> store;
    private final double discount;
    private final long refreshNanos;
    private final ConcurrentHashMap<String, Beliefs> cache = new ConcurrentHashMap<>();

    private record Beliefs(Posterior[] byClass, long loadedNanos) {}

    CellLearningStore(CellStore<String> store, double discount, long refreshNanos) {
        if (!(discount > 0 && discount <= 1)) {
            throw new IllegalArgumentException("discount: " + discount + " (expected: in (0, 1])");
        }
        this.store = store;
        this.discount = discount;
        this.refreshNanos = refreshNanos;
    }

    @Override
    public Posterior posterior(String candidateId, TaskClass taskClass) {
        Beliefs b = cache.get(candidateId);
        long now = System.nanoTime();
        if (b == null || now - b.loadedNanos > refreshNanos) {
            // all zeros when nothing is known yet: remembered too, so unknown candidates cost no store read
            long[] c = new long[LENGTH];
            store.read(candidateId, c);
            Beliefs fresh = new Beliefs(decode(c), now);
            // never over what an observe() here put meanwhile: that one is newer than this read
            if (b == null ? cache.putIfAbsent(candidateId, fresh) == null : cache.replace(candidateId, b, fresh)) {
                b = fresh;
            } else {
                b = cache.getOrDefault(candidateId, fresh);
            }
        }
        return b.byClass[taskClass.index()];
    }

    @Override
    public void observe(String candidateId, TaskClass taskClass, double score, double weight) {
        Objects.requireNonNull(candidateId, "candidateId");
        // validates before the entry is touched
        Posterior.PRIOR.update(score, weight, discount);
        int i = 3 * taskClass.index();
        Posterior[][] after = new Posterior[1][];
        store.update(candidateId, c -> {
            Posterior next = posteriorAt(c, i).update(score, weight, discount);
            c[i] = Double.doubleToRawLongBits(next.alpha());
            c[i + 1] = Double.doubleToRawLongBits(next.beta());
            c[i + 2] = next.observations();
            after[0] = decode(c);
            return 0;
        });
        cache.put(candidateId, new Beliefs(after[0], System.nanoTime()));
    }

    @Override
    public Map<String, Map<String, Posterior>> snapshot() {
        Map<String, Map<String, Posterior>> out = new TreeMap<>();
        store.forEach((id, c) -> {
            Map<String, Posterior> m = new TreeMap<>();
            for (TaskClass tc : TaskClass.all()) {
                if (c[3 * tc.index()] != 0) {
                    m.put(tc.key(), posteriorAt(c, 3 * tc.index()));
                }
            }
            out.put(id, m);
        });
        return out;
    }

    private static Posterior[] decode(long[] c) {
        Posterior[] byClass = new Posterior[TaskClass.COUNT];
        for (int k = 0; k < TaskClass.COUNT; k++) {
            byClass[k] = posteriorAt(c, 3 * k);
        }
        return byClass;
    }

    private static Posterior posteriorAt(long[] c, int i) {
        if (c[i] == 0) {
            return Posterior.PRIOR;
        }
        return new Posterior(Double.longBitsToDouble(c[i]), Double.longBitsToDouble(c[i + 1]), c[i + 2]);
    }
}
