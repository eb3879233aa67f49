package io.brainstorm.proxy.state;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.LocalDate;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * This process's lease on one (key, day) budget entry: money taken from the entry in one update and
 * recorded there in this owner's lease slot ({@link BudgetCells#lease}), from which reservations are
 * carved on the heap without touching the entry (docs/architecture.md §6).
 *
 * <p>Always {@code leased = avail + carved + unwritten}: what the entry records for the lease is its
 * unused money, the worst cases of the reservations carved from it and not yet ended, and the spend
 * of those that ended, not yet written to the entry. A settle above its reservation overdraws
 * {@code avail} (below 0), which the next write-back records.
 *
 * <p><b>Threading:</b> carving and ending reservations is one compare-and-set of an immutable
 * {@link Held} (lock-free; no thread ever waits for another). Money moves between the entry and
 * the lease ({@link #writeBack}, {@link #grow}) only inside that entry's update, so {@link #leased},
 * {@link #seen} and {@link #retired} change under the entry's lock; the thread doing it brackets the
 * update with {@link #beginMove}/{@link #endMove} so that a read of both (a carve's figures, a
 * usage read-out) can tell it overlapped one and read again rather than add up a mix.
 */
final class BudgetLease {
    /** A lease is taken only if it covers at least this many of the request's worst case. */
    static final long MIN_REQUESTS = 16;
    /** A lease covers up to this many of the request's worst case. */
    static final long MAX_REQUESTS = 64;
    /** A lease takes at most 1 / this of what the budget has left. */
    static final long SHARE = 8;

    /** What the lease holds on the heap; every change is one compare-and-set of a new one. */
    record Held(long avail, long carvedNano, long carvedCount, long unwrittenNano, long unwrittenRequests) {
        static final Held NONE = new Held(0, 0, 0, 0, 0);

        Held carve(long amount) {
            return new Held(avail - amount, carvedNano + amount, carvedCount + 1, unwrittenNano, unwrittenRequests);
        }

        Held settle(long amount, long actual) {
            return new Held(
                    avail + amount - actual,
                    carvedNano - amount,
                    carvedCount - 1,
                    unwrittenNano + actual,
                    unwrittenRequests + 1);
        }

        Held release(long amount) {
            return new Held(avail + amount, carvedNano - amount, carvedCount - 1, unwrittenNano, unwrittenRequests);
        }

        /** What is left once the unused money goes back to the entry (when {@code all}) and the spend is written. */
        Held writtenBack(boolean all) {
            return new Held(all ? 0 : avail, carvedNano, carvedCount, 0, 0);
        }

        Held granted(long amount) {
            return new Held(avail + amount, carvedNano, carvedCount, unwrittenNano, unwrittenRequests);
        }
    }

    /**
     * The entry as this process last saw it, without this lease: settled spend, money reserved and
     * reservations open. Carved reservations report their figures from it.
     */
    record Seen(long spentNano, long reservedNano, long open) {
        static final Seen NONE = new Seen(0, 0, 0);
    }

    final String keyId;
    final LocalDate day;
    private volatile Held held = Held.NONE;
    /** Entry updates moving money for this lease now, and how many ever began. */
    private final AtomicInteger movers = new AtomicInteger();

    private final AtomicLong moves = new AtomicLong();
    /** What the entry records for this lease; changed only inside the entry's update. */
    volatile long leased;

    volatile Seen seen = Seen.NONE;
    volatile long lastUsedNanos = System.nanoTime();
    /** Set under the entry's lock once the lease holds nothing and leaves the ledger's map. */
    volatile boolean retired;

    private static final VarHandle HELD;

    static {
        try {
            HELD = MethodHandles.lookup().findVarHandle(BudgetLease.class, "held", Held.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    BudgetLease(String keyId, LocalDate day) {
        this.keyId = keyId;
        this.day = day;
    }

    Held held() {
        return held;
    }

    /** Applies {@code change} in one compare-and-set (retried only when another thread changed it first). */
    private Held update(java.util.function.UnaryOperator<Held> change) {
        while (true) {
            Held h = held;
            if (HELD.compareAndSet(this, h, change.apply(h))) {
                return h;
            }
        }
    }

    /** What a carve saw: the entry's figures and the lease's before the carve, read together. */
    record Carved(Seen seen, Held before) {}

    /**
     * Carves {@code amount} from the unused money if there is enough and the figures last seen leave
     * room for it under {@code budget} (a budget lowered since the lease was taken).
     *
     * @return what it was carved from, or null when the lease cannot cover the request or an entry
     *     update for it was moving money meanwhile (so its figures might not add up)
     */
    @Nullable
    Carved tryCarve(long amount, long budget) {
        long v = stamp();
        if (v < 0) {
            return null;
        }
        Seen s = seen;
        while (true) {
            Held h = held;
            if (h.avail < amount || s.spentNano + h.unwrittenNano + s.reservedNano + h.carvedNano > budget - amount) {
                return null;
            }
            if (HELD.compareAndSet(this, h, h.carve(amount))) {
                if (!unchanged(v)) {
                    update(x -> x.release(amount));
                    return null;
                }
                lastUsedNanos = System.nanoTime();
                return new Carved(s, h);
            }
        }
    }

    void settle(long amount, long actual) {
        update(h -> h.settle(amount, actual));
        lastUsedNanos = System.nanoTime();
    }

    void release(long amount) {
        update(h -> h.release(amount));
        lastUsedNanos = System.nanoTime();
    }

    /**
     * Writes back under the entry's lock (call only from inside its update, between
     * {@link #beginMove} and {@link #endMove}):
     * the unwritten spend joins spent and, when {@code all}, the unused money returns to the budget.
     */
    void writeBack(long[] c, ProcessOwner owner, boolean all) {
        Held h = update(x -> x.writtenBack(all));
        long returned = all ? h.avail : 0;
        BudgetCells.writeBack(c, owner, h.unwrittenNano, h.unwrittenRequests, returned);
        leased -= h.unwrittenNano + returned;
    }

    /**
     * Adds {@code amount} to the lease, under the entry's lock, if the entry grants it, and carves
     * {@code first} from it in the same step (so no other thread can take it first).
     */
    boolean grow(long[] c, ProcessOwner owner, long amount, long budget, long first) {
        if (!BudgetCells.lease(c, owner, amount, budget)) {
            return false;
        }
        leased += amount;
        update(h -> h.granted(amount).carve(first));
        lastUsedNanos = System.nanoTime();
        return true;
    }

    /** Records the entry's figures without this lease; under the entry's lock, after a change. */
    void saw(long[] c) {
        seen = new Seen(BudgetCells.spent(c), BudgetCells.reserved(c) - leased, BudgetCells.open(c));
    }

    /** How much to lease for requests of {@code amount} when the budget has {@code remaining} left; 0 for none. */
    static long size(long amount, long remaining) {
        if (amount <= 0 || amount > Long.MAX_VALUE / MAX_REQUESTS) {
            return 0;
        }
        long size = Math.min(MAX_REQUESTS * amount, remaining / SHARE);
        return size >= MIN_REQUESTS * amount ? size : 0;
    }

    void beginMove() {
        movers.incrementAndGet();
        moves.incrementAndGet();
    }

    void endMove() {
        movers.decrementAndGet();
    }

    /** A stamp to check a read of the lease and the entry against: -1 while money is moving. */
    long stamp() {
        long m = moves.get();
        return movers.get() == 0 ? m : -1;
    }

    /** Whether no money moved since {@code stamp} was taken (and none is moving). */
    boolean unchanged(long stamp) {
        return movers.get() == 0 && moves.get() == stamp;
    }
}
