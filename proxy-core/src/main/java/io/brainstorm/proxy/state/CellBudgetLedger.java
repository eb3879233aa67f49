package io.brainstorm.proxy.state;

import java.lang.System.Logger.Level;
import java.time.LocalDate;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * {@link BudgetLedger} over one {@link CellStore} per day (a heap map or a Chronicle file per day,
 * so no map ever fills with past days). Without leases each call is one atomic entry update running
 * {@link BudgetCells}.
 *
 * <p>With leases (the files store, docs/architecture.md §6), a reservation is carved on the heap
 * from this process's {@link BudgetLease} on the (key, day) and its settle returns to it, so the
 * common request changes no entry. An entry update happens only when the lease cannot cover a
 * request (it writes back what the lease spent, returns its unused money and then either takes a new
 * lease or decides the request exactly as without leases, in the same update), and from a timer every
 * {@value #FLUSH_MILLIS} ms: at most one update per key, writing back the spend and, once a lease
 * has not been used for {@value #IDLE_MILLIS} ms, its unused money. {@link #close} writes back
 * every lease.
 *
 * <p><b>Ownership:</b> the reservations this process granted and has not yet ended are kept here,
 * on the heap, by id (positive for exact ones, negative for carved ones): that makes settle and
 * release idempotent. The entry records how much each owner process holds, in reservations and in
 * a lease, which is what a restart needs to release (or count as spent) a dead owner's money.
 *
 * <p><b>Threading:</b> thread-safe and lock-free on the heap: a thread that finds another one
 * changing the entry for a lease decides its request exactly instead of waiting. The timer runs on
 * its own daemon thread.
 */
final class CellBudgetLedger implements BudgetLedger, AutoCloseable {
    static final long FLUSH_MILLIS = 100;
    static final long IDLE_MILLIS = 1_000;

    private static final System.Logger log = System.getLogger(CellBudgetLedger.class.getName());
    private static final Reservation.Verdict[] VERDICTS = Reservation.Verdict.values();
    private static final long LEASED = -1;
    private static final long NO_SLOT = -2;
    private static final int USAGE_TRIES = 8;

    private record LeaseKey(String keyId, LocalDate day) {}

    private final DayStores days;
    private final ProcessOwner owner;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong carvedIds = new AtomicLong();
    private final Set<Long> open = ConcurrentHashMap.newKeySet();
    private final Map<Long, BudgetLease> carved = new ConcurrentHashMap<>();
    private final Map<LeaseKey, BudgetLease> leases = new ConcurrentHashMap<>();
    private final @Nullable ScheduledExecutorService flusher;
    private final ThreadLocal<long[]> readBuffer = ThreadLocal.withInitial(() -> new long[BudgetCells.LENGTH]);
    private final ThreadLocal<long[]> seenBuffer = ThreadLocal.withInitial(() -> new long[4]);

    /** A ledger without leases: one entry update per call. */
    CellBudgetLedger(DayStores days, ProcessOwner owner) {
        this(days, owner, false);
    }

    CellBudgetLedger(DayStores days, ProcessOwner owner, boolean leasing) {
        this.days = days;
        this.owner = owner;
        if (leasing) {
            ScheduledExecutorService f = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "budget-lease-flush");
                t.setDaemon(true);
                return t;
            });
            f.scheduleWithFixedDelay(() -> flush(false), FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
            this.flusher = f;
        } else {
            this.flusher = null;
        }
    }

    @Override
    public Reservation reserve(String keyId, LocalDate day, long amountNano, long budgetNano) {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(day, "day");
        if (amountNano < 0 || budgetNano < 0) {
            throw new IllegalArgumentException(
                    "amountNano: " + amountNano + ", budgetNano: " + budgetNano + " (expected: >= 0)");
        }
        if (flusher == null || amountNano == 0) {
            return reserveExact(keyId, day, amountNano, budgetNano, null);
        }
        LeaseKey k = new LeaseKey(keyId, day);
        for (int attempt = 0; attempt < 2; attempt++) {
            BudgetLease l = leases.computeIfAbsent(k, x -> new BudgetLease(keyId, day));
            BudgetLease.Held before = l.tryCarve(amountNano, budgetNano);
            if (before != null) {
                return carvedFrom(l, before, amountNano, budgetNano);
            }
            if (!l.trySync()) {
                // another thread is changing the entry for this lease: decide this one exactly, not wait
                return reserveExact(keyId, day, amountNano, budgetNano, l);
            }
            try {
                if (!l.retired) {
                    return reserveSyncing(l, amountNano, budgetNano);
                }
            } finally {
                l.endSync();
            }
        }
        return reserveExact(keyId, day, amountNano, budgetNano, null);
    }

    private Reservation carvedFrom(BudgetLease l, BudgetLease.Held before, long amountNano, long budgetNano) {
        long id = carvedIds.decrementAndGet();
        carved.put(id, l);
        BudgetLease.Seen s = l.seen;
        long spent = s.spentNano() + before.unwrittenNano();
        long held = s.reservedNano() + before.carvedNano();
        return new Reservation(
                id,
                l.keyId,
                l.day,
                amountNano,
                Reservation.Verdict.GRANTED,
                Math.max(0, budgetNano - spent - held - amountNano),
                spent,
                held,
                s.open() + before.carvedCount());
    }

    /**
     * The lease cannot cover the request: in one entry update, writes back what it spent, returns
     * its unused money, and then takes a new lease (carving the request from it) or, when the budget
     * has too little left for one, decides the request exactly as a ledger without leases does.
     */
    private Reservation reserveSyncing(BudgetLease l, long amountNano, long budgetNano) {
        long[] seen = seenBuffer.get();
        StateStoreException[] full = new StateStoreException[1];
        long code;
        l.version.incrementAndGet();
        try {
            code = days.forDay(l.day).update(l.keyId, c -> {
                l.writeBack(c, owner, true);
                seen[0] = BudgetCells.spent(c);
                seen[1] = BudgetCells.reserved(c);
                seen[2] = BudgetCells.open(c) + l.held().carvedCount();
                long remaining = BudgetCells.remaining(c, budgetNano);
                long size = BudgetLease.size(amountNano, remaining);
                if (size > 0 && l.grow(c, owner, size, budgetNano, amountNano)) {
                    seen[3] = remaining - amountNano;
                    l.saw(c);
                    return LEASED;
                }
                Reservation.Verdict v;
                try {
                    v = BudgetCells.reserve(c, owner, amountNano, budgetNano, l.keyId, l.day)
                            ? Reservation.Verdict.GRANTED
                            : BudgetCells.refusal(c, amountNano, budgetNano);
                } catch (StateStoreException e) {
                    // keep what was written back: the entry and the lease agree on it
                    full[0] = e;
                    l.saw(c);
                    return NO_SLOT;
                }
                seen[3] = BudgetCells.remaining(c, budgetNano);
                l.saw(c);
                return v.ordinal();
            });
        } finally {
            l.version.incrementAndGet();
        }
        if (code == NO_SLOT) {
            throw Objects.requireNonNull(full[0], "the exception of a full entry");
        }
        long id = 0;
        Reservation.Verdict v;
        if (code == LEASED) {
            v = Reservation.Verdict.GRANTED;
            id = carvedIds.decrementAndGet();
            carved.put(id, l);
        } else {
            v = VERDICTS[(int) code];
            if (v == Reservation.Verdict.GRANTED) {
                id = ids.incrementAndGet();
                open.add(id);
            }
        }
        return new Reservation(id, l.keyId, l.day, amountNano, v, seen[3], seen[0], seen[1], seen[2]);
    }

    /** One entry update deciding the request; {@code lease} (this process's on the entry, if any) adds its carved reservations to the figures. */
    private Reservation reserveExact(
            String keyId, LocalDate day, long amountNano, long budgetNano, @Nullable BudgetLease lease) {
        // what the entry held when the decision was made, read under its lock: {spent, held, count, remaining}
        long[] seen = seenBuffer.get();
        long verdict = days.forDay(day).update(keyId, c -> {
            seen[0] = BudgetCells.spent(c);
            seen[1] = BudgetCells.reserved(c);
            seen[2] = BudgetCells.open(c) + (lease == null ? 0 : lease.held().carvedCount());
            Reservation.Verdict v = BudgetCells.reserve(c, owner, amountNano, budgetNano, keyId, day)
                    ? Reservation.Verdict.GRANTED
                    : BudgetCells.refusal(c, amountNano, budgetNano);
            seen[3] = BudgetCells.remaining(c, budgetNano);
            if (lease != null) {
                lease.saw(c);
            }
            return v.ordinal();
        });
        Reservation.Verdict v = VERDICTS[(int) verdict];
        long id = 0;
        if (v == Reservation.Verdict.GRANTED) {
            id = ids.incrementAndGet();
            open.add(id);
        }
        return new Reservation(id, keyId, day, amountNano, v, seen[3], seen[0], seen[1], seen[2]);
    }

    @Override
    public void settle(Reservation r, long actualNano) {
        if (actualNano < 0) {
            throw new IllegalArgumentException("actualNano: " + actualNano + " (expected: >= 0)");
        }
        if (!r.granted()) {
            return;
        }
        if (r.id() < 0) {
            BudgetLease l = carved.remove(r.id());
            if (l != null) {
                l.settle(r.amountNano(), actualNano);
            }
        } else if (open.remove(r.id())) {
            BudgetLease l = leaseOf(r);
            days.forDay(r.day()).update(r.keyId(), c -> {
                BudgetCells.settle(c, owner, r.amountNano(), actualNano);
                if (l != null) {
                    l.saw(c);
                }
                return 0;
            });
        }
    }

    @Override
    public void release(Reservation r) {
        if (!r.granted()) {
            return;
        }
        if (r.id() < 0) {
            BudgetLease l = carved.remove(r.id());
            if (l != null) {
                l.release(r.amountNano());
            }
        } else if (open.remove(r.id())) {
            BudgetLease l = leaseOf(r);
            days.forDay(r.day()).update(r.keyId(), c -> {
                BudgetCells.release(c, owner, r.amountNano());
                if (l != null) {
                    l.saw(c);
                }
                return 0;
            });
        }
    }

    private @Nullable BudgetLease leaseOf(Reservation r) {
        return flusher == null ? null : leases.get(new LeaseKey(r.keyId(), r.day()));
    }

    /**
     * What the entry has, with this process's lease as what it stands for: its unwritten spend is
     * spent, its carved reservations are reserved, its unused money is neither.
     */
    @Override
    public DayUsage usage(String keyId, LocalDate day) {
        CellStore<String> store = days.forDay(day, false);
        if (store == null) {
            return DayUsage.ZERO;
        }
        long[] c = readBuffer.get();
        BudgetLease l = flusher == null ? null : leases.get(new LeaseKey(keyId, day));
        if (l == null) {
            return store.read(keyId, c) ? BudgetCells.usage(c) : DayUsage.ZERO;
        }
        DayUsage u = DayUsage.ZERO;
        for (int i = 0; i < USAGE_TRIES; i++) {
            // an entry update for the lease moves money between the entry and the lease: read both between two
            long version = l.version.get();
            BudgetLease.Held h = l.held();
            DayUsage e = store.read(keyId, c) ? BudgetCells.usage(c) : DayUsage.ZERO;
            u = new DayUsage(
                    e.spentNano() + h.unwrittenNano(),
                    Math.max(0, e.reservedNano() - h.avail() - h.unwrittenNano()),
                    e.requests() + h.unwrittenRequests());
            if (version % 2 == 0 && l.version.get() == version) {
                break;
            }
        }
        return u;
    }

    /**
     * Writes back the leases: their unwritten spend, and the unused money of those idle for
     * {@value #IDLE_MILLIS} ms (of every one when {@code all}); forgets leases that hold nothing.
     *
     * @return how many leases it could not write back because a request was changing their entry
     */
    int flush(boolean all) {
        int skipped = 0;
        long now = System.nanoTime();
        for (BudgetLease l : leases.values()) {
            BudgetLease.Held h = l.held();
            boolean idle = all || now - l.lastUsedNanos >= TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS);
            boolean spent = h.unwrittenNano() != 0 || h.unwrittenRequests() != 0;
            if (!spent && !(idle && (h.avail() != 0 || l.leased == 0))) {
                continue;
            }
            if (!l.trySync()) {
                skipped++;
                continue;
            }
            try {
                if (l.retired) {
                    continue;
                }
                if (spent || l.leased != 0) {
                    l.version.incrementAndGet();
                    try {
                        days.forDay(l.day).update(l.keyId, c -> {
                            l.writeBack(c, owner, idle);
                            l.saw(c);
                            return 0;
                        });
                    } finally {
                        l.version.incrementAndGet();
                    }
                }
                if (idle && l.leased == 0 && l.held().equals(BudgetLease.Held.NONE)) {
                    l.retired = true;
                    leases.remove(new LeaseKey(l.keyId, l.day), l);
                }
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "could not write back the budget lease of " + l.keyId + " on " + l.day, e);
            } finally {
                l.endSync();
            }
        }
        return skipped;
    }

    /** Stops the timer and writes back every lease (its carved reservations still in flight stay reserved). */
    @Override
    public void close() {
        if (flusher == null) {
            return;
        }
        flusher.shutdownNow();
        try {
            flusher.awaitTermination(5, TimeUnit.SECONDS);
            for (int i = 0; i < 1_000 && flush(true) > 0; i++) {
                Thread.sleep(
                        1); // a request thread is changing an entry for a lease: its update ends within microseconds
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
