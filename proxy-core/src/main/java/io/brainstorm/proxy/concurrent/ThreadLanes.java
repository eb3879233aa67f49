package io.brainstorm.proxy.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.function.Function;

/**
 * One lane per writing thread, for structures that several threads (the event loops) write without
 * ever waiting for each other: each thread writes only its own lane, found in a small
 * copy-on-write array, and a reader visits every lane ({@link #all()}).
 *
 * <p><b>Threading.</b> {@link #mine()} is wait-free once the calling thread has its lane: a scan of
 * the array, which holds one lane per thread that ever wrote (the event loops, in tests a few
 * more). A thread's first call adds its lane by compare-and-set, which never waits either: a
 * failed swap means another thread added its own meanwhile, and it retries on the new array.
 * {@link #all()} may run on any thread; it sees every lane added before it is called.
 *
 * @param <L> a lane: what one thread writes
 */
public final class ThreadLanes<L extends ThreadLanes.Lane> {
    /** A lane knows the thread that owns it, the only one that writes it. */
    public interface Lane {
        Thread owner();
    }

    private static final VarHandle LANES;

    static {
        try {
            LANES = MethodHandles.lookup().findVarHandle(ThreadLanes.class, "lanes", Lane[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Function<Thread, L> newLane;

    @SuppressWarnings("unused") // through LANES
    private volatile Lane[] lanes;

    /**
     * @param none    an empty array of the lane type, which every later array keeps as its type
     * @param newLane makes the lane of a thread at its first {@link #mine()}
     */
    public ThreadLanes(L[] none, Function<Thread, L> newLane) {
        if (none.length != 0) {
            throw new IllegalArgumentException("none: " + none.length + " lanes (expected: 0)");
        }
        this.lanes = none;
        this.newLane = newLane;
    }

    /** The calling thread's lane, added at its first call. */
    @SuppressWarnings("unchecked") // every element is an L: only mine() adds lanes
    public L mine() {
        Thread me = Thread.currentThread();
        for (Lane l : lanes) {
            if (l.owner() == me) {
                return (L) l;
            }
        }
        return join(me);
    }

    /** Every lane added so far; the array is shared: read it, never write it. */
    @SuppressWarnings("unchecked") // the array's type is L[]: it began as the constructor's
    public L[] all() {
        return (L[]) lanes;
    }

    /** Adds the calling thread's lane; only that thread adds it, so it is not there yet. */
    private L join(Thread me) {
        L mine = newLane.apply(me);
        while (true) {
            Lane[] now = lanes;
            Lane[] next = Arrays.copyOf(now, now.length + 1);
            next[now.length] = mine;
            // a failed swap means another thread added its lane meanwhile: retry on the new array
            if (LANES.compareAndSet(this, now, next)) {
                return mine;
            }
        }
    }
}
