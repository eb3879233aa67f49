package io.brainstorm.proxy.settle.audit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Which writer owns which chain of an audit folder: slot {@code n} is byte {@code n} of
 * {@code <audit dir>/writer.lock}, held exclusively by the one {@link AuditLog} writing the chain of
 * that slot. A gateway process that finds slot 0 taken by another (or by another log in this JVM)
 * takes the next free slot and writes its own chain, {@code audit-YYYY-MM-DD.<slot>.jsonl}.
 *
 * <p>File locks belong to the process, and a JVM may lock a range only once and drops all its locks
 * on a file when any descriptor of it is closed, so one channel per lock file serves every log of
 * this JVM, and is closed when the last slot is released. The lock file is never deleted.
 *
 * <p><b>Threading:</b> thread-safe (one global monitor; taking and releasing slots is rare).
 */
final class WriterSlots {
    static final String FILE_NAME = "writer.lock";
    private static final Map<Path, WriterSlots> OPEN = new HashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final Map<Integer, FileLock> held = new HashMap<>();

    /** A held slot; closing releases it (once). */
    interface Hold extends AutoCloseable {
        int slot();

        @Override
        void close();
    }

    private WriterSlots(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /**
     * The lowest free slot of {@code dir} (a real path), below {@code maxSlots}.
     *
     * @throws IOException when the lock file cannot be opened or every slot is taken
     */
    static Hold take(Path dir, int maxSlots) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        synchronized (OPEN) {
            WriterSlots slots = OPEN.get(file);
            if (slots == null) {
                slots = new WriterSlots(
                        file,
                        FileChannel.open(
                                file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
                OPEN.put(file, slots);
            }
            for (int slot = 0; slot < maxSlots; slot++) {
                if (slots.held.containsKey(slot)) {
                    continue;
                }
                FileLock lock = slots.channel.tryLock(slot, 1, false);
                if (lock != null) {
                    slots.held.put(slot, lock);
                    return slots.hold(slot);
                }
            }
            slots.closeIfUnused();
            throw new IOException(file + ": all " + maxSlots + " writer slots are held by running processes"
                    + " (expected: at most " + maxSlots + " gateway processes writing one audit folder)");
        }
    }

    private Hold hold(int slot) {
        return new Hold() {
            private boolean closed;

            @Override
            public int slot() {
                return slot;
            }

            @Override
            public void close() {
                synchronized (OPEN) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    // a hold not yet closed has its lock in held: put there by open, removed only here
                    FileLock lock = Objects.requireNonNull(held.remove(slot), "lock of a held slot");
                    try {
                        lock.release();
                    } catch (IOException e) {
                        // only when the channel is closed, which released the lock already
                    }
                    closeIfUnused();
                }
            }
        };
    }

    private void closeIfUnused() {
        if (held.isEmpty()) {
            OPEN.remove(file);
            try {
                channel.close();
            } catch (IOException e) {
                // the descriptor is gone either way, and with it the locks
            }
        }
    }
}
