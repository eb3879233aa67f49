package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Observation;
import io.brainstorm.proxy.spi.TaskClass;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * {@link LearningStore} over a {@link CellStore}: one entry per key (a candidate id, or a tenant's
 * key for it) holding a {@link Belief} for each of the {@link TaskClass#COUNT} task classes
 * ({@value Belief#LONGS} × {@code COUNT} longs, doubles as raw bits; α = 0 marks a class never
 * observed).
 *
 * <p><b>Batches.</b> {@link #observe} does not touch the entry: it adds the observation to the
 * candidate's heap state, a list of observations not yet written, in the order they were made.
 * {@link #flush} (a timer of the state store, every {@value StateStore#LEARNING_FLUSH_MILLIS} ms,
 * and at close) replays each key's list in that order under one entry lock, running
 * {@link Belief#observe} once per observation, change detector included, so the entry ends
 * exactly where one update per observation would have left it; the detector's firings are
 * reported to the listener then, once each, after the lock is let go, and no observation is lost across
 * threads or processes. A store made with {@code batched} false (the heap store, which no other
 * process reads) writes every observation through at once instead. A candidate holds at most
 * {@value #MAX_PENDING} unwritten observations (those being written included); more (a flush
 * thread far behind, or a store unreachable for long) are lost and counted in {@link #lost()}.
 *
 * <p><b>Threading:</b> {@link #belief} runs for every candidate on the request path: it reads
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
 * says so once per flush, and the observations stay out of this process's view too. A store that
 * cannot be reached ({@link StoreUnavailableException}: Redis down or slow) loses nothing: the
 * batch stays where it was, still in this process's view, and the next flush writes it again
 * under the same write id (so it lands once, also when the first try landed unseen) before any
 * newer observation of the candidate; the rest of that flush is left for the next one, and the log
 * says so at most once a minute.
 */
final class CellLearningStore implements LearningStore {
    private static final System.Logger log = System.getLogger(CellLearningStore.class.getName());

    static final int LENGTH = Belief.LONGS * TaskClass.COUNT;
    /** Observations of one candidate waiting for the flush, at most; more are lost (and counted). */
    static final int MAX_PENDING = 65_536;

    private final CellStore<String> store;
    private final double discount;
    private final ChangeDetector detector;
    private volatile ResetListener listener = (k, tc, r, now) -> {};
    private final long refreshNanos;
    private final boolean batched;
    private final ConcurrentHashMap<String, AtomicReference<Beliefs>> candidates = new ConcurrentHashMap<>();
    private final AtomicLong lost = new AtomicLong();
    /** Tells write attempts apart across gateways: random, then one more per batch. */
    private final AtomicLong writeIds = new AtomicLong(new java.security.SecureRandom().nextLong());
    /** When the log last said the store was unreachable (nanoTime); 0: never. */
    private final AtomicLong unavailableLogged = new AtomicLong();

    private static final long LOG_EVERY_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

    /** One observation not yet written; {@code before} is the one made just before it (newest first). */
    private record Pending(
            int taskClass,
            Observation observation,
            @Nullable Pending before,
            int count) {}

    /**
     * What this process knows of a candidate.
     *
     * @param stored  the entry as last read or written
     * @param pending observations not in the entry yet, newest first
     * @param writing observations a flush is writing now (newest first), or whose write could not
     *                reach the store ({@code stalled}); null when none
     * @param view    {@code stored} with {@code writing} and {@code pending} replayed: what routing sees
     * @param writeId the write id of {@code writing}, the same for every attempt of it
     * @param stalled {@code writing} could not reach the store and waits for the next flush
     */
    private record Beliefs(
            Belief[] stored,
            @Nullable Pending pending,
            @Nullable Pending writing,
            Belief[] view,
            long loadedNanos,
            long writeId,
            boolean stalled) {
        Beliefs(Belief[] stored, @Nullable Pending pending, Belief[] view, long loadedNanos) {
            this(stored, pending, null, view, loadedNanos, 0, false);
        }
    }

    CellLearningStore(CellStore<String> store, LearningSettings settings, long refreshNanos, boolean batched) {
        this.store = store;
        this.discount = settings.discount();
        this.detector = settings.detector();
        this.refreshNanos = refreshNanos;
        this.batched = batched;
    }

    @Override
    public Belief belief(String candidateId, TaskClass taskClass) {
        AtomicReference<Beliefs> ref = candidates.get(candidateId);
        Beliefs b = ref == null ? null : ref.get();
        long now = System.nanoTime();
        if (b == null || (now - b.loadedNanos > refreshNanos && b.writing == null)) {
            // unknown candidates are remembered too (with the priors), so they cost no store read
            Belief[] read = read(candidateId);
            if (ref == null) {
                ref = candidates.computeIfAbsent(candidateId, id -> new AtomicReference<>());
            }
            Beliefs current = ref.get();
            if (current == b) {
                // unchanged since before the read: no flush wrote the entry meanwhile, and what is
                // pending is not in it. A changed state wins (a flush's is newer than this read)
                Beliefs fresh = new Beliefs(read, b == null ? null : b.pending, replay(read, b), now);
                b = ref.compareAndSet(b, fresh) ? fresh : ref.get();
            } else {
                b = current;
            }
        }
        return Objects.requireNonNull(b, "beliefs").view[taskClass.index()];
    }

    @Override
    public void observe(String candidateId, TaskClass taskClass, Observation observation) {
        Objects.requireNonNull(candidateId, "candidateId");
        Objects.requireNonNull(observation, "observation");
        int k = taskClass.index();
        AtomicReference<Beliefs> ref = beliefs(candidateId);
        if (!batched) {
            // the heap store: no other process reads it, and its entry lock is a bin lock of a map
            Belief[] after = write(candidateId, writeIds.incrementAndGet(), new Pending(k, observation, null, 1));
            if (after != null) {
                ref.set(new Beliefs(after, null, after, System.nanoTime()));
            }
            return;
        }
        while (true) {
            Beliefs b = Objects.requireNonNull(ref.get(), "beliefs");
            int waiting = (b.pending == null ? 0 : b.pending.count) + (b.writing == null ? 0 : b.writing.count);
            if (waiting >= MAX_PENDING) {
                // the flush thread is far behind, or the store away for long: keep the heap bounded
                lost.incrementAndGet();
                return;
            }
            Belief[] view = b.view.clone();
            view[k] = view[k].observe(observation, detector, discount).after();
            Beliefs next = new Beliefs(
                    b.stored,
                    new Pending(k, observation, b.pending, b.pending == null ? 1 : b.pending.count + 1),
                    b.writing,
                    view,
                    b.loadedNanos,
                    b.writeId,
                    b.stalled);
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
        for (Map.Entry<String, AtomicReference<Beliefs>> e : candidates.entrySet()) {
            if (!flush(e.getKey(), e.getValue())) {
                // the store is away: every other candidate would wait for its timeout too
                return;
            }
        }
    }

    /** Observations lost so far because their entry could not be written. */
    long lost() {
        return lost.get();
    }

    @Override
    public Map<String, Map<String, Belief>> snapshot() {
        Map<String, Map<String, Belief>> out = new TreeMap<>();
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
            Belief[] read = read(candidateId);
            ref.compareAndSet(null, new Beliefs(read, null, read, System.nanoTime()));
        }
        return ref;
    }

    /**
     * Writes one candidate's stalled batch, then its pending observations and whatever arrives
     * meanwhile, unless another flush of it runs.
     *
     * @return false when the store could not be reached (the batch stays, stalled)
     */
    private boolean flush(String candidateId, AtomicReference<Beliefs> ref) {
        while (true) {
            Beliefs b = ref.get();
            if (b == null) {
                return true;
            }
            Pending batch;
            long writeId;
            Beliefs taken;
            if (b.writing != null) {
                if (!b.stalled) {
                    // another flush is writing it
                    return true;
                }
                // the batch that could not reach the store goes first, alone, under its write id
                batch = b.writing;
                writeId = b.writeId;
                taken = new Beliefs(b.stored, b.pending, batch, b.view, b.loadedNanos, writeId, false);
            } else {
                if (b.pending == null) {
                    return true;
                }
                batch = b.pending;
                writeId = writeIds.incrementAndGet();
                taken = new Beliefs(b.stored, null, batch, b.view, b.loadedNanos, writeId, false);
            }
            if (!ref.compareAndSet(b, taken)) {
                continue;
            }
            Belief[] written;
            try {
                written = write(candidateId, writeId, batch);
            } catch (StoreUnavailableException e) {
                while (true) {
                    Beliefs w = Objects.requireNonNull(ref.get(), "beliefs");
                    Beliefs stalled =
                            new Beliefs(w.stored, w.pending, w.writing, w.view, w.loadedNanos, w.writeId, true);
                    if (ref.compareAndSet(w, stalled)) {
                        break;
                    }
                }
                unavailable(candidateId, e);
                return false;
            }
            long now = System.nanoTime();
            while (true) {
                Beliefs w = Objects.requireNonNull(ref.get(), "beliefs");
                Belief[] stored = written != null ? written : w.stored;
                Beliefs done = new Beliefs(stored, w.pending, replay(stored, w.pending), now);
                if (ref.compareAndSet(w, done)) {
                    break;
                }
            }
        }
    }

    /** Logs at most once a minute that observations wait for an unreachable store. */
    private void unavailable(String candidateId, StoreUnavailableException e) {
        long now = System.nanoTime();
        long last = unavailableLogged.get();
        if ((last == 0 || now - last >= LOG_EVERY_NANOS) && unavailableLogged.compareAndSet(last, now == 0 ? 1 : now)) {
            long waiting = 0;
            for (AtomicReference<Beliefs> ref : candidates.values()) {
                Beliefs b = ref.get();
                if (b != null) {
                    waiting += (b.pending == null ? 0 : b.pending.count) + (b.writing == null ? 0 : b.writing.count);
                }
            }
            log.log(
                    Level.WARNING,
                    "learning: the shared store cannot be reached (" + e.getMessage() + "); " + waiting
                            + " observations wait in this process and are written, in order, once it answers"
                            + " (first: " + candidateId + "); this is logged at most once a minute");
        }
    }

    /**
     * Replays {@code batch} oldest first under the entry's lock; the entry after it, or null when it
     * failed for good.
     *
     * @throws StoreUnavailableException the store could not be reached: try again with the same id
     */
    private Belief @Nullable [] write(String candidateId, long writeId, Pending batch) {
        Pending[] inOrder = oldestFirst(batch);
        Belief[][] after = new Belief[1][];
        List<Fired> fired = new ArrayList<>(0);
        try {
            store.update(candidateId, writeId, c -> {
                // a retried update (Chronicle may run it again) starts over
                fired.clear();
                for (Pending p : inOrder) {
                    int i = Belief.LONGS * p.taskClass;
                    Belief.Step step = Belief.read(c, i).observe(p.observation, detector, discount);
                    step.after().write(c, i);
                    if (step.reset() != null) {
                        fired.add(new Fired(p.taskClass, step.reset(), p.observation.nowMillis()));
                    }
                }
                after[0] = decode(c);
                return 0;
            });
            for (Fired f : fired) {
                tell(candidateId, f);
            }
            return after[0];
        } catch (StoreUnavailableException e) {
            throw e;
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

    private Belief[] read(String candidateId) {
        // all zeros when nothing is known yet
        long[] c = new long[LENGTH];
        store.read(candidateId, c);
        return decode(c);
    }

    /** {@code stored} with the observations of {@code b} that are not in it (being written, then pending) replayed. */
    private Belief[] replay(Belief[] stored, @Nullable Beliefs b) {
        if (b == null) {
            return stored;
        }
        return replay(replay(stored, b.writing), b.pending);
    }

    private Belief[] replay(Belief[] from, @Nullable Pending newestFirst) {
        if (newestFirst == null) {
            return from;
        }
        Belief[] out = from.clone();
        for (Pending p : oldestFirst(newestFirst)) {
            out[p.taskClass] =
                    out[p.taskClass].observe(p.observation, detector, discount).after();
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

    private static Map<String, Belief> known(Belief[] byClass) {
        Map<String, Belief> m = new TreeMap<>();
        for (TaskClass tc : TaskClass.all()) {
            Belief p = byClass[tc.index()];
            if (p.observations() != 0) {
                m.put(tc.key(), p);
            }
        }
        return m;
    }

    private static Belief[] decode(long[] c) {
        Belief[] byClass = new Belief[TaskClass.COUNT];
        for (int k = 0; k < TaskClass.COUNT; k++) {
            byClass[k] = Belief.read(c, Belief.LONGS * k);
        }
        return byClass;
    }

    /** A firing found while writing, told once the entry's lock is let go. */
    private record Fired(int taskClass, Belief.Reset reset, long nowMillis) {}

    private void tell(String key, Fired f) {
        try {
            listener.reset(key, TaskClass.all().get(f.taskClass), f.reset, f.nowMillis);
        } catch (RuntimeException e) {
            log.log(Level.WARNING, "learning: reporting a change of " + key + " failed", e);
        }
    }

    @Override
    public void onReset(ResetListener l) {
        this.listener = l;
    }
}
