package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.concurrent.Executors;
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
 * <p><b>Threading:</b> {@link #start}, {@link #poll} and {@link #change} are synchronized on this
 * store, which guards {@code state}, {@code lastBytes} and {@code lastStamp}; the file lock orders
 * them with other processes. {@link #snapshot} is a volatile read, for any thread. A state, once
 * current, is never changed: every change works on a copy.
 */
final class RegistryStore {
    private static final System.Logger log = System.getLogger(Registry.class.getName());

    /** null on the heap */
    private final @Nullable RegistryFile file;

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

    /** Version 0, empty, until {@link #start} publishes version 1. */
    private volatile RegistrySnapshot snapshot;

    private volatile @Nullable ScheduledExecutorService watcher;

    RegistryStore(@Nullable RegistryFile file, FixedEntries fixed, VerdictCache.Hash hash) {
        this.file = file;
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

    /** Starts the watcher thread; a store on the heap has nothing to watch. */
    void watch() {
        ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "br-registry-watch");
            t.setDaemon(true);
            return t;
        });
        w.scheduleWithFixedDelay(this::poll, Registry.RELOAD_MILLIS, Registry.RELOAD_MILLIS, TimeUnit.MILLISECONDS);
        watcher = w;
    }

    /**
     * The watcher's check: reads the file when its stamp changed, and swaps the snapshot when its bytes
     * did.
     */
    synchronized void poll() {
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

    /**
     * Applies {@code apply} to a copy of the latest state and makes the result current: on the heap, or
     * under the locks after reading the file again if a peer changed it, then writing it. {@code apply}
     * throws {@link ApiError} to refuse; nothing changes then.
     *
     * @throws UncheckedIOException when the file cannot be read or written; nothing changes then
     */
    synchronized <T> T change(Function<RegistryState, T> apply) {
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

    /** {@code secret} sealed for the file; null on the heap, where nothing is written. */
    byte @Nullable [] seal(String tenant, String provider, String secret) {
        return file == null ? null : file.seal(tenant, provider, secret);
    }

    /** Stops the watcher, if any; waits up to a second for a check under way. */
    void close() {
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
