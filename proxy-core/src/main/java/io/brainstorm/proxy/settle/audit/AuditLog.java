package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.CompletionSink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The audit trail's writer (DESIGN §9, docs/audit.md): a {@link CompletionSink} that appends one
 * HMAC-chained JSON Lines record per ended request to daily files {@code audit-YYYY-MM-DD.jsonl}
 * in the audit folder. Record format and chain: {@link AuditFormat}.
 *
 * <h2>Threading</h2>
 * {@link #accept} runs on event loops, concurrently, and only offers the record to a bounded queue
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
 */
public final class AuditLog implements CompletionSink, AutoCloseable {
    private static final System.Logger log = System.getLogger(AuditLog.class.getName());
    static final int MAX_SLOTS = 64;
    static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long HEAD_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long POLL_MILLIS = 100;
    /**
     * How long the writer gathers records after the first one before it writes: one write (and,
     * with {@code fsync: batch}, one force) per few milliseconds instead of a wake-up, a write and a
     * force per request, which took a third of a core from the event loops at 10,000 requests/s.
     * A crash loses at most this much more (DESIGN §9: bounded by the writer's batch).
     */
    static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    private static final int TAIL_CHUNK = 64 * 1024;
    /** Offered by {@link #close} so the writer need not wait out its poll; never written. */
    private static final Completion WAKE = new Completion(0, null, null, null, null, null, null, null, null, null, 0,
            null, false, 0, 0, 0, false, 0, -1, 0, Completion.NO_SCORE, null, null, null);

    /**
     * The last record written by this log's writer (or found at open).
     *
     * @param slot the writer slot: its files are {@code audit-YYYY-MM-DD.jsonl} for 0, {@code audit-YYYY-MM-DD.<slot>.jsonl} else
     * @param file the day file's name, or null when the chain has no record yet
     * @param seq  the record's {@code seq}, 0 when there is none
     * @param mac  its MAC in hex; 64 zeros when there is none
     * @param time its {@code time}, or null
     */
    public record Head(int slot, @Nullable String file, long seq, String mac, @Nullable String time) {
    }

    /** Opens the files the writer appends to; tests inject one that fails. */
    @FunctionalInterface
    interface Output {
        Output FILES = FileOut::new;

        Out open(Path file) throws IOException;
    }

    /** An open day file. */
    interface Out extends AutoCloseable {
        long size() throws IOException;

        /** Writes all of {@code src} at {@code position}. */
        void write(ByteBuffer src, long position) throws IOException;

        void force() throws IOException;

        void truncate(long size) throws IOException;

        @Override
        void close() throws IOException;
    }

    private static final class FileOut implements Out {
        private final FileChannel ch;

        FileOut(Path file) throws IOException {
            this.ch = openPrivate(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long p = position;
            while (src.hasRemaining()) {
                p += ch.write(src, p);
            }
        }

        @Override
        public void force() throws IOException {
            ch.force(false);
        }

        @Override
        public void truncate(long size) throws IOException {
            ch.truncate(size);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /**
     * Opens {@code file}, created with mode 0600 when it does not exist (records may hold prompts and
     * answers), where the file system has POSIX modes.
     */
    static FileChannel openPrivate(Path file, StandardOpenOption... options) throws IOException {
        java.util.Set<StandardOpenOption> set = java.util.EnumSet.of(options[0], options);
        try {
            return FileChannel.open(file, set, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return FileChannel.open(file, set);
        }
    }

    private final AuditConfig config;
    private final Path dir;
    private final WriterSlots.Hold slot;
    private final InstantSource clock;
    private final Output output;
    private final AuditFormat format;
    private final LinkedBlockingQueue<Completion> queue;
    private final Thread thread;
    private volatile boolean closing;
    private volatile Head head;
    private volatile long written;
    private volatile long writeErrors;
    private final AtomicLong lost = new AtomicLong();
    /** Records the queue refused since the writer last looked, and their first and last times. */
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong droppedFrom = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong droppedTo = new AtomicLong(Long.MIN_VALUE);

    // the writer thread's (and open's, before the thread starts)
    private long seq;
    private byte @Nullable [] prevMac = new byte[AuditFormat.MAC_BYTES];
    private AuditFiles.@Nullable DayFile current;
    private @Nullable Out out;
    /** Bytes of {@link #current} that hold whole records; -1 until the file is opened. */
    private long goodSize = -1;
    /** After a failed write: the file may hold a partial batch beyond {@link #goodSize}. */
    private boolean dirtyTail;
    private boolean unforced;
    private long lastForce = System.nanoTime();
    private final List<AuditFormat.Gap> tornGaps = new ArrayList<>();
    private final Loss queueLoss = new Loss();
    private final Loss failLoss = new Loss();
    private boolean failing;
    private long failingSince;
    private long retryAt;
    private @Nullable String failReason;
    private @Nullable Head headWritten;
    private long headWrittenAt;

    /** Records not written for one reason, since the last gap record of that reason. */
    private static final class Loss {
        long count;
        long from = Long.MAX_VALUE;
        long to = Long.MIN_VALUE;

        void add(long n, long first, long last) {
            count += n;
            from = Math.min(from, first);
            to = Math.max(to, last);
        }

        AuditFormat.Gap gap(String reason) {
            return new AuditFormat.Gap(count, reason, from == Long.MAX_VALUE ? -1 : from, to == Long.MIN_VALUE ? -1 : to);
        }

        void clear() {
            count = 0;
            from = Long.MAX_VALUE;
            to = Long.MIN_VALUE;
        }
    }

    private AuditLog(AuditConfig config, Path dir, WriterSlots.Hold slot, byte[] key, InstantSource clock,
                     Output output) {
        this.config = config;
        this.dir = dir;
        this.slot = slot;
        this.clock = clock;
        this.output = output;
        this.format = new AuditFormat(key, config.recordContent());
        this.queue = new LinkedBlockingQueue<>(config.queueRecords());
        this.head = new Head(slot.slot(), null, 0, AuditFormat.ZERO_MAC, null);
        this.thread = new Thread(this::run, "br-audit");
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
        return open(config, stateDir, env, clock, Output.FILES);
    }

    static AuditLog open(AuditConfig config, Path stateDir, Map<String, String> env, InstantSource clock,
                         Output output) throws IOException {
        Path dir = config.dir(stateDir);
        byte[] key = AuditKey.load(env, config.keyFile(stateDir), dir);
        Files.createDirectories(dir);
        Path real = dir.toRealPath();
        WriterSlots.Hold slot = WriterSlots.take(real, MAX_SLOTS);
        try {
            AuditLog a = new AuditLog(config, real, slot, key, clock, output);
            a.resume();
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
        if (closing) {
            lost.incrementAndGet();
            return;
        }
        if (!queue.offer(completion)) {
            long at = completion.atMillis();
            lost.incrementAndGet();
            dropped.incrementAndGet();
            droppedFrom.accumulateAndGet(at, Math::min);
            droppedTo.accumulateAndGet(at, Math::max);
        }
    }

    /** The last record written, as the admin API publishes it. */
    public Head head() {
        return head;
    }

    /** Records written (request records; gap records not counted). */
    public long written() {
        return written;
    }

    /** Records lost: refused by a full queue, not written after an I/O error, torn by a crash. */
    public long lost() {
        return lost.get();
    }

    /** Writes (or forces) that failed. */
    public long writeErrors() {
        return writeErrors;
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
        if (closing) {
            return;
        }
        closing = true;
        queue.offer(WAKE);
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.log(System.Logger.Level.ERROR, "audit trail: the writer did not finish within {0} ms; {1} queued"
                    + " records may be lost", CLOSE_WAIT_MILLIS, queue.size());
        } else {
            slot.close();
        }
    }

    // ---- open ----

    /** Finds this slot's newest record and continues its chain. */
    private void resume() throws IOException {
        List<AuditFiles.DayFile> files = AuditFiles.list(dir, AuditFiles.CHAIN_ORDER).stream()
                .filter(f -> f.slot() == slot.slot()).toList();
        for (int i = files.size() - 1; i >= 0; i--) {
            AuditFiles.DayFile f = files.get(i);
            Tail tail = Tail.read(f.path());
            if (tail.tornBytes() > 0) {
                moveTornAside(f, tail);
            }
            if (tail.lastLine() == null) {
                continue;
            }
            AuditFormat.Parsed p;
            try {
                p = format.parse(tail.lastLine(), tail.lastLine().length);
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
            seq = p.seq();
            prevMac = AuditFormat.unhex(p.mac());
            current = f;
            head = new Head(slot.slot(), f.name(), p.seq(), p.mac(), p.json().path("time").asText(null));
            headWritten = head;
            log.log(System.Logger.Level.INFO, "audit trail in {0}: continuing the chain at seq {1} ({2})", dir,
                    seq + 1, f.name());
            return;
        }
        log.log(System.Logger.Level.INFO, "audit trail in {0}: a new chain (writer slot {1})", dir, slot.slot());
    }

    /** The torn bytes go to {@code <file>.torn-<ms>}; the file ends at its last complete line again. */
    private void moveTornAside(AuditFiles.DayFile f, Tail tail) throws IOException {
        Path aside = f.path().resolveSibling(f.name() + ".torn-" + clock.millis());
        try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer torn = ByteBuffer.allocate((int) Math.min(tail.tornBytes(), Integer.MAX_VALUE - 8));
            ch.read(torn, tail.completeBytes());
            torn.flip();
            try (FileChannel a = openPrivate(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (torn.hasRemaining()) {
                    a.write(torn);
                }
                a.force(false);
            }
            ch.truncate(tail.completeBytes());
            ch.force(true);
        }
        String reason = "torn last line after a crash: " + tail.tornBytes() + " bytes of " + f.name()
                + " moved to " + aside.getFileName();
        log.log(System.Logger.Level.WARNING, "audit trail: {0}; a gap record will note it", reason);
        tornGaps.add(new AuditFormat.Gap(1, reason, -1, -1));
        lost.incrementAndGet();
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

    // ---- the writer thread ----

    private void run() {
        List<Completion> batch = new ArrayList<>(config.batchRecords());
        while (true) {
            Completion first;
            try {
                first = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                first = null;
            }
            if (first == null || first == WAKE) {
                if (closing) {
                    break;
                }
                idle();
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, config.batchRecords() - 1);
            if (batch.size() < config.batchRecords() && !closing) {
                java.util.concurrent.locks.LockSupport.parkNanos(LINGER_NANOS);
                queue.drainTo(batch, config.batchRecords() - batch.size());
            }
            writeSafely(batch, false);
            batch.clear();
        }
        // closing: whatever is left, then one last try for a gap still pending
        while (queue.drainTo(batch, config.batchRecords()) > 0) {
            writeSafely(batch, true);
            batch.clear();
        }
        writeSafely(batch, true);
        finish();
    }

    /** {@link #write}, and a bug in it costs the batch, not the writer. */
    private void writeSafely(List<Completion> batch, boolean retryNow) {
        try {
            write(batch, retryNow);
        } catch (RuntimeException e) {
            lost.addAndGet(batch.size());
            log.log(System.Logger.Level.ERROR, "audit trail: " + batch.size() + " records could not be written"
                    + " and are lost", e);
        }
    }

    private void idle() {
        long now = System.nanoTime();
        if (failing && now - retryAt >= 0 && pendingGaps()) {
            writeSafely(new ArrayList<>(), false);
        }
        if (unforced && out != null && now - lastForce >= config.fsyncInterval().toNanos()) {
            try {
                out.force();
                unforced = false;
                lastForce = now;
            } catch (IOException e) {
                writeErrors++;
                log.log(System.Logger.Level.ERROR, "audit trail: forcing " + current.path() + " to disk failed;"
                        + " the last records written may not survive a power loss", e);
            }
        }
        persistHead(false);
    }

    private boolean pendingGaps() {
        return !tornGaps.isEmpty() || queueLoss.count > 0 || failLoss.count > 0 || dropped.get() > 0;
    }

    /** Records of one batch bound for one day file, serialized. */
    private static final class Segment {
        final AuditFiles.DayFile file;
        final Bytes bytes = new Bytes();
        int requests;
        boolean gaps;
        long firstMillis = Long.MAX_VALUE;
        long lastMillis = Long.MIN_VALUE;
        long lastSeq;
        byte @Nullable [] lastMac;
        long lastTime;

        Segment(AuditFiles.DayFile file) {
            this.file = file;
        }
    }

    /**
     * Writes the pending gap records and {@code batch}, continuing the chain; on an I/O error counts
     * what was not written as lost. While failing, a batch before the next retry is counted lost
     * unwritten, unless {@code retryNow}.
     */
    private void write(List<Completion> batch, boolean retryNow) {
        batch.removeIf(c -> c == WAKE);
        long now = System.nanoTime();
        takeDropped();
        if (failing && !retryNow && now - retryAt < 0) {
            loseToFailure(batch.size(), batch);
            return;
        }
        List<AuditFormat.Gap> gaps = new ArrayList<>(tornGaps);
        if (queueLoss.count > 0) {
            gaps.add(queueLoss.gap("queue full: the writer fell behind (audit.queue_records)"));
        }
        if (failLoss.count > 0) {
            gaps.add(failLoss.gap("write failed: " + failReason));
        }
        if (batch.isEmpty() && gaps.isEmpty()) {
            return;
        }
        List<Segment> segments = new ArrayList<>(2);
        long s = seq;
        byte[] prev = prevMac;
        Segment seg = null;
        long nowMillis = clock.millis();
        for (AuditFormat.Gap g : gaps) {
            seg = segmentFor(segments, seg, nowMillis);
            prev = format.appendGap(seg.bytes, ++s, prev, nowMillis, g);
            seg.gaps = true;
            seg.lastSeq = s;
            seg.lastMac = prev;
            seg.lastTime = nowMillis;
        }
        for (Completion c : batch) {
            seg = segmentFor(segments, seg, c.atMillis());
            prev = format.appendRequest(seg.bytes, ++s, prev, c);
            seg.requests++;
            seg.firstMillis = Math.min(seg.firstMillis, c.atMillis());
            seg.lastMillis = Math.max(seg.lastMillis, c.atMillis());
            seg.lastSeq = s;
            seg.lastMac = prev;
            seg.lastTime = c.atMillis();
        }
        for (int i = 0; i < segments.size(); i++) {
            Segment g = segments.get(i);
            try {
                writeSegment(g);
            } catch (IOException e) {
                failed(e, g, segments.subList(i, segments.size()));
                return;
            }
            seq = g.lastSeq;
            prevMac = g.lastMac;
            // the head first: whoever sees the count of records written sees a head at least that far
            head = new Head(slot.slot(), g.file.name(), g.lastSeq, AuditFormat.hex(g.lastMac),
                    AuditFormat.time(g.lastTime));
            written += g.requests;
            if (g.gaps) {
                tornGaps.clear();
                queueLoss.clear();
                if (failLoss.count > 0) {
                    log.log(System.Logger.Level.WARNING, "audit trail: writing {0} works again after {1} s; {2}"
                            + " records were lost meanwhile, noted in the gap record before seq {3}", g.file.path(),
                            (now - failingSince) / 1_000_000_000L, failLoss.count, g.lastSeq - g.requests + 1);
                }
                failLoss.clear();
            }
            failing = false;
        }
        persistHead(false);
    }

    /** The segment for a record of time {@code atMillis}: its day, or the current one if the clock stepped back. */
    private Segment segmentFor(List<Segment> segments, @Nullable Segment seg, long atMillis) {
        LocalDate day = LocalDate.ofInstant(Instant.ofEpochMilli(atMillis), ZoneOffset.UTC);
        AuditFiles.DayFile last = seg != null ? seg.file : current;
        if (last != null && !day.isAfter(last.day())) {
            if (seg != null) {
                return seg;
            }
            day = last.day();
        }
        Segment next = new Segment(new AuditFiles.DayFile(dir.resolve(AuditFiles.name(day, slot.slot())), day,
                slot.slot()));
        segments.add(next);
        return next;
    }

    private void writeSegment(Segment g) throws IOException {
        if (current == null || !current.day().equals(g.file.day())) {
            switchTo(g.file);
        }
        if (out == null) {
            boolean existed = Files.exists(current.path());
            out = output.open(current.path());
            if (goodSize < 0) {
                goodSize = out.size();
            }
            if (!existed && config.fsync() != AuditConfig.Fsync.NONE) {
                forceDirectory();
            }
        }
        if (dirtyTail) {
            if (out.size() > goodSize) {
                out.truncate(goodSize);
            }
            dirtyTail = false;
        }
        int n = g.bytes.size();
        // the stream's own array: no copy of the batch
        ByteBuffer buf = ByteBuffer.wrap(g.bytes.array(), 0, n);
        try {
            out.write(buf, goodSize);
            long now = System.nanoTime();
            switch (config.fsync()) {
                case BATCH -> out.force();
                case INTERVAL -> {
                    if (now - lastForce >= config.fsyncInterval().toNanos()) {
                        out.force();
                        lastForce = now;
                        unforced = false;
                    } else {
                        unforced = true;
                    }
                }
                case NONE -> {
                }
            }
        } catch (IOException e) {
            dirtyTail = true;
            throw e;
        }
        goodSize += n;
    }

    /** A byte stream that lends its array. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes() {
            super(64 * 1024);
        }

        byte[] array() {
            return buf;
        }
    }

    /** Closes the current day file (forced first, unless fsync is none) and makes {@code f} current. */
    private void switchTo(AuditFiles.DayFile f) throws IOException {
        Out old = out;
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

    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            // best effort: the file's own force keeps its content
        }
    }

    /** An I/O error: what was not written is lost and noted in a gap later; one ERROR per episode. */
    private void failed(IOException e, Segment at, List<Segment> notWritten) {
        writeErrors++;
        long now = System.nanoTime();
        retryAt = now + RETRY_NANOS;
        int requests = 0;
        for (Segment g : notWritten) {
            requests += g.requests;
            if (g.requests > 0) {
                failLoss.add(g.requests, g.firstMillis, g.lastMillis);
            }
        }
        lost.addAndGet(requests);
        if (!failing) {
            failing = true;
            failingSince = now;
            failReason = e.toString();
            log.log(System.Logger.Level.ERROR, "audit trail: writing " + at.file.path() + " failed (" + e
                    + "). Requests are still served, but their audit records are being counted as lost until"
                    + " writing works again (retried every second); a gap record will give the count.", e);
        }
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

    /** While failing, before the next retry: the batch is lost unwritten. */
    private void loseToFailure(int n, List<Completion> batch) {
        if (n == 0) {
            return;
        }
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Completion c : batch) {
            first = Math.min(first, c.atMillis());
            last = Math.max(last, c.atMillis());
        }
        failLoss.add(n, first, last);
        lost.addAndGet(n);
    }

    /** Moves what {@link #accept} counted as refused into the writer's own tally. */
    private void takeDropped() {
        long n = dropped.getAndSet(0);
        if (n > 0) {
            queueLoss.add(n, droppedFrom.getAndSet(Long.MAX_VALUE), droppedTo.getAndSet(Long.MIN_VALUE));
        }
    }

    /** At the end of the writer thread: forced, closed, head written. */
    private void finish() {
        if (out != null) {
            try {
                out.force();
            } catch (IOException e) {
                writeErrors++;
                log.log(System.Logger.Level.ERROR, "audit trail: forcing " + current.path() + " to disk at close"
                        + " failed", e);
            }
            try {
                out.close();
            } catch (IOException e) {
                // closed either way
            }
            out = null;
        }
        if (failing) {
            log.log(System.Logger.Level.ERROR, "audit trail: closed while writing fails; {0} records were lost"
                    + " and no gap record could be written", failLoss.count);
        }
        persistHead(true);
    }

    /** {@code head.json} (or {@code head.<slot>.json}): at most once a second, and at close. */
    private void persistHead(boolean now) {
        Head h = head;
        long t = System.nanoTime();
        if (h.equals(headWritten) || (!now && t - headWrittenAt < HEAD_NANOS)) {
            return;
        }
        String name = slot.slot() == 0 ? "head.json" : "head." + slot.slot() + ".json";
        com.fasterxml.jackson.databind.node.ObjectNode o = io.brainstorm.proxy.api.ParsedRequest.JSON.createObjectNode();
        o.put("slot", h.slot());
        o.put("file", h.file());
        o.put("seq", h.seq());
        o.put("mac", h.mac());
        o.put("time", h.time());
        String json = o.toString() + "\n";
        try {
            Path tmp = dir.resolve(name + ".tmp");
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            headWritten = h;
            headWrittenAt = t;
        } catch (IOException e) {
            // informational only (the admin API publishes the live head); the next write tries again
            headWrittenAt = t;
        }
    }
}
