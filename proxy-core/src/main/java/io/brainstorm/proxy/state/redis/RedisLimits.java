package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.LimitStore;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStoreException;
import io.brainstorm.proxy.state.StoreEvents;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Admission's counts in Redis, shared by every gateway on it (docs/scale-out.md): rate windows by
 * {@link RedisRates}, budgets by {@link RedisBudgets}, one Lua script per step.
 *
 * <p><b>The request path.</b> A key with a rate limit costs one round trip for its window, a key
 * with a budget one for its reservation; their answers come on Lettuce's thread. A key with neither
 * costs none: its spend goes into a local journal that {@code br-redis-writer} adds to Redis every
 * {@value #FLUSH_MILLIS} ms as numbered batches ({@link RedisBudgets#charge}), so an unlimited key
 * is served, and its spend kept, while Redis is away.
 *
 * <p><b>Redis away.</b> A rate or budget check that cannot reach Redis (down, timed out) fails with
 * {@link StateStoreException}, which the client gets as 503 {@code state_unavailable}
 * ({@code redis.on_unavailable: closed}, the default); with {@code open} the request is served as
 * if the key had no limits, its spend journaled, and one log line a minute says how many were.
 *
 * <p><b>Nothing lost.</b> A settle or release that could not be written goes into an in-order
 * queue that {@code br-redis-writer} retries, oldest first, until Redis takes it; settles and
 * releases are idempotent per reservation and journal batches per sequence number, so a retry after
 * a lost reply counts once. What waits is counted in {@link #usage} at once and shown by
 * {@link #deferred()}; a WARNING says when writes start to wait and an INFO when they are written.
 * Holds of a gateway that dies lapse after {@code redis.hold_ttl_seconds} ({@link RedisBudgets}).
 * At {@link #close} the writer tries for up to 5 s; what is still queued then is logged as lost.
 *
 * <p><b>Audit.</b> The same episodes go to the {@link StoreEvents} set by {@link #events} (the audit
 * trail's {@code "type":"state"} records): one event when writes start to wait, one when they are
 * written (how many, the spend of settles and journal batches among them), and writes lost, by
 * reason, at the end of an episode, at most once a minute otherwise, and at close.
 *
 * <p><b>Threading:</b> thread-safe; nothing blocks the caller. The writer thread is the only one
 * that waits on Redis.
 */
public final class RedisLimits implements LimitStore, AutoCloseable {
    private static final System.Logger log = System.getLogger(RedisLimits.class.getName());
    static final long FLUSH_MILLIS = 100;
    /** Writes waiting for Redis, at most; more are lost (and logged, counted). */
    static final int MAX_DEFERRED = 1_000_000;

    private static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final RedisLink link;
    private final RedisBudgets budgets;
    private final RedisRates rates;
    private final boolean failOpen;
    private final AtomicLong localIds = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final Map<DayKey, Spend> journal = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Deferred> deferred = new ConcurrentLinkedQueue<>();
    private final AtomicInteger deferredCount = new AtomicInteger();
    private final AtomicLong deferredTotal = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final OncePerMinute servedOpen = new OncePerMinute();
    private final OncePerMinute refused = new OncePerMinute();
    private final ScheduledExecutorService writer;
    /** Writes wait for Redis: an episode began (WARNING, {@link StoreEvents#writesWaiting}) and has not ended. */
    private final AtomicBoolean waiting = new AtomicBoolean();
    /** When the current episode began, epoch ms. */
    private volatile long waitingSince;
    // the episode's writes written so far; the writer thread's (and close's, after it stopped)
    private long episodeWrites;
    private long episodeSettledNano;
    private long episodeJournaledNano;
    /** Writes lost since they were last reported to {@link #events}, by reason. */
    private final AtomicLong lostQueueFull = new AtomicLong();

    private final AtomicLong lostRefused = new AtomicLong();
    private volatile String refusal = "";
    private long lostReportedAt = System.nanoTime() - LOG_EVERY_NANOS;
    private volatile StoreEvents events = StoreEvents.NONE;
    /** A write failed because Redis was away, and the queue has not been written out since. */
    private volatile boolean away;

    private record DayKey(String keyId, LocalDate day) {}

    /** Spend journaled for one (key, day), not yet in a batch. */
    private static final class Spend {
        final AtomicLong nano = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
    }

    /** A write that waits for Redis. */
    private sealed interface Deferred {}

    private record Settle(Reservation r, long actualNano) implements Deferred {}

    private record Release(Reservation r) implements Deferred {}

    private record Charge(DayKey key, long seq, long nano, long requests) implements Deferred {}

    /**
     * Loads the scripts (waiting up to the link's start wait) and starts {@code br-redis-writer}.
     *
     * @param holdTtl  how long a budget hold lives unless its request ends it
     * @param failOpen serve keys with limits without them while Redis cannot be reached
     */
    public RedisLimits(RedisLink link, Duration holdTtl, boolean failOpen) {
        this.link = link;
        RedisBudgetScripts scripts = new RedisBudgetScripts(link.async());
        this.budgets = new RedisBudgets(link.async(), scripts, link.prefix(), holdTtl, RedisBudgets.DEFAULT_DAY_MARGIN);
        this.rates = new RedisRates(link.async(), link.prefix(), RedisRates.DEFAULT_MARGIN);
        this.failOpen = failOpen;
        // a connection that just came up may drop and come back once (a slow handshake under load):
        // the scripts are loaded again until redis.startup_wait_seconds is over
        long deadline = System.nanoTime() + link.config().startupWait().toNanos();
        while (true) {
            try {
                CompletableFuture.allOf(
                                scripts.load().toCompletableFuture(),
                                rates.load().toCompletableFuture())
                        .get(link.config().timeout().toMillis() * 2, TimeUnit.MILLISECONDS);
                break;
            } catch (ExecutionException | TimeoutException e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                if (!(e instanceof TimeoutException || RedisLink.unavailable(c)) || System.nanoTime() > deadline) {
                    throw new StateStoreException("loading the budget and rate scripts into Redis failed: " + c, c, 1);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StateStoreException("interrupted while loading the scripts into Redis", e, 1);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StateStoreException("interrupted while loading the scripts into Redis", e, 1);
            }
        }
        this.writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "br-redis-writer");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleWithFixedDelay(this::writeRound, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletionStage<Long> acquire(String keyId, long nowMillis, int rpm, long tokens, long tpm) {
        return link.timed(RedisLink.Op.RATE, rates.tryAcquire(keyId, nowMillis, rpm, tokens, tpm))
                .exceptionally(e -> {
                    unreachable(e);
                    // fail open: counted nowhere, served
                    return 0L;
                });
    }

    /**
     * A key with a rate limit and a budget: both in one script, one round trip
     * ({@link RedisBudgets#admit}); otherwise as {@link LimitStore#admit}.
     */
    @Override
    public CompletionStage<Admitted> admit(
            String keyId,
            long nowMillis,
            int rpm,
            long tokens,
            long tpm,
            LocalDate day,
            ZoneId zone,
            long amountNano,
            long budgetNano) {
        if ((rpm <= 0 && tpm <= 0) || budgetNano == KeyLimits.UNLIMITED) {
            return LimitStore.super.admit(keyId, nowMillis, rpm, tokens, tpm, day, zone, amountNano, budgetNano);
        }
        return link.timed(
                        RedisLink.Op.BUDGET,
                        budgets.admit(
                                rates.prepare(keyId, nowMillis, rpm, tokens, tpm),
                                keyId,
                                day,
                                zone,
                                amountNano,
                                budgetNano))
                .thenApply(a -> new Admitted(a.waitMillis(), a.reservation()))
                .exceptionally(e -> {
                    unreachable(e);
                    return new Admitted(0, local(keyId, day, amountNano));
                });
    }

    @Override
    public CompletionStage<Reservation> reserve(
            String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano) {
        if (budgetNano == KeyLimits.UNLIMITED) {
            return CompletableFuture.completedFuture(local(keyId, day, amountNano));
        }
        return link.timed(RedisLink.Op.BUDGET, budgets.reserve(keyId, day, zone, amountNano, budgetNano))
                .exceptionally(e -> {
                    unreachable(e);
                    return local(keyId, day, amountNano);
                });
    }

    /**
     * What a check that failed with {@code e} means: a {@link StateStoreException} (503) unless
     * {@code redis.on_unavailable} is open, where the request is served (counted, logged a minute).
     */
    private void unreachable(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (failOpen && RedisLink.unavailable(c)) {
            warnOncePerMinute(
                    servedOpen,
                    c,
                    "serving keys with a budget or rate limit without them (redis.on_unavailable: open); {2} such"
                            + " requests since the last such line");
            return;
        }
        warnOncePerMinute(
                refused,
                c,
                "keys with a budget or rate limit get 503 state_unavailable (redis.on_unavailable: closed); {2}"
                        + " refused since the last such line");
        throw new StateStoreException("Redis cannot be reached: " + c.getMessage(), c, 1, true);
    }

    /** Counts one on {@code count} and, when its minute is up, logs {@code consequence} ({2}: how many since the last line). */
    private void warnOncePerMinute(OncePerMinute count, Throwable cause, String consequence) {
        long since = count.count();
        if (since > 0) {
            log.log(
                    System.Logger.Level.WARNING,
                    "Redis at {0} cannot be reached ({1}): " + consequence,
                    link.config().safeUrl(),
                    cause.toString(),
                    since);
        }
    }

    /** A count whose log line is written at most once a minute, saying how many happened since the last one. */
    private static final class OncePerMinute {
        private final AtomicLong total = new AtomicLong();
        private final AtomicLong lastLine = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
        private final AtomicLong atLastLine = new AtomicLong();

        /** Counts one; the count since the last line when a line is due now, else 0. */
        long count() {
            long n = total.incrementAndGet();
            long last = lastLine.get();
            long now = System.nanoTime();
            if (now - last >= LOG_EVERY_NANOS && lastLine.compareAndSet(last, now)) {
                return n - atLastLine.getAndSet(n);
            }
            return 0;
        }

        long total() {
            return total.get();
        }
    }

    /** A reservation nothing in Redis holds: its settle goes to the journal. */
    private Reservation local(String keyId, LocalDate day, long amountNano) {
        return new Reservation(
                -localIds.incrementAndGet(), keyId, day, amountNano, Reservation.Verdict.GRANTED, 0, 0, 0, 0);
    }

    @Override
    public void settle(Reservation r, long actualNano) {
        if (!r.granted()) {
            return;
        }
        if (r.id() < 0) {
            Spend s = journal.computeIfAbsent(new DayKey(r.keyId(), r.day()), k -> new Spend());
            s.nano.addAndGet(actualNano);
            s.requests.incrementAndGet();
            return;
        }
        send(new Settle(r, actualNano));
    }

    @Override
    public void release(Reservation r) {
        if (!r.granted() || r.id() < 0) {
            return;
        }
        send(new Release(r));
    }

    /**
     * Writes {@code d} now, unless older writes wait: then (or when it fails) after them. Writes
     * queued behind journal batches while Redis answers are not waiting for Redis: only those queued
     * while it is away, or that failed, count in {@link #deferredTotal} and the WARNING.
     */
    private void send(Deferred d) {
        if (deferredCount.get() > 0) {
            defer(d, away);
            return;
        }
        write(d).whenComplete((v, e) -> {
            if (e != null) {
                away = true;
                defer(d, true);
            }
        });
    }

    private CompletionStage<?> write(Deferred d) {
        CompletionStage<?> f;
        if (d instanceof Settle s) {
            f = budgets.settle(s.r(), s.actualNano());
        } else if (d instanceof Release r) {
            f = budgets.release(r.r());
        } else {
            Charge c = (Charge) d;
            f = budgets.charge(c.key().keyId(), c.key().day(), c.seq(), c.nano(), c.requests());
        }
        return link.timed(RedisLink.Op.BUDGET, f);
    }

    /**
     * Where to report the episodes of writes that wait (the audit trail); {@link StoreEvents#NONE} by
     * default. Set once both are open; may be set again at any time.
     */
    public void events(StoreEvents events) {
        this.events = events;
    }

    /** Queues {@code d} behind what waits; {@code forRedis}: because Redis is away (counted, logged). */
    private void defer(Deferred d, boolean forRedis) {
        if (deferredCount.get() >= MAX_DEFERRED) {
            lost.incrementAndGet();
            lostQueueFull.incrementAndGet();
            log.log(
                    System.Logger.Level.ERROR,
                    "more than " + MAX_DEFERRED + " budget writes wait for Redis; one is" + " lost: " + d);
            return;
        }
        deferred.add(d);
        deferredCount.incrementAndGet();
        if (forRedis) {
            deferredTotal.incrementAndGet();
            logWaiting(d);
        }
    }

    /** The start of an episode, once: the WARNING and the event, with the kind of the write {@code d}. */
    private void logWaiting(Deferred d) {
        if (waiting.compareAndSet(false, true)) {
            long at = System.currentTimeMillis();
            waitingSince = at;
            log.log(
                    System.Logger.Level.WARNING,
                    "budget writes wait for Redis at {0}: they are kept in order and written when it answers",
                    link.config().safeUrl());
            String kind = d instanceof Settle ? "settle" : d instanceof Release ? "release" : "journal";
            report(e -> e.writesWaiting(at, kind));
        }
    }

    /** Hands an event to {@link #events}; a listener's bug is logged, never the caller's problem. */
    private void report(Consumer<StoreEvents> event) {
        try {
            event.accept(events);
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "reporting a Redis store event to the audit trail failed", e);
        }
    }

    /** Reports the writes lost since the last report, one event per reason; {@code force}: even within the minute. */
    private void reportLost(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lostReportedAt < LOG_EVERY_NANOS) {
            return;
        }
        long full = lostQueueFull.getAndSet(0);
        long refused = lostRefused.getAndSet(0);
        if (full == 0 && refused == 0) {
            return;
        }
        lostReportedAt = now;
        long at = System.currentTimeMillis();
        if (full > 0) {
            report(e -> e.writesLost(
                    at, full, "queue full: more than " + MAX_DEFERRED + " budget writes waited for Redis"));
        }
        if (refused > 0) {
            String why = "refused by Redis (" + refusal + ")";
            report(e -> e.writesLost(at, refused, why));
        }
    }

    /** The writer's round: the journal into batches, then the queue, oldest first, until Redis fails. */
    private void writeRound() {
        try {
            batchJournal();
            drain(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
            if (!waiting.get()) {
                reportLost(false);
            }
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "the Redis budget writer failed a round", e);
        }
    }

    private void batchJournal() {
        LocalDate old = LocalDate.now(ZoneOffset.UTC).minusDays(3);
        for (Iterator<Map.Entry<DayKey, Spend>> it = journal.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<DayKey, Spend> e = it.next();
            long nano = e.getValue().nano.getAndSet(0);
            long requests = e.getValue().requests.getAndSet(0);
            if (nano != 0 || requests != 0) {
                // queued, never sent beside the queue: batches of one instance must arrive in order
                deferred.add(new Charge(e.getKey(), batches.incrementAndGet(), nano, requests));
                deferredCount.incrementAndGet();
            } else if (e.getKey().day().isBefore(old)) {
                // no request settles on a day this old any more
                it.remove();
            }
        }
    }

    /** Writes the queue oldest first until it is empty, Redis fails, or {@code deadline}. */
    private void drain(long deadline) {
        Deferred d;
        while ((d = deferred.peek()) != null && System.nanoTime() < deadline) {
            try {
                write(d).toCompletableFuture().get(link.config().timeout().toMillis() * 2, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                if (e instanceof TimeoutException || RedisLink.unavailable(c)) {
                    // Redis is away: the next round tries again, in the same order
                    away = true;
                    logWaiting(d);
                    return;
                }
                log.log(System.Logger.Level.ERROR, "Redis refused a budget write; it is dropped: " + d, c);
                lost.incrementAndGet();
                refusal = c.getClass().getSimpleName();
                lostRefused.incrementAndGet();
                deferred.poll();
                deferredCount.decrementAndGet();
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            deferred.poll();
            deferredCount.decrementAndGet();
            if (waiting.get()) {
                episodeWrites++;
                if (d instanceof Settle s) {
                    episodeSettledNano += s.actualNano();
                } else if (d instanceof Charge c) {
                    episodeJournaledNano += c.nano();
                }
            }
        }
        if (deferred.isEmpty()) {
            away = false;
        }
        if (deferred.isEmpty() && waiting.get()) {
            long writes = episodeWrites;
            long settled = episodeSettledNano;
            long journaled = episodeJournaledNano;
            long from = waitingSince;
            long to = System.currentTimeMillis();
            episodeWrites = 0;
            episodeSettledNano = 0;
            episodeJournaledNano = 0;
            waiting.set(false);
            log.log(System.Logger.Level.INFO, "budget writes that waited for Redis are written");
            report(e -> e.waitingWritten(writes, settled, journaled, from, to));
            reportLost(true);
        }
    }

    @Override
    public CompletionStage<DayUsage> usage(String keyId, LocalDate day) {
        return link.timed(RedisLink.Op.USAGE, budgets.usage(keyId, day)).thenApply(u -> withUnwritten(u, keyId, day));
    }

    /** {@code u} with this gateway's spend that Redis does not have yet. */
    private DayUsage withUnwritten(DayUsage u, String keyId, LocalDate day) {
        DayKey k = new DayKey(keyId, day);
        long spent = u.spentNano();
        long reserved = u.reservedNano();
        long requests = u.requests();
        Spend s = journal.get(k);
        if (s != null) {
            spent += s.nano.get();
            requests += s.requests.get();
        }
        if (deferredCount.get() > 0) {
            for (Deferred d : deferred) {
                if (d instanceof Charge c && c.key().equals(k)) {
                    spent += c.nano();
                    requests += c.requests();
                } else if (d instanceof Settle st
                        && st.r().keyId().equals(keyId)
                        && st.r().day().equals(day)) {
                    spent += st.actualNano();
                    reserved -= st.r().amountNano();
                    requests++;
                } else if (d instanceof Release rl
                        && rl.r().keyId().equals(keyId)
                        && rl.r().day().equals(day)) {
                    reserved -= rl.r().amountNano();
                }
            }
        }
        return new DayUsage(spent, Math.max(0, reserved), requests);
    }

    /** Writes waiting for Redis now. */
    public int deferred() {
        return deferredCount.get();
    }

    /** Writes that ever had to wait for Redis. */
    public long deferredTotal() {
        return deferredTotal.get();
    }

    /** Writes lost: the queue was full, Redis refused one, or they still waited at close. */
    public long lost() {
        return lost.get();
    }

    /** Requests of keys with limits served without them while Redis was away (on_unavailable: open). */
    public long servedOpen() {
        return servedOpen.total();
    }

    /** Requests of keys with limits refused with 503 because Redis was away (on_unavailable: closed). */
    public long refusedUnavailable() {
        return refused.total();
    }

    public RedisLink link() {
        return link;
    }

    /** Writes what waits, trying for up to 5 s; what is left then is logged as lost. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        batchJournal();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!deferred.isEmpty() && System.nanoTime() < deadline) {
            drain(deadline);
            if (!deferred.isEmpty()) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        int left = deferredCount.get();
        reportLost(true);
        if (left > 0) {
            lost.addAndGet(left);
            log.log(
                    System.Logger.Level.ERROR,
                    "{0} budget writes could not be written to Redis at {1} before shutdown and are lost",
                    left,
                    link.config().safeUrl());
            long at = System.currentTimeMillis();
            report(e -> e.writesLost(at, left, "still waiting for Redis at shutdown"));
        }
    }
}
