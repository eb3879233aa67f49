package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where a writer's chain continues, found when the audit trail opens: the last complete record of
 * the newest day file of its slot. On the way a torn last line (a crash in the middle of a write)
 * is moved aside to {@code <file>.torn-<ms>} and truncated away; each one is a gap record to write.
 *
 * <p><b>Threading.</b> Runs in {@link AuditLog#open}, before the writer thread starts.
 *
 * @param file     the day file of the last record, or null for a new chain
 * @param head     the last record ({@code seq} 0 and a zero MAC for a new chain)
 * @param tornGaps one gap per torn line moved aside, for the writer to write first
 */
record ChainStart(AuditFiles.@Nullable DayFile file, AuditLog.Head head, List<AuditFormat.Gap> tornGaps) {
    // the writer's logger: operators and tests follow the audit trail under one name
    private static final System.Logger log = System.getLogger(AuditLog.class.getName());
    private static final int TAIL_CHUNK = 64 * 1024;

    /** Whether the chain already has a record. */
    boolean resumed() {
        return file != null;
    }

    /**
     * Finds the newest record of {@code slot}'s chain in {@code dir} and checks it under the key.
     *
     * @throws IOException when a file cannot be read or moved aside, or the last record does not parse
     *                     or verify (the message names the file and what to do)
     */
    static ChainStart find(Path dir, int slot, AuditFormat format, AuditConfig config, InstantSource clock)
            throws IOException {
        List<AuditFormat.Gap> torn = new ArrayList<>();
        List<AuditFiles.DayFile> files = AuditFiles.list(dir, AuditFiles.CHAIN_ORDER).stream()
                .filter(f -> f.slot() == slot)
                .toList();
        for (int i = files.size() - 1; i >= 0; i--) {
            AuditFiles.DayFile f = files.get(i);
            Tail tail = Tail.read(f.path());
            if (tail.tornBytes() > 0) {
                torn.add(moveTornAside(f, tail, clock));
            }
            byte[] lastLine = tail.lastLine();
            if (lastLine == null) {
                continue;
            }
            AuditFormat.Parsed p;
            try {
                p = format.parse(lastLine, lastLine.length);
            } catch (IllegalArgumentException e) {
                throw new IOException(f.path() + ": the last line is " + e.getMessage() + "; run 'brainstorm-proxy"
                        + " audit verify' and move the damaged file aside to continue the trail without it");
            }
            if (!p.macValid()) {
                throw new IOException(f.path() + ": the last record (seq " + p.seq() + ") does not verify under the"
                        + " audit key (expected: the key that wrote the trail, from " + AuditKey.ENV + " or "
                        + config.keyFile() + "; if the key was replaced on purpose, move the audit folder aside to"
                        + " start a new chain)");
            }
            log.log(
                    System.Logger.Level.INFO,
                    "audit trail in {0}: continuing the chain at seq {1} ({2})",
                    dir,
                    p.seq() + 1,
                    f.name());
            return new ChainStart(
                    f,
                    new AuditLog.Head(
                            slot,
                            f.name(),
                            p.seq(),
                            p.mac(),
                            p.json().path("time").asText(null)),
                    torn);
        }
        log.log(System.Logger.Level.INFO, "audit trail in {0}: a new chain (writer slot {1})", dir, slot);
        return new ChainStart(null, new AuditLog.Head(slot, null, 0, AuditFormat.ZERO_MAC, null), torn);
    }

    /** The torn bytes go to {@code <file>.torn-<ms>}; the file ends at its last complete line again. */
    private static AuditFormat.Gap moveTornAside(AuditFiles.DayFile f, Tail tail, InstantSource clock)
            throws IOException {
        Path aside = f.path().resolveSibling(f.name() + ".torn-" + clock.millis());
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer torn = ByteBuffer.allocate((int) Math.min(tail.tornBytes(), Integer.MAX_VALUE - 8));
            ch.read(torn, tail.completeBytes());
            torn.flip();
            try (FileChannel a =
                    AuditOutput.openPrivate(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (torn.hasRemaining()) {
                    a.write(torn);
                }
                a.force(false);
            }
            ch.truncate(tail.completeBytes());
            ch.force(true);
        }
        String reason = "torn last line after a crash: " + tail.tornBytes() + " bytes of " + f.name() + " moved to "
                + aside.getFileName();
        log.log(System.Logger.Level.WARNING, "audit trail: {0}; a gap record will note it", reason);
        return new AuditFormat.Gap(1, reason, -1, -1);
    }

    /**
     * The end of a file: its last complete line (without the newline, null when there is none), how
     * many bytes are whole lines, and how many follow the last newline (a torn write).
     */
    record Tail(byte @Nullable [] lastLine, long completeBytes, long tornBytes) {
        static Tail read(Path file) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                long end = lastNewline(ch, size);
                long complete = end + 1;
                if (end < 0) {
                    return new Tail(null, 0, size);
                }
                long start = lastNewline(ch, end) + 1;
                ByteBuffer line = ByteBuffer.allocate(Math.toIntExact(end - start));
                while (line.hasRemaining()) {
                    if (ch.read(line, start + line.position()) < 0) {
                        throw new IOException(file + " shrank while being read");
                    }
                }
                return new Tail(line.array(), complete, size - complete);
            }
        }

        /** The position of the last {@code '\n'} before {@code before}, or -1. */
        private static long lastNewline(FileChannel ch, long before) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(TAIL_CHUNK);
            long end = before;
            while (end > 0) {
                long start = Math.max(0, end - TAIL_CHUNK);
                buf.clear().limit((int) (end - start));
                while (buf.hasRemaining()) {
                    if (ch.read(buf, start + buf.position()) < 0) {
                        break;
                    }
                }
                for (int i = buf.position() - 1; i >= 0; i--) {
                    if (buf.get(i) == '\n') {
                        return start + i;
                    }
                }
                end = start;
            }
            return -1;
        }
    }
}
