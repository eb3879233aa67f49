package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.CompletionSink;
import io.brainstorm.proxy.state.StoreEvents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The audit trail's writer (docs/architecture.md §9, docs/audit.md): a {@link CompletionSink} that appends one
 * HMAC-chained JSON Lines record per ended request to daily files {@code audit-YYYY-MM-DD.jsonl}
 * in the audit folder, and one {@code "type":"state"} record per event a shared state store reports
 * through {@link #storeEvents}. Record format and chain: {@link AuditFormat}.
 *
 * <h2>Threading</h2>
 * {@link #accept} and the {@link #storeEvents} events run on any thread, concurrently, and only
 * offer the record to a bounded queue
 * ({@code audit.queue_records}); when the queue is full the record is counted as lost and a gap
 * record notes it later. One writer thread ({@code br-audit}, daemon) takes up to
 * {@code audit.batch_records} records at a time, serializes them, writes them with one call and
 * forces the file to disk as {@code audit.fsync} says. Counters and {@link #head()} are safe to read
 * from any thread.
 *
 * <h2>Files and the chain</h2>
 * A record goes to the day file of its time (UTC); each day's first record links to the last of
 * the day before, so the chain runs across files. The writer never goes back to an older day (a
 * record whose clock stepped back goes to the current file). On open the chain resumes from the
 * newest file's last complete line; a torn last line (a crash in the middle of a write) is moved
 * aside to {@code <file>.torn-<ms>}, truncated away and noted as a gap. The head (the last
 * written record) is {@link #head()}, and {@code head.json} in the folder (informational: the
 * admin API publishes the live one).
 *
 * <h2>Several processes</h2>
 * One writer per chain: slot 0 of {@code writer.lock} ({@link WriterSlots}). A second gateway
 * process on the same folder takes slot 1 and writes {@code audit-YYYY-MM-DD.1.jsonl}, a chain of
 * its own ({@code head.1.json}), and so on.
 *
 * <h2>Errors</h2>
 * An I/O error (a full disk, a failing device) never reaches a request: the writer logs one ERROR
 * per episode naming the file, truncates what it may have half-written, keeps draining the queue
 * counting the records as lost, and retries every second; the first write that works starts with a
 * gap record giving the count. {@link #open} throws on a bad key or when the newest file's last
 * record does not verify under the key.
 *
 * <h2>Parts</h2>
 * {@link AuditQueue} between the event loops and the writer; {@link AuditWriter}, the writer thread
 * and the chain; {@link DayFileAppender}, the day file and its forces; {@link ChainStart}, where the
 * chain continues at open; {@link HeadFile}, {@code head.json}.
 */
public final class AuditLog implements CompletionSink, AutoCloseable {
    private static final System.Logger log = System.getLogger(AuditLog.class.getName());
    static final int MAX_SLOTS = 64;
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    /**
     * The last record written by this log's writer (or found at open).
     *
     * @param slot the writer slot: its files are {@code audit-YYYY-MM-DD.jsonl} for 0, {@code audit-YYYY-MM-DD.<slot>.jsonl} else
     * @param file the day file's name, or null when the chain has no record yet
     * @param seq  the record's {@code seq}, 0 when there is none
     * @param mac  its MAC in hex; 64 zeros when there is none
     * @param time its {@code time}, or null
     */
    public record Head(
            int slot,
            @Nullable String file,
            long seq,
            String mac,
            @Nullable String time) {}

    private final Path dir;
    private final WriterSlots.Hold slot;
    private final AuditQueue queue;
    private final AuditWriter writer;
    private final Thread thread;

    private AuditLog(Path dir, WriterSlots.Hold slot, AuditQueue queue, AuditWriter writer) {
        this.dir = dir;
        this.slot = slot;
        this.queue = queue;
        this.writer = writer;
        this.thread = new Thread(writer, "br-audit");
        thread.setDaemon(true);
    }

    /**
     * Opens the audit trail of {@code config} and starts its writer.
     *
     * @param env   for {@value AuditKey#ENV}
     * @param clock the time of gap records
     * @throws IOException              when the folder, the key file or the newest day file cannot be
     *                                  used (the message names it), or its last record does not verify
     *                                  under the key
     * @throws IllegalArgumentException when {@value AuditKey#ENV} is not a valid key
     */
    public static AuditLog open(AuditConfig config, Path stateDir, Map<String, String> env, InstantSource clock)
            throws IOException {
        return open(config, stateDir, env, clock, AuditOutput.FILES);
    }

    static AuditLog open(
            AuditConfig config, Path stateDir, Map<String, String> env, InstantSource clock, AuditOutput output)
            throws IOException {
        Path dir = config.dir(stateDir);
        byte[] key = AuditKey.load(env, config.keyFile(stateDir), dir);
        Files.createDirectories(dir);
        Path real = dir.toRealPath();
        WriterSlots.Hold slot = WriterSlots.take(real, MAX_SLOTS);
        try {
            AuditFormat format = new AuditFormat(key, config.recordContent());
            ChainStart start = ChainStart.find(real, slot.slot(), format, config, clock);
            AuditQueue queue = new AuditQueue(config.queueRecords());
            AuditLog a = new AuditLog(
                    real, slot, queue, new AuditWriter(config, real, slot.slot(), clock, format, queue, output, start));
            a.thread.start();
            return a;
        } catch (IOException | RuntimeException e) {
            slot.close();
            throw e;
        }
    }

    /** Never blocks, never throws: queues the record, or counts it as lost when the queue is full. */
    @Override
    public void accept(Completion completion) {
        if (writer.closing() || !queue.offer(completion)) {
            writer.lose();
        }
    }

    /**
     * Where a shared state store reports its budget writes that waited for it: each event becomes a
     * {@code "type":"state"} record, chained like the others (docs/audit.md). The events never block:
     * they go through the same bounded queue as request records, and one the queue refuses is
     * counted as lost and noted by a gap record.
     *
     * @param store the store's name in the records, e.g. {@code redis}
     */
    public StoreEvents storeEvents(String store) {
        return new StoreEvents() {
            @Override
            public void writesWaiting(long atMillis, String firstWrite) {
                offer(new AuditFormat.State(
                        atMillis, store, AuditFormat.State.WAITING, firstWrite, 0, 0, 0, -1, -1, null));
            }

            @Override
            public void waitingWritten(
                    long writes, long settledNano, long journaledNano, long fromMillis, long toMillis) {
                offer(new AuditFormat.State(
                        toMillis,
                        store,
                        AuditFormat.State.WRITTEN,
                        null,
                        writes,
                        settledNano,
                        journaledNano,
                        fromMillis,
                        toMillis,
                        null));
            }

            @Override
            public void writesLost(long atMillis, long writes, String reason) {
                offer(new AuditFormat.State(
                        atMillis, store, AuditFormat.State.LOST, null, writes, 0, 0, -1, -1, reason));
            }
        };
    }

    private void offer(AuditFormat.State state) {
        if (writer.closing() || !queue.offer(state)) {
            writer.lose();
        }
    }

    /** The last record written, as the admin API publishes it. */
    public Head head() {
        return writer.head();
    }

    /** Records written (request records; gap and state records not counted). */
    public long written() {
        return writer.written();
    }

    /** Records lost: refused by a full queue, not written after an I/O error, torn by a crash. */
    public long lost() {
        return writer.lost();
    }

    /** Writes (or forces) that failed. */
    public long writeErrors() {
        return writer.writeErrors();
    }

    /** Records waiting for the writer. */
    public int queued() {
        return queue.size();
    }

    /** The folder of the day files (a real path). */
    public Path dir() {
        return dir;
    }

    /** This writer's slot (0 unless another process writes the folder's main chain). */
    public int slot() {
        return slot.slot();
    }

    /**
     * Stops taking records, writes what is queued, forces the file to disk and stops the writer,
     * waiting up to 5 s; then releases the writer slot. Records that arrive later are counted as lost.
     */
    @Override
    public void close() {
        if (writer.closing()) {
            return;
        }
        writer.stop();
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: the writer did not finish within {0} ms; {1} queued" + " records may be lost",
                    CLOSE_WAIT_MILLIS,
                    queue.size());
        } else {
            slot.close();
        }
    }
}
