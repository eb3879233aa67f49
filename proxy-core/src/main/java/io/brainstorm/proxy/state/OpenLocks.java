package io.brainstorm.proxy.state;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Which state files some process has mapped: each file owns one byte ({@code slot}) of
 * {@code stateDir/open.lock}, and a process holds a shared lock on that byte from before it opens
 * the file until after it has closed it. Deleting a budget day file (purge) or moving a damaged
 * file aside (recovery) needs the byte exclusively, which {@link #tryExclusive} gets only when no
 * process, this one included, has the file open; meanwhile an opener waits in {@link #share}.
 *
 * <p>File locks belong to the process, and a JVM may lock a range only once, so one instance per
 * lock file serves every {@link StateStore} of this JVM and counts their holds of each byte. The
 * lock file is never deleted (two processes locking two generations of it would not see each
 * other), and this JVM never opens it twice: closing any descriptor of a file drops the process's
 * locks on it.
 *
 * <p><b>Threading:</b> thread-safe. Shared locks are polled with {@code tryLock}: an interrupt
 * during a blocking {@code FileChannel.lock} closes the channel, which would drop every lock this
 * JVM holds. Exclusive holds last a rename or a delete, so a wait is milliseconds long.
 */
final class OpenLocks {
    static final String FILE_NAME = "open.lock";
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final Map<Path, OpenLocks> OPEN = new HashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final Map<Long, Shared> shared = new HashMap<>();
    private final Set<Long> exclusive = new HashSet<>();
    private int users;

    /** A held lock on one slot; closing it releases it (once). */
    interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    private static final class Shared {
        final FileLock lock;
        int count;

        Shared(FileLock lock) {
            this.lock = lock;
        }
    }

    private OpenLocks(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** The locks of {@code stateDir}, shared with this JVM's other users of it until each calls {@link #release}. */
    static OpenLocks acquire(Path stateDir) throws IOException {
        Path file = stateDir.toRealPath().resolve(FILE_NAME);
        synchronized (OPEN) {
            OpenLocks locks = OPEN.get(file);
            if (locks == null) {
                locks = new OpenLocks(
                        file,
                        FileChannel.open(
                                file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
                OPEN.put(file, locks);
            }
            locks.users++;
            return locks;
        }
    }

    /** Ends one {@link #acquire}; the last one closes the lock file, dropping any lock still held. */
    void release() {
        synchronized (OPEN) {
            if (--users > 0) {
                return;
            }
            OPEN.remove(file);
            try {
                channel.close();
            } catch (IOException e) {
                // the descriptor is gone either way, and with it the locks
            }
        }
    }

    /**
     * A shared hold on {@code slot}: no process can delete or move the file while it lasts. Waits
     * while another process (or this one) holds the slot exclusively, at most ten seconds.
     */
    synchronized Hold share(long slot) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (true) {
            Shared s = shared.get(slot);
            if (s == null && !exclusive.contains(slot)) {
                FileLock lock = channel.tryLock(slot, 1, true);
                if (lock != null) {
                    s = new Shared(lock);
                    shared.put(slot, s);
                }
            }
            if (s != null) {
                s.count++;
                return once(() -> unshare(slot));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(file + ": byte " + slot + " has been locked exclusively for 10 s (expected: a"
                        + " purge or recovery in another gateway process to finish within milliseconds; is one hung?)");
            }
            try {
                wait(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + file + " byte " + slot);
            }
        }
    }

    /** An exclusive hold on {@code slot}, or null when any process, this one included, holds it. */
    synchronized @Nullable Hold tryExclusive(long slot) throws IOException {
        if (shared.containsKey(slot) || exclusive.contains(slot)) {
            return null;
        }
        FileLock lock = channel.tryLock(slot, 1, false);
        if (lock == null) {
            return null;
        }
        exclusive.add(slot);
        return once(() -> {
            synchronized (this) {
                exclusive.remove(slot);
                releaseQuietly(lock);
                notifyAll();
            }
        });
    }

    private synchronized void unshare(long slot) {
        // called once per share() of the slot, whose count keeps it in shared until the last
        Shared s = Objects.requireNonNull(shared.get(slot), "shared slot");
        if (--s.count == 0) {
            shared.remove(slot);
            releaseQuietly(s.lock);
            notifyAll();
        }
    }

    private static void releaseQuietly(FileLock lock) {
        try {
            lock.release();
        } catch (IOException e) {
            // only when the channel is closed, which released the lock already
        }
    }

    private static Hold once(Runnable release) {
        return new Hold() {
            private boolean closed;

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    release.run();
                }
            }
        };
    }
}
