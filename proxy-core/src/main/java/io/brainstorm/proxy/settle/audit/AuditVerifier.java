package io.brainstorm.proxy.settle.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Checks an audit trail (docs/architecture.md §9, docs/audit.md): walks each writer's day files oldest first,
 * recomputes every record's MAC, checks that {@code seq} counts up by one and that each record's
 * {@code prev} is the MAC of the record before it, across lines and across files, and reports the
 * first record where that fails, with what it means:
 * <ul>
 *   <li>{@link Problem#EDITED}: a record's bytes do not match its MAC;
 *   <li>{@link Problem#DELETED}: {@code seq} jumps; at a file's first record, records at the end of
 *       the file before (or a whole day's file between the two) are missing;
 *   <li>{@link Problem#REORDERED}: {@code seq} goes back, or the record that should come next
 *       follows one that should not;
 *   <li>{@link Problem#TRUNCATED}: the trail ends before the expected head;
 *   <li>{@link Problem#MALFORMED}: a line that is not a complete record (a torn write).
 * </ul>
 * Gap records verify like any record and are listed, not reported as breaks.
 *
 * <p>A chain that does not start at {@code seq} 1 (only some of the files given) is checked from
 * its first record on; {@link Chain#fromStart()} says whether it starts at the beginning.
 *
 * <p><b>Threading:</b> a call owns everything it uses.
 */
public final class AuditVerifier {

    /** What broke. */
    public enum Problem {
        EDITED,
        DELETED,
        REORDERED,
        TRUNCATED,
        MALFORMED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The first broken record: where it is and what it means. {@code line} counts from 1; {@code seq} is -1 when unreadable. */
    public record Break(
            Path file,
            long line,
            long seq,
            Problem problem,
            @Nullable String detail) {
        @Override
        public String toString() {
            return file.getFileName() + " line " + line + (seq >= 0 ? " (seq " + seq + ")" : "") + ": "
                    + problem.label() + ": " + detail;
        }
    }

    /** A gap record: {@code lost} records were not written, for {@code reason}. */
    public record Gap(Path file, long line, long seq, long lost, String reason, String from, String to) {}

    /**
     * One writer's chain as verified (up to a break, if any).
     *
     * @param records   lines that verified, gap records included
     * @param fromStart whether its first record is the very first of a chain (seq 1, prev zeros)
     * @param headMac   the last verified record's MAC, or null when none verified
     * @param headFile  that record's file, or null
     */
    public record Chain(
            int slot,
            List<Path> files,
            long records,
            long firstSeq,
            long lastSeq,
            boolean fromStart,
            @Nullable String headMac,
            @Nullable Path headFile) {}

    /**
     * @param broken    the first broken record, or null when the trail is intact
     * @param headFound where the expected head was found ({@code seq}), -1 when none was expected or it was not found
     */
    public record Result(
            List<Chain> chains, List<Gap> gaps, @Nullable Break broken, long headFound) {
        public boolean intact() {
            return broken == null;
        }

        public long records() {
            return chains.stream().mapToLong(Chain::records).sum();
        }

        public long lost() {
            return gaps.stream().mapToLong(Gap::lost).sum();
        }

        public int files() {
            return chains.stream().mapToInt(c -> c.files().size()).sum();
        }
    }

    private AuditVerifier() {}

    /**
     * Verifies the day files among {@code paths} (folders stand for the day files inside them).
     * Files are grouped by writer slot and taken in day order; a file whose name is not a day
     * file's is taken as slot 0, after the day files, in the order given.
     *
     * @param expectedHead the head MAC published by the admin API, or null: the chain of slot 0 (or
     *                     the lowest slot given) must reach a record with that MAC
     * @throws IOException when a file cannot be read
     */
    public static Result verify(List<Path> paths, byte[] key, @Nullable String expectedHead) throws IOException {
        Map<Integer, List<Path>> bySlot = new TreeMap<>();
        List<Path> others = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                for (AuditFiles.DayFile f : AuditFiles.list(p, AuditFiles.CHAIN_ORDER)) {
                    bySlot.computeIfAbsent(f.slot(), s -> new ArrayList<>()).add(f.path());
                }
                continue;
            }
            AuditFiles.DayFile dayFile = AuditFiles.parse(p);
            if (dayFile != null) {
                bySlot.computeIfAbsent(dayFile.slot(), s -> new ArrayList<>()).add(p);
            } else if (Files.isRegularFile(p)) {
                others.add(p);
            } else {
                throw new IOException(p + ": no such file or folder (expected: audit day files or their folder)");
            }
        }
        Map<Integer, List<Path>> chains = new LinkedHashMap<>();
        bySlot.forEach((slot, files) -> chains.put(
                slot,
                files.stream()
                        .distinct()
                        .sorted(java.util.Comparator.comparing(
                                // every path here was listed or parsed as a day file above
                                f -> Objects.requireNonNull(AuditFiles.parse(f), "day file")
                                        .day()))
                        .toList()));
        if (!others.isEmpty()) {
            List<Path> zero = new ArrayList<>(chains.getOrDefault(0, List.of()));
            zero.addAll(others);
            chains.put(0, zero);
        }
        AuditFormat format = new AuditFormat(key, false);
        List<Chain> done = new ArrayList<>();
        List<Gap> gaps = new ArrayList<>();
        long headFound = -1;
        boolean first = true;
        for (var e : chains.entrySet()) {
            Walk w = new Walk(format, first ? expectedHead : null, gaps);
            Break b = w.run(e.getValue());
            done.add(w.chain(e.getKey(), e.getValue()));
            if (first) {
                headFound = w.headFound;
                if (b == null && expectedHead != null && w.headFound < 0) {
                    b = w.lastPath == null
                            ? new Break(
                                    e.getValue().get(0),
                                    0,
                                    -1,
                                    Problem.TRUNCATED,
                                    "no records, but the expected" + " head is " + expectedHead)
                            : new Break(
                                    w.lastPath,
                                    w.lastLine,
                                    w.lastSeq,
                                    Problem.TRUNCATED,
                                    "the trail ends here,"
                                            + " before the expected head " + expectedHead
                                            + ": the records after this one were removed"
                                            + " (or the head belongs to another trail)");
                }
            }
            if (b != null) {
                return new Result(done, gaps, b, headFound);
            }
            first = false;
        }
        if (first && expectedHead != null) {
            throw new IOException("no audit day files among " + paths + " (expected: audit-YYYY-MM-DD.jsonl files or"
                    + " their folder)");
        }
        return new Result(done, gaps, null, headFound);
    }

    /** One chain's walk, line by line with one line of look-ahead. */
    private static final class Walk {
        final AuditFormat format;
        final @Nullable String expectedHead;
        final List<Gap> gaps;

        @Nullable
        String prevMac;

        long expect = -1;
        long records;
        long firstSeq = -1;
        boolean fromStart;

        @Nullable
        Path lastPath;

        long lastLine;
        long lastSeq = -1;
        long headFound = -1;

        Walk(AuditFormat format, @Nullable String expectedHead, List<Gap> gaps) {
            this.format = format;
            this.expectedHead = expectedHead;
            this.gaps = gaps;
        }

        Chain chain(int slot, List<Path> files) {
            return new Chain(slot, files, records, firstSeq, lastSeq, fromStart, prevMac, lastPath);
        }

        @Nullable
        Break run(List<Path> files) throws IOException {
            for (Path file : files) {
                try (LineReader r = new LineReader(Files.newInputStream(file))) {
                    long lineNo = 0;
                    LineReader.Line cur = r.next();
                    while (cur != null) {
                        lineNo++;
                        if (cur.torn()) {
                            return new Break(
                                    file,
                                    lineNo,
                                    -1,
                                    Problem.MALFORMED,
                                    "torn last line: " + cur.length()
                                            + " bytes without a newline (a write cut off by a crash or a full disk)");
                        }
                        AuditFormat.Parsed p;
                        try {
                            p = format.parse(cur.bytes(), cur.length());
                        } catch (IllegalArgumentException e) {
                            return new Break(file, lineNo, -1, Problem.MALFORMED, e.getMessage());
                        }
                        if (!p.macValid()) {
                            return new Break(
                                    file,
                                    lineNo,
                                    p.seq(),
                                    Problem.EDITED,
                                    "the record does not match its"
                                            + " MAC: its content was changed (or it was written under another key)");
                        }
                        LineReader.Line next = r.next();
                        if (prevMac == null) {
                            firstSeq = p.seq();
                            fromStart = p.seq() == 1 && p.prev().equals(AuditFormat.ZERO_MAC);
                        } else if (p.seq() != expect || !p.prev().equals(prevMac)) {
                            return broken(file, lineNo, p, next);
                        }
                        if (p.gap()) {
                            gaps.add(new Gap(
                                    file,
                                    lineNo,
                                    p.seq(),
                                    p.json().path("lost").asLong(),
                                    p.json().path("reason").asText(),
                                    p.json().path("from").asText(null),
                                    p.json().path("to").asText(null)));
                        }
                        if (p.mac().equals(expectedHead)) {
                            headFound = p.seq();
                        }
                        prevMac = p.mac();
                        expect = p.seq() + 1;
                        records++;
                        lastPath = file;
                        lastLine = lineNo;
                        lastSeq = p.seq();
                        cur = next;
                    }
                }
            }
            return null;
        }

        private Break broken(Path file, long lineNo, AuditFormat.Parsed p, LineReader.@Nullable Line next) {
            long before = expect - 1;
            if (p.seq() > expect) {
                if (lineNo == 1 && !file.equals(lastPath)) {
                    // a break needs a record before it, so the walk has passed a file
                    Path last = Objects.requireNonNull(lastPath, "lastPath after a record");
                    return new Break(
                            file,
                            lineNo,
                            p.seq(),
                            Problem.DELETED,
                            "does not link to the last record of "
                                    + last.getFileName() + " (seq " + before + ", line " + lastLine + "): "
                                    + missing(p.seq())
                                    + " cut from the end of " + last.getFileName()
                                    + ", or a day's file between the two"
                                    + " was deleted");
                }
                if (next != null && !next.torn()) {
                    try {
                        AuditFormat.Parsed n = format.parse(next.bytes(), next.length());
                        if (n.seq() == expect) {
                            return new Break(
                                    file,
                                    lineNo,
                                    p.seq(),
                                    Problem.REORDERED,
                                    "seq " + p.seq() + " comes before seq " + expect + ": records were reordered");
                        }
                    } catch (IllegalArgumentException e) {
                        // not a record: the jump is what is reported
                    }
                }
                return new Break(
                        file,
                        lineNo,
                        p.seq(),
                        Problem.DELETED,
                        "follows seq " + before + ": " + missing(p.seq()) + " deleted");
            }
            if (p.seq() < expect) {
                return new Break(
                        file,
                        lineNo,
                        p.seq(),
                        Problem.REORDERED,
                        "seq " + p.seq() + " follows seq " + before + ": records were reordered or repeated");
            }
            return new Break(
                    file,
                    lineNo,
                    p.seq(),
                    Problem.EDITED,
                    "does not link to the record before it (seq " + before + "): a record was replaced");
        }

        private String missing(long seq) {
            long n = seq - expect;
            return n == 1
                    ? "record seq " + expect + " is missing,"
                    : "records seq " + expect + " to " + (seq - 1) + " (" + n + ") are missing,";
        }
    }

    /** Lines of a stream as bytes, without their newline; a last line without one is {@code torn}. */
    static final class LineReader implements AutoCloseable {
        record Line(byte[] bytes, int length, boolean torn) {}

        private final InputStream in;
        private final byte[] chunk = new byte[64 * 1024];
        private int pos;
        private int end;
        private byte[] line = new byte[8192];

        LineReader(InputStream in) {
            this.in = in;
        }

        /** The next line (its own array), or null at the end. */
        @Nullable
        Line next() throws IOException {
            int n = 0;
            while (true) {
                if (pos == end) {
                    end = in.read(chunk);
                    pos = 0;
                    if (end <= 0) {
                        end = 0;
                        return n == 0 ? null : new Line(Arrays.copyOf(line, n), n, true);
                    }
                }
                int nl = pos;
                while (nl < end && chunk[nl] != '\n') {
                    nl++;
                }
                int len = nl - pos;
                if (n + len > line.length) {
                    line = Arrays.copyOf(line, Math.max(line.length * 2, n + len));
                }
                System.arraycopy(chunk, pos, line, n, len);
                n += len;
                pos = nl;
                if (nl < end) {
                    pos++;
                    return new Line(Arrays.copyOf(line, n), n, false);
                }
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
