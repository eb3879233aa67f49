package io.brainstorm.proxy.state;

import java.lang.System.Logger.Level;
import java.time.LocalDate;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * lease or decides the request exactly as without leases, in the same update), and when the state
 * directory's flush thread calls {@link #flush} every {@value #FLUSH_MILLIS} ms: at most one update per key, writing back the spend and, once a lease
 * has not been used for {@value #IDLE_MILLIS} ms, its unused money. {@link #close} writes back
 * every lease.
 *
 * <p><b>Ownership:</b> the reservations this process granted and has not yet ended are kept here,
 * on the heap, by id (positive for exact ones, negative for carved ones): that makes settle and
 * release idempotent. The entry records how much each owner process holds, in reservations and in
 * a lease, which is what a restart needs to release (or count as spent) a dead owner's money.
 *
 * <p><b>Threading:</b> thread-safe. Carving and ending a reservation of a lease is lock-free on the
 * heap; refilling a lease, an exact reservation and a write-back take the entry's lock, as every
 * call did without leases. {@link #flush} runs on the state directory's flush thread, off the event
 * loops; {@link #close} after that thread has stopped.
 */
final class CellBudgetLedger implements BudgetLedger, AutoCloseable {
    static final long FLUSH_MILLIS = 100;
    static final long IDLE_MILLIS = 1_000;

    private static final System.Logger log = System.getLogger(CellBudgetLedger.class.getName());
    private static final Reservation.Verdict[] VERDICTS = Reservation.Verdict.values();
    private static final long LEASED = -1;
    private static final long NO_SLOT = -2;
    private static final long RETIRED = -3;
    private static final int USAGE_TRIES = 8;

    private record LeaseKey(String keyId, LocalDate day) {}

    private final DayStores days;
    private final ProcessOwner owner;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong carvedIds = new AtomicLong();
    private final Set<Long> open = ConcurrentHashMap.newKeySet();
    private final Map<Long, BudgetLease> carved = new ConcurrentHashMap<>();
    private final Map<LeaseKey, BudgetLease> leases = new ConcurrentHashMap<>();
    private final boolean leasing;
    private final ThreadLocal<long[]> readBuffer = ThreadLocal.withInitial(() -> new long[BudgetCells.LENGTH]);
    private final ThreadLocal<long[]> seenBuffer = ThreadLocal.withInitial(() -> new long[4]);

    /** A ledger without leases: one entry update per call. */
    CellBudgetLedger(DayStores days, ProcessOwner owner) {
        this(days, owner, false);
    }

    CellBudgetLedger(DayStores days, ProcessOwner owner, boolean leasing) {
        this.days = days;
        this.owner = owner;
        this.leasing = leasing;
    }

    @Override
    public Reservation reserve(String keyId, LocalDate day, long amountNano, long budgetNano) {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(day, "day");
        if (amountNano < 0 || budgetNano < 0) {
            throw new IllegalArgumentException(
                    "amountNano: " + amountNano + ", budgetNano: " + budgetNano + " (expected: >= 0)");
        }
        if (!leasing) {
            return reserveExact(keyId, day, amountNano, budgetNano, null);
        }
        LeaseKey k = new LeaseKey(keyId, day);
        if (amountNano == 0) {
            return reserveExact(keyId, day, amountNano, budgetNano, leases.get(k));
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            BudgetLease l = leases.computeIfAbsent(k, x -> new BudgetLease(keyId, day));
            BudgetLease.Carved carve = l.tryCarve(amountNano, budgetNano);
            if (carve != null) {
                return carvedFrom(l, carve, amountNano, budgetNano);
            }
            Reservation r = reserveRefilling(l, amountNano, budgetNano);
            if (r != null) {
                return r;
            }
        }
        return reserveExact(keyId, day, amountNano, budgetNano, null);
    }

    private Reservation carvedFrom(BudgetLease l, BudgetLease.Carved carve, long amountNano, long budgetNano) {
        long id = carvedIds.decrementAndGet();
        carved.put(id, l);
        BudgetLease.Seen s = carve.seen();
        BudgetLease.Held before = carve.before();
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
     *
     * @return null when the lease was retired meanwhile (look it up again)
     */
    private @Nullable Reservation reserveRefilling(BudgetLease l, long amountNano, long budgetNano) {
        long[] seen = seenBuffer.get();
        StateStoreException[] full = new StateStoreException[1];
        long code;
        l.beginMove();
        try {
            code = days.forDay(l.day).update(l.keyId, c -> {
                if (l.retired) {
                    return RETIRED;
                }
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
            l.endMove();
        }
        if (code == RETIRED) {
            return null;
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
            // the lease's unwritten spend is spent, its unused money is not held: as without leases
            BudgetLease.Held h = lease == null ? BudgetLease.Held.NONE : lease.held();
            seen[0] = BudgetCells.spent(c) + h.unwrittenNano();
            seen[1] = BudgetCells.reserved(c) - h.avail() - h.unwrittenNano();
            seen[2] = BudgetCells.open(c) + h.carvedCount();
            boolean granted = BudgetCells.reserve(c, owner, amountNano, budgetNano, keyId, day);
            Reservation.Verdict v =
                    granted ? Reservation.Verdict.GRANTED : BudgetCells.refusal(c, amountNano, budgetNano);
            seen[3] = Math.max(0, budgetNano - seen[0] - seen[1] - (granted ? amountNano : 0));
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
        return !leasing ? null : leases.get(new LeaseKey(r.keyId(), r.day()));
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
        BudgetLease l = !leasing ? null : leases.get(new LeaseKey(keyId, day));
        if (l == null) {
            return store.read(keyId, c) ? BudgetCells.usage(c) : DayUsage.ZERO;
        }
        for (int i = 0; i < USAGE_TRIES; i++) {
            // an entry update for the lease moves money between the entry and the lease: read both between two
            long stamp = l.stamp();
            BudgetLease.Held h = l.held();
            DayUsage e = store.read(keyId, c) ? BudgetCells.usage(c) : DayUsage.ZERO;
            if (stamp >= 0 && l.unchanged(stamp)) {
                return withLease(e, h);
            }
        }
        // a mover was preempted in the middle of its update through every try (a starved core): read
        // both under the entry's lock, inside which money moves, rather than return a mix
        DayUsage[] u = {DayUsage.ZERO};
        store.update(keyId, locked -> {
            u[0] = withLease(BudgetCells.usage(locked), l.held());
            return 0;
        });
        return u[0];
    }

    /** The entry's figures with this process's lease as what it stands for (see {@link #usage}). */
    private static DayUsage withLease(DayUsage e, BudgetLease.Held h) {
        return new DayUsage(
                e.spentNano() + h.unwrittenNano(),
                Math.max(0, e.reservedNano() - h.avail() - h.unwrittenNano()),
                e.requests() + h.unwrittenRequests());
    }

    /**
     * Writes back the leases: their unwritten spend, and the unused money of those idle for
     * {@value #IDLE_MILLIS} ms (of every one when {@code all}); forgets leases that hold nothing.
     * At most one entry update per lease.
     */
    void flush(boolean all) {
        long now = System.nanoTime();
        for (BudgetLease l : leases.values()) {
            BudgetLease.Held h = l.held();
            boolean idle = all || now - l.lastUsedNanos >= TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS);
            boolean spent = h.unwrittenNano() != 0 || h.unwrittenRequests() != 0;
            if (!spent && !(idle && (h.avail() != 0 || l.leased == 0))) {
                continue;
            }
            l.beginMove();
            try {
                days.forDay(l.day).update(l.keyId, c -> {
                    if (l.retired) {
                        return 0;
                    }
                    l.writeBack(c, owner, idle);
                    l.saw(c);
                    if (idle && l.leased == 0 && l.held().equals(BudgetLease.Held.NONE)) {
                        // under the entry's lock, so no request refills it meanwhile
                        l.retired = true;
                        leases.remove(new LeaseKey(l.keyId, l.day), l);
                    }
                    return 0;
                });
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "could not write back the budget lease of " + l.keyId + " on " + l.day, e);
            } finally {
                l.endMove();
            }
        }
    }

    /**
     * Writes back every lease (its carved reservations still in flight stay reserved); once the
     * flush thread has stopped.
     */
    @Override
    public void close() {
        if (leasing) {
            flush(true);
        }
    }
}
