package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.settle.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The bounded queue between the event loops and the audit writer ({@code audit.queue_records}),
 * with the tally of the records it refused for the gap record that will note them.
 *
 * <p><b>Threading.</b> {@link #offer}, {@link #wake} and {@link #size} from any thread; the rest on
 * the writer thread.
 */
final class AuditQueue {
    /** Queued by {@link #wake} so the writer need not wait out its poll; never handed out. */
    private static final Object WAKE = new Object();

    /** {@link Completion}s, {@link AuditFormat.State}s, and the odd {@link #WAKE}. */
    private final LinkedBlockingQueue<Object> queue;
    /** Records refused since the writer last looked, and their first and last times. */
    private final AtomicLong dropped = new AtomicLong();

    private final AtomicLong droppedFrom = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong droppedTo = new AtomicLong(Long.MIN_VALUE);
    /** The writer's: what {@link #drainTo} took, before the markers are left out. */
    private final List<Object> drained = new ArrayList<>();
    /** The writer's: state records taken by {@link #poll} or {@link #drainTo}, not yet written. */
    private final List<AuditFormat.State> states = new ArrayList<>();

    AuditQueue(int capacity) {
        this.queue = new LinkedBlockingQueue<>(capacity);
    }

    /** Never blocks: queues the record, or tallies it as refused and returns false when the queue is full. */
    boolean offer(Completion completion) {
        if (queue.offer(completion)) {
            return true;
        }
        long at = completion.atMillis();
        dropped.incrementAndGet();
        droppedFrom.accumulateAndGet(at, Math::min);
        droppedTo.accumulateAndGet(at, Math::max);
        return false;
    }

    /**
     * Never blocks: queues a state record and wakes the writer, or tallies it as refused (its gap
     * record will count it) and returns false when the queue is full.
     */
    boolean offer(AuditFormat.State state) {
        if (queue.offer(state)) {
            return true;
        }
        dropped.incrementAndGet();
        droppedFrom.accumulateAndGet(state.atMillis(), Math::min);
        droppedTo.accumulateAndGet(state.atMillis(), Math::max);
        return false;
    }

    /** Ends the writer's current {@link #poll} at once. */
    void wake() {
        queue.offer(WAKE);
    }

    /**
     * The next request record, waiting up to {@code millis}; null when none came, on {@link #wake}
     * or an interrupt, or when a state record came (kept for {@link #takeStates}).
     */
    @Nullable
    Completion poll(long millis) {
        Object next;
        try {
            next = queue.poll(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            return null;
        }
        if (next instanceof AuditFormat.State st) {
            states.add(st);
        }
        return next instanceof Completion c ? c : null;
    }

    /** Whether state records taken from the queue wait to be written. */
    boolean hasStates() {
        return !states.isEmpty();
    }

    /** Moves the state records taken from the queue into {@code out}, oldest first. */
    void takeStates(List<AuditFormat.State> out) {
        out.addAll(states);
        states.clear();
    }

    /**
     * Moves up to {@code max} queued entries without waiting, the records among them to {@code batch}.
     *
     * @return how many entries were taken (wake-ups included); 0 when the queue was empty
     */
    int drainTo(List<Completion> batch, int max) {
        int n = queue.drainTo(drained, max);
        for (Object o : drained) {
            if (o instanceof Completion c) {
                batch.add(c);
            } else if (o instanceof AuditFormat.State st) {
                states.add(st);
            }
        }
        drained.clear();
        return n;
    }

    /** Entries waiting for the writer. */
    int size() {
        return queue.size();
    }

    /** Whether records were refused since the last {@link #takeDropped}. */
    boolean hasDropped() {
        return dropped.get() > 0;
    }

    /** Moves the tally of refused records into {@code loss}. */
    void takeDropped(Loss loss) {
        long n = dropped.getAndSet(0);
        if (n > 0) {
            loss.add(n, droppedFrom.getAndSet(Long.MAX_VALUE), droppedTo.getAndSet(Long.MIN_VALUE));
        }
    }
}
