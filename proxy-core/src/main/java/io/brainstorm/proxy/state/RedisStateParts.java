package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.state.redis.RedisAnswerLog;
import io.brainstorm.proxy.state.redis.RedisCellStore;
import io.brainstorm.proxy.state.redis.RedisLink;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The learning state and the answer log of {@code state_store: redis} (docs/architecture.md §10),
 * shared by every gateway on one Redis: what {@link StateStore#learning} and
 * {@link StateStore#answers} are for the files. Learning is a {@link CellLearningStore} over a
 * {@link RedisCellStore} (observations batched per candidate, the request path reading a mirror on
 * the heap), answers a {@link RedisAnswerLog}.
 *
 * <p><b>Threading:</b> {@link #start} starts one daemon thread, {@code br-redis-state}, which
 * writes the queued answers every {@value RedisAnswerLog#FLUSH_MILLIS} ms and the observations
 * every {@value StateStore#LEARNING_FLUSH_MILLIS} ms, and refreshes the mirror every
 * {@value RedisCellStore#REFRESH_MILLIS} ms; it is the only thread here that waits for Redis.
 * Everything returned is thread-safe, and what the request path calls never waits for Redis.
 *
 * <p><b>Ownership:</b> the link is the caller's: {@link #close} stops the thread and writes what
 * is queued, and leaves the link open (close it after this).
 *
 * <p><b>Errors:</b> while Redis is away nothing queued is lost: answers and observations wait (up
 * to their bounds) and are written in order once it answers; the log says so at most once a minute.
 */
public final class RedisStateParts implements AutoCloseable {
    private static final System.Logger log = System.getLogger(RedisStateParts.class.getName());

    static final long REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(RedisCellStore.REFRESH_MILLIS);

    private final RedisCellStore beliefs;
    private final RedisAnswerLog answers;
    private final Map<LearningSettings, CellLearningStore> learning = new ConcurrentHashMap<>();
    private final StateFlusher flusher;
    private final java.util.concurrent.atomic.AtomicLong refreshFailedNanos =
            new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;

    private RedisStateParts(RedisLink link) {
        this.beliefs = new RedisCellStore(link, CellLearningStore.LENGTH);
        StateFlusher[] wake = new StateFlusher[1];
        this.answers = new RedisAnswerLog(link, () -> wake[0].soon());
        this.flusher = new StateFlusher(
                "br-redis-state",
                StateStore.FLUSH_TICK_MILLIS,
                List.of(
                        new StateFlusher.Round(RedisAnswerLog.FLUSH_MILLIS, answers::flush),
                        new StateFlusher.Round(StateStore.LEARNING_FLUSH_MILLIS, this::flushLearning),
                        new StateFlusher.Round(RedisCellStore.REFRESH_MILLIS, this::refresh)));
        wake[0] = flusher;
    }

    /**
     * Reads the shared beliefs once (waiting for Redis, so the first requests route on them) and
     * starts {@code br-redis-state}. Call it at start, after {@link RedisLink#connect}, off the
     * event loops. Redis failing to answer now is logged, and the thread tries again.
     */
    public static RedisStateParts start(RedisLink link) {
        RedisStateParts parts = new RedisStateParts(link);
        parts.refresh();
        parts.flusher.start();
        return parts;
    }

    /** The parts without their thread: tests run every flush and refresh themselves. */
    static RedisStateParts unstarted(RedisLink link) {
        return new RedisStateParts(link);
    }

    /** The learnt beliefs, updated under {@code settings}; one store per settings, all on the same entries. */
    public LearningStore learning(LearningSettings settings) {
        return learning.computeIfAbsent(settings, s -> new CellLearningStore(beliefs, s, REFRESH_NANOS, true));
    }

    /** Which endpoint answered which request, for feedback: ApiHandler calls {@link AnswerLog#lookup}. */
    public AnswerLog answers() {
        return answers;
    }

    /** Answers not kept for feedback because too many waited to be written. */
    public long answersDropped() {
        return answers.dropped();
    }

    /** Observations lost (their entry could not be written for good, or too many waited). */
    public long observationsLost() {
        long n = 0;
        for (CellLearningStore l : learning.values()) {
            n += l.lost();
        }
        return n;
    }

    /**
     * Writes what is queued (answers, then observations) now, waiting for Redis: for tests and
     * {@link #close}. Not on an event loop.
     */
    public void flush() {
        answers.flush();
        flushLearning();
    }

    /** Brings the mirror of the beliefs up to Redis now, waiting for it: for tests. Not on an event loop. */
    public void refresh() {
        try {
            beliefs.refresh();
        } catch (StoreUnavailableException e) {
            long now = System.nanoTime();
            long last = refreshFailedNanos.get();
            if ((last == 0 || now - last >= TimeUnit.MINUTES.toNanos(1))
                    && refreshFailedNanos.compareAndSet(last, now == 0 ? 1 : now)) {
                log.log(
                        Level.WARNING,
                        "learning: reading the shared beliefs from Redis failed (routing goes on from this"
                                + " gateway's copy; logged at most once a minute): " + e.getMessage());
            }
        }
    }

    private void flushLearning() {
        for (CellLearningStore l : learning.values()) {
            l.flush();
        }
    }

    /** Stops {@code br-redis-state} and writes what is queued; the link stays open. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!flusher.stop(5_000)) {
                log.log(Level.WARNING, "br-redis-state did not stop within 5 s; flushing beside it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flush();
    }
}
