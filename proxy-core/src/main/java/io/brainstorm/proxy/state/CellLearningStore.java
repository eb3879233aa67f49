package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * {@link LearningStore} over a {@link CellStore}: one entry per candidate id holding (α, β,
 * observations) for each of the {@link TaskClass#COUNT} task classes (3 × {@code COUNT} longs,
 * doubles as raw bits; α = 0 marks a class never observed).
 *
 * <p><b>Batches.</b> {@link #observe} does not touch the entry: it adds the observation to the
 * candidate's heap state, a list of observations not yet written, in the order they were made.
 * {@link #flush} (a timer of the state store, every {@value StateStore#LEARNING_FLUSH_MILLIS} ms,
 * and at close) replays each candidate's list in that order under one entry lock, running
 * {@link Posterior#update} once per observation as {@link #observe} used to, so the entry ends
 * exactly where one update per observation would have left it, and no observation is lost across
 * threads or processes. A store made with {@code batched} false (the heap store, which no other
 * process reads) writes every observation through at once instead. A candidate holds at most
 * {@value #MAX_PENDING} unwritten observations; more (a flush thread far behind) are lost and
 * counted in {@link #lost()}.
 *
 * <p><b>Threading:</b> {@link #posterior} runs for every candidate on the request path: it reads
 * the candidate's heap view, which is the entry as read at most {@code refreshNanos} ago (or at
 * this process's last flush) with this process's unwritten observations replayed on top, so this
 * process's own observations show at once and another process's within {@code refreshNanos} plus
 * that process's flush interval. {@link #observe} and the reads replace the candidate's immutable
 * state by compare-and-set, retrying only their own update; neither ever waits for the flusher,
 * which marks a candidate while it writes it so that no read installs an entry it is still
 * changing. {@link #flush} may run on any thread but the event loops; two flushes of one
 * candidate never overlap (the later one leaves it to the earlier, which goes on until the list
 * is empty).
 *
 * <p><b>Errors:</b> an entry that cannot be written (the file is full) loses that batch; the log
 * says so once per flush, and the observations stay out of this process's view too.
 */
final class CellLearningStore implements LearningStore {
    private static final System.Logger log = System.getLogger(CellLearningStore.class.getName());

    static final int LENGTH = 3 * TaskClass.COUNT;
    /** Observations of one candidate waiting for the flush, at most; more are lost (and counted). */
    static final int MAX_PENDING = 65_536;

    private final CellStore<String> store;
    private final double discount;
    private final long refreshNanos;
    private final boolean batched;
    private final ConcurrentHashMap<String, AtomicReference<Beliefs>> candidates = new ConcurrentHashMap<>();
    private final AtomicLong lost = new AtomicLong();

    /** One observation not yet written; {@code before} is the one made just before it (newest first). */
    private record Pending(
            int taskClass,
            double score,
            double weight,
            @Nullable Pending before,
            int count) {}

    /**
     * What this process knows of a candidate.
     *
     * @param stored  the entry as last read or written
     * @param pending observations not in the entry yet, newest first
     * @param writing observations a flush is writing now (newest first); null when none is
     * @param view    {@code stored} with {@code writing} and {@code pending} replayed: what routing sees
     */
    private record Beliefs(
            Posterior[] stored,
            @Nullable Pending pending,
            @Nullable Pending writing,
            Posterior[] view,
            long loadedNanos) {}

    CellLearningStore(CellStore<String> store, double discount, long refreshNanos, boolean batched) {
        if (!(discount > 0 && discount <= 1)) {
            throw new IllegalArgumentException("discount: " + discount + " (expected: in (0, 1])");
        }
        this.store = store;
        this.discount = discount;
        this.refreshNanos = refreshNanos;
        this.batched = batched;
    }

    @Override
    public Posterior posterior(String candidateId, TaskClass taskClass) {
        AtomicReference<Beliefs> ref = candidates.get(candidateId);
        Beliefs b = ref == null ? null : ref.get();
        long now = System.nanoTime();
        if (b == null || (now - b.loadedNanos > refreshNanos && b.writing == null)) {
            // unknown candidates are remembered too (with the priors), so they cost no store read
            Posterior[] read = read(candidateId);
            if (ref == null) {
                ref = candidates.computeIfAbsent(candidateId, id -> new AtomicReference<>());
            }
            Beliefs current = ref.get();
            if (current == b) {
                // unchanged since before the read: no flush wrote the entry meanwhile, and what is
                // pending is not in it. A changed state wins (a flush's is newer than this read)
                Beliefs fresh = new Beliefs(read, b == null ? null : b.pending, null, replay(read, b), now);
                b = ref.compareAndSet(b, fresh) ? fresh : ref.get();
            } else {
                b = current;
            }
        }
        return Objects.requireNonNull(b, "beliefs").view[taskClass.index()];
    }

    @Override
    public void observe(String candidateId, TaskClass taskClass, double score, double weight) {
        Objects.requireNonNull(candidateId, "candidateId");
        // validates before anything is kept
        Posterior.PRIOR.update(score, weight, discount);
        int k = taskClass.index();
        AtomicReference<Beliefs> ref = beliefs(candidateId);
        if (!batched) {
            // the heap store: no other process reads it, and its entry lock is a bin lock of a map
            Posterior[] after = write(candidateId, new Pending(k, score, weight, null, 1));
            if (after != null) {
                ref.set(new Beliefs(after, null, null, after, System.nanoTime()));
            }
            return;
        }
        while (true) {
            Beliefs b = Objects.requireNonNull(ref.get(), "beliefs");
            if (b.pending != null && b.pending.count >= MAX_PENDING) {
                // the flush thread is far behind: keep the heap bounded
                lost.incrementAndGet();
                return;
            }
            Posterior[] view = b.view.clone();
            view[k] = view[k].update(score, weight, discount);
            Beliefs next = new Beliefs(
                    b.stored,
                    new Pending(k, score, weight, b.pending, b.pending == null ? 1 : b.pending.count + 1),
                    b.writing,
                    view,
                    b.loadedNanos);
            // a failed swap means another observation or a flush came first: redo this one on top of it
            if (ref.compareAndSet(b, next)) {
                break;
            }
        }
    }

    /**
     * Writes every candidate's pending observations into its entry, each candidate's in one entry
     * update. Not on an event loop: the entry locks may be held by another process.
     */
    void flush() {
        candidates.forEach(this::flush);
    }

    /** Observations lost so far because their entry could not be written. */
    long lost() {
        return lost.get();
    }

    @Override
    public Map<String, Map<String, Posterior>> snapshot() {
        Map<String, Map<String, Posterior>> out = new TreeMap<>();
        store.forEach((id, c) -> out.put(id, known(decode(c))));
        // this process's unwritten observations, on its own (up to refreshNanos old) view of the entry
        candidates.forEach((id, ref) -> {
            Beliefs b = ref.get();
            if (b != null && (b.pending != null || b.writing != null)) {
                out.put(id, known(b.view));
            }
        });
        return out;
    }

    private AtomicReference<Beliefs> beliefs(String candidateId) {
        AtomicReference<Beliefs> ref = candidates.get(candidateId);
        if (ref == null) {
            ref = candidates.computeIfAbsent(candidateId, id -> new AtomicReference<>());
        }
        if (ref.get() == null) {
            Posterior[] read = read(candidateId);
            ref.compareAndSet(null, new Beliefs(read, null, null, read, System.nanoTime()));
        }
        return ref;
    }

    /** Writes one candidate's pending observations, and whatever arrives meanwhile, unless another flush of it runs. */
    private void flush(String candidateId, AtomicReference<Beliefs> ref) {
        while (true) {
            Beliefs b = ref.get();
            if (b == null || b.pending == null || b.writing != null) {
                return;
            }
            Pending batch = b.pending;
            if (!ref.compareAndSet(b, new Beliefs(b.stored, null, batch, b.view, b.loadedNanos))) {
                continue;
            }
            Posterior[] written = write(candidateId, batch);
            long now = System.nanoTime();
            while (true) {
                Beliefs w = Objects.requireNonNull(ref.get(), "beliefs");
                Posterior[] stored = written != null ? written : w.stored;
                Beliefs done = new Beliefs(stored, w.pending, null, replay(stored, w.pending), now);
                if (ref.compareAndSet(w, done)) {
                    break;
                }
            }
        }
    }

    /** Replays {@code batch} oldest first under the entry's lock; the entry after it, or null when it failed. */
    private Posterior @Nullable [] write(String candidateId, Pending batch) {
        Pending[] inOrder = oldestFirst(batch);
        Posterior[][] after = new Posterior[1][];
        try {
            store.update(candidateId, c -> {
                for (Pending p : inOrder) {
                    int i = 3 * p.taskClass;
                    Posterior next = posteriorAt(c, i).update(p.score, p.weight, discount);
                    c[i] = Double.doubleToRawLongBits(next.alpha());
                    c[i + 1] = Double.doubleToRawLongBits(next.beta());
                    c[i + 2] = next.observations();
                }
                after[0] = decode(c);
                return 0;
            });
            return after[0];
        } catch (RuntimeException e) {
            lost.addAndGet(inOrder.length);
            log.log(
                    Level.WARNING,
                    "learning: " + inOrder.length + " observations of " + candidateId + " are lost (routing"
                            + " goes on from what was kept before them): writing them failed",
                    e);
            return null;
        }
    }

    private Posterior[] read(String candidateId) {
        // all zeros when nothing is known yet
        long[] c = new long[LENGTH];
        store.read(candidateId, c);
        return decode(c);
    }

    /** {@code stored} with the observations of {@code b} that are not in it (being written, then pending) replayed. */
    private Posterior[] replay(Posterior[] stored, @Nullable Beliefs b) {
        if (b == null) {
            return stored;
        }
        return replay(replay(stored, b.writing), b.pending);
    }

    private Posterior[] replay(Posterior[] from, @Nullable Pending newestFirst) {
        if (newestFirst == null) {
            return from;
        }
        Posterior[] out = from.clone();
        for (Pending p : oldestFirst(newestFirst)) {
            out[p.taskClass] = out[p.taskClass].update(p.score, p.weight, discount);
        }
        return out;
    }

    private static Pending[] oldestFirst(Pending newestFirst) {
        int n = 0;
        for (Pending p = newestFirst; p != null; p = p.before) {
            n++;
        }
        Pending[] out = new Pending[n];
        for (Pending p = newestFirst; p != null; p = p.before) {
            out[--n] = p;
        }
        return out;
    }

    private static Map<String, Posterior> known(Posterior[] byClass) {
        Map<String, Posterior> m = new TreeMap<>();
        for (TaskClass tc : TaskClass.all()) {
            Posterior p = byClass[tc.index()];
            if (p.observations() != 0) {
                m.put(tc.key(), p);
            }
        }
        return m;
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
