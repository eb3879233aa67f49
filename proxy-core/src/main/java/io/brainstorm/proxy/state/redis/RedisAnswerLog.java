package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.spi.TaskClass;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * {@link AnswerLog} in Redis, shared by every gateway on it: feedback sent to any gateway finds an
 * answer another one gave. One string per answer, {@code <prefix>answer:{<request id>}}, holding
 * {@code "1|<answered at>|<task class key>|<tenant length>|<tenant><candidate id>"}, written with
 * {@code SET NX} (the first answer to an id stands) and expiring {@link #RETENTION_MILLIS} after
 * the answer (relative to this gateway's clock, {@code PX}).
 *
 * <p><b>Batches.</b> {@link #remember} does not touch Redis: it queues the answer (at most
 * {@value #PENDING_CAPACITY}; half full asks for a flush at once through {@code flushSoon}; a full
 * queue drops the answer and counts it, {@link #dropped()}). {@link #flush} (a round of the state
 * flusher, every {@value #FLUSH_MILLIS} ms, and at close) sends every queued answer pipelined and
 * removes those Redis took; when Redis cannot be reached the rest stay queued, in order, for the
 * next flush, and the log says so at most once a minute.
 *
 * <p><b>Lookups.</b> {@link #lookup} looks in this gateway's queue first (feedback right after an
 * answer works here before the flush), then asks Redis with one {@code GET}; another tenant's
 * request id answers null, as an unknown one does. {@link #find} is the same, waiting for it: not
 * for event loops.
 *
 * <p><b>Threading:</b> thread-safe. {@link #remember} is a map insert and a lock-free queue offer;
 * {@link #lookup} returns a future Lettuce completes on its I/O thread; {@link #flush} runs on one
 * thread at a time and waits for Redis (the state flusher, never an event loop).
 *
 * <p><b>Errors:</b> {@link #remember} never throws. {@link #lookup}'s future fails when Redis
 * cannot be asked: the caller answers 503 {@code state_unavailable} rather than 404.
 */
public final class RedisAnswerLog implements AnswerLog {
    private static final System.Logger log = System.getLogger(RedisAnswerLog.class.getName());

    /** Answers waiting for {@link #flush}: at most this many, then they are dropped. */
    public static final int PENDING_CAPACITY = 8_192;
    /** How often the state flusher's round writes the queue. */
    public static final long FLUSH_MILLIS = 100;

    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final RedisLink link;
    private final RedisAsyncCommands<String, String> redis;
    private final String prefix;
    private final Runnable flushSoon;
    private final long waitMillis;

    private record Remembered(String requestId, Answer answer) {}

    /** Oldest first; only {@link #flush} removes, so what it peeked at is what it polls. */
    private final ConcurrentLinkedQueue<Remembered> pending = new ConcurrentLinkedQueue<>();
    /** The queue by request id: the first answer to each. */
    private final ConcurrentHashMap<String, Answer> queued = new ConcurrentHashMap<>();

    private final AtomicInteger pendingCount = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private long droppedLogged;
    private long unavailableLogged;

    /** @param flushSoon asks for a {@link #flush} now, without waiting for it: the queue is half full */
    public RedisAnswerLog(RedisLink link, Runnable flushSoon) {
        this.link = link;
        this.redis = link.async();
        this.prefix = link.prefix();
        this.flushSoon = Objects.requireNonNull(flushSoon, "flushSoon");
        this.waitMillis = 2 * link.config().timeout().toMillis() + 1_000;
    }

    @Override
    public void remember(String requestId, Answer answer) {
        int before = pendingCount.getAndIncrement();
        if (before >= PENDING_CAPACITY) {
            pendingCount.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        if (queued.putIfAbsent(requestId, answer) != null) {
            // the first answer to an id stands
            pendingCount.decrementAndGet();
            return;
        }
        pending.offer(new Remembered(requestId, answer));
        if (before == PENDING_CAPACITY / 2) {
            flushSoon.run();
        }
    }

    /** Answers dropped so far because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Answers queued now, not yet in Redis. */
    public int queued() {
        return pendingCount.get();
    }

    /**
     * Writes the queued answers to Redis, pipelined, oldest first; what Redis did not take stays
     * queued for the next flush. One thread at a time, never an event loop: it waits for Redis.
     *
     * @return whether the queue was written whole (false: Redis could not be reached)
     */
    public synchronized boolean flush() {
        List<Remembered> batch = new ArrayList<>();
        for (Remembered r : pending) {
            batch.add(r);
        }
        long now = System.currentTimeMillis();
        List<RedisFuture<String>> sets = new ArrayList<>(batch.size());
        for (Remembered r : batch) {
            long ttl = Math.max(1, r.answer.atMillis() + RETENTION_MILLIS - now);
            sets.add(redis.set(
                    key(r.requestId), encode(r.answer), SetArgs.Builder.nx().px(ttl)));
        }
        boolean whole = true;
        for (int i = 0; i < batch.size(); i++) {
            try {
                // null: an answer to this id was there already, and stands
                link.timed(RedisLink.Op.ANSWERS, sets.get(i))
                        .toCompletableFuture()
                        .get(waitMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                whole = false;
                break;
            } catch (ExecutionException | TimeoutException e) {
                // in order: this one and the later ones are sent again (NX makes that harmless)
                whole = false;
                logUnavailable(batch.size() - i, e);
                break;
            }
            Remembered r = pending.poll();
            queued.remove(Objects.requireNonNull(r, "a queued answer").requestId, r.answer);
            pendingCount.decrementAndGet();
        }
        long d = dropped.get();
        if (d != droppedLogged) {
            log.log(
                    Level.WARNING,
                    "answers: " + (d - droppedLogged)
                            + " answers were not kept for feedback (feedback on them gets a 404): more than "
                            + PENDING_CAPACITY + " waited to be written to Redis");
            droppedLogged = d;
        }
        return whole;
    }

    @Override
    public @Nullable Answer find(String requestId, String tenant, long nowMillis) {
        try {
            return lookup(requestId, tenant, nowMillis).toCompletableFuture().get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("answers: interrupted while waiting for Redis", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("answers: Redis could not be asked for " + requestId, e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("answers: no answer from Redis within " + waitMillis + " ms", e);
        }
    }

    @Override
    public CompletionStage<@Nullable Answer> lookup(String requestId, String tenant, long nowMillis) {
        Answer mine = queued.get(requestId);
        if (mine != null) {
            return CompletableFuture.completedFuture(visible(mine, tenant, nowMillis));
        }
        return link.timed(RedisLink.Op.ANSWERS, redis.get(key(requestId)))
                .thenApply(v -> v == null ? null : visible(decode(v), tenant, nowMillis));
    }

    private static @Nullable Answer visible(@Nullable Answer a, String tenant, long nowMillis) {
        return a != null && a.tenant().equals(tenant) && nowMillis - a.atMillis() <= RETENTION_MILLIS ? a : null;
    }

    String key(String requestId) {
        return prefix + "answer:{" + requestId + "}";
    }

    static String encode(Answer a) {
        return "1|" + a.atMillis() + "|" + a.taskClass().key() + "|"
                + a.tenant().length() + "|" + a.tenant() + a.candidateId();
    }

    /** The answer in {@code v}, or null when it is not one this version can read. */
    static @Nullable Answer decode(String v) {
        String[] f = v.split("\\|", 5);
        if (f.length != 5 || !f[0].equals("1")) {
            return null;
        }
        try {
            long at = Long.parseLong(f[1]);
            int tenantLength = Integer.parseInt(f[3]);
            if (tenantLength < 0 || tenantLength > f[4].length()) {
                return null;
            }
            for (TaskClass tc : TaskClass.all()) {
                if (tc.key().equals(f[2])) {
                    return new Answer(f[4].substring(0, tenantLength), f[4].substring(tenantLength), tc, at);
                }
            }
            return null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void logUnavailable(int waiting, Exception e) {
        long now = System.nanoTime();
        if (unavailableLogged == 0 || now - unavailableLogged >= LOG_EVERY_NANOS) {
            unavailableLogged = now == 0 ? 1 : now;
            Throwable c = e.getCause() == null ? e : e.getCause();
            log.log(
                    Level.WARNING,
                    "answers: Redis cannot be reached (" + c + "); " + waiting
                            + " answers wait in this gateway and are written once it answers (feedback on them"
                            + " works here meanwhile); this is logged at most once a minute");
        }
    }
}
