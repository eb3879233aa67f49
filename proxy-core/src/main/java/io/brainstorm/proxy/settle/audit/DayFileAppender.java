package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/**
 * The day file the audit writer appends to: opens it (and forces the folder when it is new), moves
 * to the next day's file, writes each batch at the end of the whole records, and forces the file to
 * disk as {@code audit.fsync} says.
 *
 * <p><b>Threading.</b> The writer thread's.
 *
 * <p><b>Errors.</b> Methods throw the {@link IOException} for the writer to count and log. After a
 * failed write the file may hold part of a batch; it is truncated back to its whole records before
 * the next write ({@link #discardPartial()} tries at once).
 */
final class DayFileAppender {
    private final AuditConfig config;
    private final AuditOutput output;
    private AuditFiles.@Nullable DayFile current;
    private AuditOutput.@Nullable Out out;
    /** Bytes of {@link #current} that hold whole records; -1 until the file is opened. */
    private long goodSize = -1;
    /** After a failed write: the file may hold a partial batch beyond {@link #goodSize}. */
    private boolean dirtyTail;

    private boolean unforced;
    private long lastForce = System.nanoTime();

    /**
     * @param current the day file the chain's last record is in, or null
     */
    DayFileAppender(AuditConfig config, AuditOutput output, AuditFiles.@Nullable DayFile current) {
        this.config = config;
        this.output = output;
        this.current = current;
    }

    /** The day file written last (or found at open), or null. */
    AuditFiles.@Nullable DayFile current() {
        return current;
    }

    /** Appends {@code records} (whole lines) to {@code file}, which is the current day's or a later one. */
    void append(AuditFiles.DayFile file, ByteBuffer records) throws IOException {
        AuditFiles.DayFile day = current;
        if (day == null || !day.day().equals(file.day())) {
            switchTo(file);
            day = file;
        }
        AuditOutput.Out o = out;
        if (o == null) {
            boolean existed = Files.exists(day.path());
            o = output.open(day.path());
            out = o;
            if (goodSize < 0) {
                goodSize = o.size();
            }
            if (!existed && config.fsync() != AuditConfig.Fsync.NONE) {
                forceDirectory(day);
            }
        }
        if (dirtyTail) {
            if (o.size() > goodSize) {
                o.truncate(goodSize);
            }
            dirtyTail = false;
        }
        int n = records.remaining();
        try {
            o.write(records, goodSize);
            long now = System.nanoTime();
            switch (config.fsync()) {
                case BATCH -> o.force();
                case INTERVAL -> {
                    if (now - lastForce >= config.fsyncInterval().toNanos()) {
                        o.force();
                        lastForce = now;
                        unforced = false;
                    } else {
                        unforced = true;
                    }
                }
                case NONE -> {}
            }
        } catch (IOException e) {
            dirtyTail = true;
            throw e;
        }
        goodSize += n;
    }

    /** With {@code fsync: interval}: forces what was written since the last force, once the interval passed. */
    void forceIfDue(long now) throws IOException {
        if (unforced && out != null && now - lastForce >= config.fsyncInterval().toNanos()) {
            out.force();
            unforced = false;
            lastForce = now;
        }
    }

    /** After a failed write: truncates the file back to its whole records, or leaves that to the next write. */
    void discardPartial() {
        if (out != null) {
            try {
                if (out.size() > goodSize) {
                    out.truncate(goodSize);
                }
                dirtyTail = false;
            } catch (IOException ignored) {
                // tried again before the next write
            }
        }
    }

    /** At close: forces the file to disk and closes it (closed even when the force fails). */
    void close() throws IOException {
        AuditOutput.Out o = out;
        if (o == null) {
            return;
        }
        out = null;
        try {
            o.force();
        } finally {
            try {
                o.close();
            } catch (IOException e) {
                // closed either way
            }
        }
    }

    /** Closes the current day file (forced first, unless fsync is none) and makes {@code f} current. */
    private void switchTo(AuditFiles.DayFile f) throws IOException {
        AuditOutput.Out old = out;
        out = null;
        current = f;
        goodSize = -1;
        dirtyTail = false;
        if (old != null) {
            try {
                if (config.fsync() != AuditConfig.Fsync.NONE) {
                    old.force();
                }
            } finally {
                unforced = false;
                old.close();
            }
        }
    }

    private static void forceDirectory(AuditFiles.DayFile file) {
        try (FileChannel d = FileChannel.open(file.path().getParent(), StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            // best effort: the file's own force keeps its content
        }
    }
}
