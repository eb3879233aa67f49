package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.state.redis.RedisRegistry;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Where a {@link Registry}'s state lives and how it changes: the current {@link RegistryState}, kept
 * in step with {@code registry.json} (or only on the heap), and the {@link RegistrySnapshot} the
 * request path reads.
 *
 * <h2>Processes</h2>
 * A change ({@link #change}) runs under the state directory's lock ({@link RegistryFile#locked}):
 * it reads the file if it differs from what this instance last read or wrote, applies the change to
 * a copy, writes the copy and only then makes it current. Between changes, a daemon thread
 * ({@code br-registry-watch}) checks the file's stamp every {@value Registry#RELOAD_MILLIS} ms and
 * reads it again when a peer replaced it ({@link #poll}). A file that does not read is logged by the
 * watcher and refuses changes, so it is never overwritten.
 *
 * <h2>Redis</h2>
 * Made by {@link #shared}, the store keeps the same state in Redis ({@link RegistryRedis}) instead:
 * a change reads the state and its version, applies the change to a copy and writes it with a
 * compare-and-set, reading again and applying again when another gateway changed it meanwhile.
 * The watcher checks the version every {@value Registry#RELOAD_MILLIS} ms and at once when a change
 * notice arrives, and reads the state when the version moved. While Redis cannot be reached the
 * watcher logs it at most once a minute and keeps the last state; a change fails with a 503
 * {@link ApiError}.
 *
 * <p><b>Threading:</b> {@link #start}, {@link #poll} and {@link #change} are synchronized on this
 * store, which guards {@code state}, {@code lastBytes}, {@code lastStamp} and the Redis fields; the
 * file lock (or Redis's compare-and-set) orders them with other processes. Change notices arrive on
 * Lettuce's I/O thread and only hand a check to the watcher thread. {@link #snapshot} is a volatile read, for any thread. A state, once
 * current, is never changed: every change works on a copy.
 */
final class RegistryStore {
    private static final System.Logger log = System.getLogger(Registry.class.getName());
    /** How often a change or start in Redis reads again and retries after losing a compare-and-set. */
    private static final int MAX_ATTEMPTS = 100;

    private static final long OUTAGE_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** null on the heap and in Redis */
    private final @Nullable RegistryFile file;
    /** null on the heap and in a file */
    private final @Nullable RegistryRedis redis;

    private final FixedEntries fixed;
    /** The cheap hash of every snapshot's {@link VerdictCache}. */
    private final VerdictCache.Hash hash;

    // ---- guarded by this ----
    /** Empty until {@link #start}. */
    private RegistryState state = new RegistryState();
    /** The file's bytes {@link #state} was read from or written as; null on the heap or before the first write. */
    private byte @Nullable [] lastBytes;
    /** The file's stamp when last read or written (null before); the watcher reads it again when it changes. */
    private RegistryFile.@Nullable Stamp lastStamp;
    /** In Redis: the version {@link #state} was read or written as (0: none yet). */
    private long lastVersion;
    /** In Redis: a version the watcher could not decode, so that it is logged once, not every check. */
    private long badVersion = -1;
    /** In Redis: when the watcher last logged that Redis cannot be reached ({@link System#nanoTime}), or 0. */
    private long lastOutageLog;

    /** Version 0, empty, until {@link #start} publishes version 1. */
    private volatile RegistrySnapshot snapshot;

    private volatile @Nullable ScheduledExecutorService watcher;
    /** In Redis: the subscription to change notices, while watching. */
    private volatile @Nullable StatefulRedisPubSubConnection<String, String> notices;

    RegistryStore(@Nullable RegistryFile file, FixedEntries fixed, VerdictCache.Hash hash) {
        this(file, null, fixed, hash);
    }

    /** The state kept in Redis, shared by every gateway on it. */
    static RegistryStore shared(RegistryRedis redis, FixedEntries fixed, VerdictCache.Hash hash) {
        return new RegistryStore(null, redis, fixed, hash);
    }

    private RegistryStore(
            @Nullable RegistryFile file, @Nullable RegistryRedis redis, FixedEntries fixed, VerdictCache.Hash hash) {
        this.file = file;
        this.redis = redis;
        this.fixed = fixed;
        this.hash = hash;
        this.snapshot = RegistrySnapshot.of(0, fixed, state, hash);
    }

    /** What the request path reads. */
    RegistrySnapshot snapshot() {
        return snapshot;
    }

    /**
     * Reads the file (an empty state when there is none), lets {@code init} add what every start must
     * find (it changes the state it is given), writes what changed and publishes. Under the file lock.
     */
    synchronized <T> T start(Function<RegistryState, T> init) throws IOException {
        RegistryRedis redis = this.redis;
        if (redis != null) {
            return startShared(redis, init);
        }
        RegistryState s = null;
        if (file != null) {
            RegistryFile.Stamp stamp = file.stamp();
            byte[] bytes = file.read();
            if (bytes != null) {
                s = file.decode(bytes);
                lastBytes = bytes;
                lastStamp = stamp;
            }
        }
        if (s == null) {
            s = new RegistryState();
        }
        T result = init.apply(s);
        if (file != null) {
            write(file, s);
        }
        state = s;
        publish();
        return result;
    }

    /**
     * In Redis, {@link #start}: reads the state, lets {@code init} add to it and writes it with a
     * compare-and-set; when another gateway changed it meanwhile (two starting at once), reads it
     * again and lets {@code init} decide again, so what {@code init} makes (a demo key, an admin
     * token) is made once, by the gateway whose write won, and only that one's result is returned.
     * While Redis cannot be asked it tries again every 100 ms, for up to {@code redis.startup_wait}.
     */
    private <T> T startShared(RegistryRedis redis, Function<RegistryState, T> init) throws IOException {
        long deadline = System.nanoTime() + redis.startupWait().toNanos();
        while (true) {
            try {
                return startSharedOnce(redis, init);
            } catch (RegistryRedis.Unavailable e) {
                // a link that has just connected may still be reconnecting, or Redis is restarting
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private <T> T startSharedOnce(RegistryRedis redis, Function<RegistryState, T> init) throws IOException {
        redis.checkMasterKey();
        for (int attempt = 1; ; attempt++) {
            RedisRegistry.Stored stored = redis.read();
            String json = stored.state();
            RegistryState s = json == null ? new RegistryState() : redis.decode(json);
            byte[] before = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
            T result = init.apply(s);
            byte[] after = RegistryFile.encode(s);
            long version = stored.version();
            if (before == null || !Arrays.equals(before, after)) {
                version = redis.compareAndSet(stored.version(), after);
            }
            if (version >= 0) {
                state = s;
                lastBytes = after;
                lastVersion = version;
                publish();
                return result;
            }
            if (attempt == MAX_ATTEMPTS) {
                throw new IOException(redis.where() + ": the registry changed under this start " + MAX_ATTEMPTS
                        + " times in a row (expected: fewer gateways changing it at once)");
            }
        }
    }

    /**
     * Starts the watcher thread; a store on the heap has nothing to watch. In Redis it also
     * subscribes to change notices, on which it checks at once.
     */
    void watch() {
        ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "br-registry-watch");
            t.setDaemon(true);
            return t;
        });
        w.scheduleWithFixedDelay(this::poll, Registry.RELOAD_MILLIS, Registry.RELOAD_MILLIS, TimeUnit.MILLISECONDS);
        watcher = w;
        RegistryRedis redis = this.redis;
        if (redis != null) {
            try {
                notices = redis.subscribe(() -> {
                    try {
                        w.execute(this::poll); // not here: this runs on Lettuce's I/O thread, and poll blocks
                    } catch (RejectedExecutionException e) {
                        // closed meanwhile
                    }
                });
            } catch (RuntimeException e) {
                // the poll alone still follows peers, within RELOAD_MILLIS
                log.log(
                        System.Logger.Level.WARNING,
                        "subscribing to registry changes in {0} failed; following them by polling only: {1}",
                        redis.where(),
                        e.getMessage());
            }
        }
    }

    /**
     * The watcher's check: reads the file when its stamp changed, and swaps the snapshot when its bytes
     * did.
     */
    synchronized void poll() {
        RegistryRedis redis = this.redis;
        if (redis != null) {
            pollShared(redis);
            return;
        }
        RegistryFile file = this.file;
        if (file == null) {
            return; // on the heap: no file to read
        }
        try {
            RegistryFile.Stamp stamp = file.stamp();
            if (stamp == null || stamp.equals(lastStamp)) {
                return; // unchanged, or missing (between a hand's delete and the next write): keep what is known
            }
            byte[] bytes = file.read();
            // the stamp taken before reading: a write after the read changes it again, so it is read again
            lastStamp = stamp;
            if (bytes == null || Arrays.equals(bytes, lastBytes)) {
                return;
            }
            RegistryState s = file.decode(bytes);
            lastBytes = bytes;
            state = s;
            publish();
        } catch (IOException | RuntimeException e) {
            log.log(
                    System.Logger.Level.WARNING,
                    "{0} changed but cannot be read; keys, tenants and provider keys " + "stay as they were: {1}",
                    file.path(),
                    e.getMessage());
        }
    }

    /** In Redis, {@link #poll}: reads the state when its version moved, and swaps the snapshot. */
    private void pollShared(RegistryRedis redis) {
        try {
            if (redis.version() == lastVersion) {
                return;
            }
            RedisRegistry.Stored stored = redis.read();
            String json = stored.state();
            if (stored.version() == badVersion) {
                return; // logged already; the next change (which reads it again) will say why
            }
            if (json == null) {
                // flushed: keep what is known; the next change writes it back
                lastVersion = stored.version();
                lastBytes = null;
                return;
            }
            RegistryState s;
            try {
                s = redis.decode(json);
            } catch (IOException e) {
                badVersion = stored.version();
                log.log(
                        System.Logger.Level.WARNING,
                        "the registry changed but cannot be read; keys, tenants and provider keys stay as they"
                                + " were: {0}",
                        e.getMessage());
                return;
            }
            state = s;
            lastBytes = json.getBytes(StandardCharsets.UTF_8);
            lastVersion = stored.version();
            publish();
        } catch (IOException | RuntimeException e) {
            long now = System.nanoTime();
            if (lastOutageLog == 0 || now - lastOutageLog >= OUTAGE_LOG_NANOS) {
                lastOutageLog = now;
                log.log(
                        System.Logger.Level.WARNING,
                        "following registry changes: {0}; keys, tenants and provider keys stay as last seen"
                                + " (logged at most once a minute)",
                        e.getMessage());
            }
        }
    }

    /**
     * Applies {@code apply} to a copy of the latest state and makes the result current: on the heap, or
     * under the locks after reading the file again if a peer changed it, then writing it. {@code apply}
     * throws {@link ApiError} to refuse; nothing changes then.
     *
     * @throws UncheckedIOException when the file cannot be read or written; nothing changes then
     */
    synchronized <T> T change(Function<RegistryState, T> apply) {
        RegistryRedis redis = this.redis;
        if (redis != null) {
            return changeShared(redis, apply);
        }
        RegistryFile file = this.file;
        if (file == null) {
            RegistryState next = state.copy();
            T result = apply.apply(next);
            state = next;
            publish();
            return result;
        }
        try {
            return file.locked(() -> {
                RegistryFile.Stamp stamp = file.stamp();
                byte[] bytes = file.read();
                if (bytes == null) {
                    lastBytes = null; // removed by hand: written again from what this process knows
                } else if (!Arrays.equals(bytes, lastBytes)) {
                    // a peer's change; one that does not read refuses this change rather than being overwritten
                    state = file.decode(bytes);
                    lastBytes = bytes;
                    lastStamp = stamp;
                    publish();
                }
                RegistryState next = state.copy();
                T result = apply.apply(next);
                if (write(file, next)) {
                    state = next;
                    publish();
                }
                return result;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * In Redis, {@link #change}: reads the latest state (a peer's change is published first),
     * applies {@code apply} to a copy and writes it with a compare-and-set; when a peer changed it
     * meanwhile, does it all again on the peer's state, so no change is lost.
     *
     * @throws ApiError 503 when Redis cannot be reached
     */
    private <T> T changeShared(RegistryRedis redis, Function<RegistryState, T> apply) {
        try {
            for (int attempt = 1; ; attempt++) {
                RedisRegistry.Stored stored = redis.read();
                String json = stored.state();
                if (json == null) {
                    // flushed, or lost with a Redis that keeps nothing: written again from what this gateway knows
                    redis.checkMasterKey();
                    lastBytes = null;
                } else if (stored.version() != lastVersion) {
                    state = redis.decode(json); // one that does not read refuses the change rather than being lost
                    lastBytes = json.getBytes(StandardCharsets.UTF_8);
                    publish();
                }
                lastVersion = stored.version();
                RegistryState next = state.copy();
                T result = apply.apply(next);
                byte[] bytes = RegistryFile.encode(next);
                if (Arrays.equals(bytes, lastBytes)) {
                    return result;
                }
                long version = redis.compareAndSet(stored.version(), bytes);
                if (version >= 0) {
                    state = next;
                    lastBytes = bytes;
                    lastVersion = version;
                    publish();
                    return result;
                }
                if (attempt == MAX_ATTEMPTS) {
                    throw new IllegalStateException(redis.where() + ": the registry changed under this change "
                            + MAX_ATTEMPTS + " times in a row (expected: fewer gateways changing it at once)");
                }
            }
        } catch (RegistryRedis.Unavailable e) {
            log.log(System.Logger.Level.WARNING, "a registry change failed: {0}", e.getMessage());
            throw ApiError.unavailable(
                    "The registry's Redis cannot be reached, so keys, tenants and provider keys cannot be changed"
                            + " now; nothing was changed. Try again in a moment.",
                    1);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** {@code secret} sealed for the file or Redis; null on the heap, where nothing is written. */
    byte @Nullable [] seal(String tenant, String provider, String secret) {
        RegistryRedis redis = this.redis;
        if (redis != null) {
            return redis.codec().seal(tenant, provider, secret);
        }
        return file == null ? null : file.seal(tenant, provider, secret);
    }

    /** Stops the watcher, if any; waits up to a second for a check under way. */
    void close() {
        StatefulRedisPubSubConnection<String, String> n = notices;
        notices = null;
        if (n != null) {
            n.close();
        }
        ScheduledExecutorService w = watcher;
        watcher = null;
        if (w != null) {
            // not shutdownNow: interrupting a read would be logged as a file that cannot be read
            w.shutdown();
            try {
                w.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** In Redis: stops listening for change notices, leaving the poll alone to follow peers; for tests. */
    void dropNotices() {
        StatefulRedisPubSubConnection<String, String> n = notices;
        notices = null;
        if (n != null) {
            n.close();
        }
    }

    /** Writes {@code s} unless the file holds it already; true when written. Under the lock. */
    private boolean write(RegistryFile file, RegistryState s) throws IOException {
        byte[] bytes = RegistryFile.encode(s);
        if (Arrays.equals(bytes, lastBytes)) {
            return false;
        }
        file.write(bytes);
        lastBytes = bytes;
        lastStamp = file.stamp();
        return true;
    }

    private void publish() {
        snapshot = RegistrySnapshot.of(snapshot.version() + 1, fixed, state, hash);
    }
}
