package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The audit trail's writer thread ({@code br-audit}): takes batches of records from the
 * {@link AuditQueue}, chains them ({@link AuditFormat}) after the gap records owed and the state
 * records taken, splits them by
 * day and hands them to the {@link DayFileAppender}; keeps the head and the counters
 * {@link AuditLog} publishes.
 *
 * <p><b>Threading.</b> {@link #run} on its own thread; {@link #stop} and the counters from any thread.
 *
 * <p><b>Errors.</b> An I/O error logs one ERROR per episode naming the file; what was not written is
 * counted as lost, and while writing fails, batches are counted as lost unwritten until the retry a
 * second later; the first write that works starts with a gap record giving the count.
 */
final class AuditWriter implements Runnable {
    // the one logger of the audit trail, whichever class logs
    private static final System.Logger log = System.getLogger(AuditLog.class.getName());
    static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long POLL_MILLIS = 100;
    /**
     * How long the writer gathers records after the first one before it writes: one write (and,
     * with {@code fsync: batch}, one force) per few milliseconds instead of a wake-up, a write and a
     * force per request, which took a third of a core from the event loops at 10,000 requests/s.
     * A crash loses at most this much more (docs/architecture.md §9: bounded by the writer's batch).
     */
    static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final AuditConfig config;
    private final Path dir;
    private final int slot;
    private final InstantSource clock;
    private final AuditFormat format;
    private final AuditQueue queue;
    private final DayFileAppender files;
    private final HeadFile headFile;
    private volatile boolean closing;
    private volatile AuditLog.Head head;
    private volatile long written;
    private volatile long writeErrors;
    private final AtomicLong lost = new AtomicLong();

    // the writer thread's
    private long seq;
    private byte[] prevMac;
    private final List<AuditFormat.Gap> tornGaps;
    private final Loss queueLoss = new Loss();
    private final Loss failLoss = new Loss();
    private boolean failing;
    private long failingSince;
    private long retryAt;
    private @Nullable String failReason;

    AuditWriter(
            AuditConfig config,
            Path dir,
            int slot,
            InstantSource clock,
            AuditFormat format,
            AuditQueue queue,
            AuditOutput output,
            ChainStart start) {
        this.config = config;
        this.dir = dir;
        this.slot = slot;
        this.clock = clock;
        this.format = format;
        this.queue = queue;
        this.files = new DayFileAppender(config, output, start.file());
        this.headFile = new HeadFile(dir, slot, start.resumed() ? start.head() : null);
        this.head = start.head();
        this.seq = start.head().seq();
        this.prevMac = AuditFormat.unhex(start.head().mac());
        this.tornGaps = new ArrayList<>(start.tornGaps());
        lost.addAndGet(tornGaps.size());
    }

    AuditLog.Head head() {
        return head;
    }

    long written() {
        return written;
    }

    long writeErrors() {
        return writeErrors;
    }

    long lost() {
        return lost.get();
    }

    /** Counts a record that never reached the queue. */
    void lose() {
        lost.incrementAndGet();
    }

    boolean closing() {
        return closing;
    }

    /** Takes no more batches after what is queued: the thread writes that and ends. */
    void stop() {
        closing = true;
        queue.wake();
    }

    @Override
    public void run() {
        List<Completion> batch = new ArrayList<>(config.batchRecords());
        while (true) {
            Completion first = queue.poll(POLL_MILLIS);
            if (first == null) {
                if (closing) {
                    break;
                }
                idle();
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, config.batchRecords() - 1);
            if (batch.size() < config.batchRecords() && !closing) {
                LockSupport.parkNanos(LINGER_NANOS);
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
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: " + batch.size() + " records could not be written" + " and are lost",
                    e);
        }
    }

    private void idle() {
        long now = System.nanoTime();
        if (queue.hasStates() || (failing && now - retryAt >= 0 && pendingGaps())) {
            writeSafely(new ArrayList<>(), false);
        }
        try {
            files.forceIfDue(now);
        } catch (IOException e) {
            writeErrors++;
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: forcing " + currentPath() + " to disk failed;"
                            + " the last records written may not survive a power loss",
                    e);
        }
        headFile.persist(head, false);
    }

    private boolean pendingGaps() {
        return !tornGaps.isEmpty() || queueLoss.count() > 0 || failLoss.count() > 0 || queue.hasDropped();
    }

    /** Records of one batch bound for one day file, serialized. */
    private static final class Segment {
        final AuditFiles.DayFile file;
        final Bytes bytes = new Bytes();
        int requests;
        /** State records among them: lost with the requests if the write fails. */
        int states;

        boolean gaps;
        long firstMillis = Long.MAX_VALUE;
        long lastMillis = Long.MIN_VALUE;
        long lastSeq;
        /** The MAC of its last record; until one is added, the chain's MAC before it. */
        byte[] lastMac;

        long lastTime;

        Segment(AuditFiles.DayFile file, byte[] prevMac) {
            this.file = file;
            this.lastMac = prevMac;
        }

        /** A record of time {@code atMillis} was appended as {@code seq}, with MAC {@code mac}. */
        void appended(long seq, byte[] mac, long atMillis) {
            lastSeq = seq;
            lastMac = mac;
            lastTime = atMillis;
        }

        /** {@link #appended}, for a record (request or state) whose time the segment's span covers. */
        void appendedTimed(long seq, byte[] mac, long atMillis) {
            firstMillis = Math.min(firstMillis, atMillis);
            lastMillis = Math.max(lastMillis, atMillis);
            appended(seq, mac, atMillis);
        }
    }

    /** A byte stream that lends its array. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes() {
            super(64 * 1024);
        }

        /** The bytes written so far, without a copy. */
        ByteBuffer buffer() {
            return ByteBuffer.wrap(buf, 0, count);
        }
    }

    /**
     * Writes the pending gap records and {@code batch}, continuing the chain; on an I/O error counts
     * what was not written as lost. While failing, a batch before the next retry is counted lost
     * unwritten, unless {@code retryNow}.
     */
    private void write(List<Completion> batch, boolean retryNow) {
        long now = System.nanoTime();
        queue.takeDropped(queueLoss);
        List<AuditFormat.State> states = new ArrayList<>();
        queue.takeStates(states);
        if (failing && !retryNow && now - retryAt < 0) {
            loseToFailure(batch, states);
            return;
        }
        List<AuditFormat.Gap> gaps = new ArrayList<>(tornGaps);
        if (queueLoss.count() > 0) {
            gaps.add(queueLoss.gap("queue full: the writer fell behind (audit.queue_records)"));
        }
        if (failLoss.count() > 0) {
            gaps.add(failLoss.gap("write failed: " + failReason));
        }
        if (batch.isEmpty() && gaps.isEmpty() && states.isEmpty()) {
            return;
        }
        List<Segment> segments = new ArrayList<>(2);
        long s = seq;
        byte[] prev = prevMac;
        Segment seg = null;
        long nowMillis = clock.millis();
        for (AuditFormat.Gap g : gaps) {
            seg = segmentFor(segments, seg, nowMillis, prev);
            prev = format.appendGap(seg.bytes, ++s, prev, nowMillis, g);
            seg.gaps = true;
            seg.appended(s, prev, nowMillis);
        }
        for (AuditFormat.State st : states) {
            seg = segmentFor(segments, seg, st.atMillis(), prev);
            prev = format.appendState(seg.bytes, ++s, prev, st);
            seg.states++;
            seg.appendedTimed(s, prev, st.atMillis());
        }
        for (Completion c : batch) {
            seg = segmentFor(segments, seg, c.atMillis(), prev);
            prev = format.appendRequest(seg.bytes, ++s, prev, c);
            seg.requests++;
            seg.appendedTimed(s, prev, c.atMillis());
        }
        for (int i = 0; i < segments.size(); i++) {
            Segment g = segments.get(i);
            try {
                files.append(g.file, g.bytes.buffer());
            } catch (IOException e) {
                failed(e, g, segments.subList(i, segments.size()));
                return;
            }
            seq = g.lastSeq;
            prevMac = g.lastMac;
            // the head first: whoever sees the count of records written sees a head at least that far
            head = new AuditLog.Head(
                    slot, g.file.name(), g.lastSeq, AuditFormat.hex(g.lastMac), AuditFormat.time(g.lastTime));
            written += g.requests;
            if (g.gaps) {
                tornGaps.clear();
                queueLoss.clear();
                if (failLoss.count() > 0) {
                    log.log(
                            System.Logger.Level.WARNING,
                            "audit trail: writing {0} works again after {1} s; {2}"
                                    + " records were lost meanwhile, noted in the gap record before seq {3}",
                            g.file.path(),
                            (now - failingSince) / 1_000_000_000L,
                            failLoss.count(),
                            g.lastSeq - g.requests - g.states + 1);
                }
                failLoss.clear();
            }
            failing = false;
        }
        headFile.persist(head, false);
    }

    /** The segment for a record of time {@code atMillis}: its day, or the current one if the clock stepped back. */
    private Segment segmentFor(List<Segment> segments, @Nullable Segment seg, long atMillis, byte[] prev) {
        LocalDate day = LocalDate.ofInstant(Instant.ofEpochMilli(atMillis), ZoneOffset.UTC);
        AuditFiles.DayFile last = seg != null ? seg.file : files.current();
        if (last != null && !day.isAfter(last.day())) {
            if (seg != null) {
                return seg;
            }
            day = last.day();
        }
        Segment next = new Segment(new AuditFiles.DayFile(dir.resolve(AuditFiles.name(day, slot)), day, slot), prev);
        segments.add(next);
        return next;
    }

    /** An I/O error: what was not written is lost and noted in a gap later; one ERROR per episode. */
    private void failed(IOException e, Segment at, List<Segment> notWritten) {
        writeErrors++;
        long now = System.nanoTime();
        retryAt = now + RETRY_NANOS;
        int requests = 0;
        for (Segment g : notWritten) {
            requests += g.requests + g.states;
            if (g.requests + g.states > 0) {
                failLoss.add(g.requests + g.states, g.firstMillis, g.lastMillis);
            }
        }
        lost.addAndGet(requests);
        if (!failing) {
            failing = true;
            failingSince = now;
            failReason = e.toString();
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: writing " + at.file.path() + " failed (" + e
                            + "). Requests are still served, but their audit records are being counted as lost until"
                            + " writing works again (retried every second); a gap record will give the count.",
                    e);
        }
        files.discardPartial();
    }

    /** While failing, before the next retry: the batch is lost unwritten. */
    private void loseToFailure(List<Completion> batch, List<AuditFormat.State> states) {
        if (batch.isEmpty() && states.isEmpty()) {
            return;
        }
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Completion c : batch) {
            first = Math.min(first, c.atMillis());
            last = Math.max(last, c.atMillis());
        }
        for (AuditFormat.State st : states) {
            first = Math.min(first, st.atMillis());
            last = Math.max(last, st.atMillis());
        }
        int n = batch.size() + states.size();
        failLoss.add(n, first, last);
        lost.addAndGet(n);
    }

    /** For a log line after a failed force: the day file is the one written last, so there is one. */
    private static Path pathOf(AuditFiles.@Nullable DayFile file) {
        return Objects.requireNonNull(file, "a day file after a write").path();
    }

    private Path currentPath() {
        return pathOf(files.current());
    }

    /** At the end of the writer thread: forced, closed, head written. */
    private void finish() {
        AuditFiles.DayFile last = files.current();
        try {
            files.close();
        } catch (IOException e) {
            writeErrors++;
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: forcing " + pathOf(last) + " to disk at close" + " failed",
                    e);
        }
        if (failing) {
            log.log(
                    System.Logger.Level.ERROR,
                    "audit trail: closed while writing fails; {0} records were lost"
                            + " and no gap record could be written",
                    failLoss.count());
        }
        headFile.persist(head, true);
    }
}
