package io.brainstorm.proxy.state;

import java.time.LocalDate;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link BudgetLedger} over one {@link CellStore} per day (a heap map or a Chronicle file per day,
 * so no map ever fills with past days). Each call is one atomic entry update running
 * {@link BudgetCells}.
 *
 * <p><b>Ownership:</b> the reservations this process granted and has not yet ended are kept here,
 * on the heap, by id: that makes settle and release idempotent. The entry itself records how much
 * each owner process holds, which is what a restart needs to release a dead owner's money.
 */
final class CellBudgetLedger implements BudgetLedger {
    private static final Reservation.Verdict[] VERDICTS = Reservation.Verdict.values();

    private final DayStores days;
    private final ProcessOwner owner;
    private final AtomicLong ids = new AtomicLong();
    private final Set<Long> open = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<long[]> readBuffer = ThreadLocal.withInitial(() -> new long[BudgetCells.LENGTH]);
    private final ThreadLocal<long[]> seenBuffer = ThreadLocal.withInitial(() -> new long[4]);

    CellBudgetLedger(DayStores days, ProcessOwner owner) {
        this.days = days;
        this.owner = owner;
    }

    @Override
    public Reservation reserve(String keyId, LocalDate day, long amountNano, long budgetNano) {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(day, "day");
        if (amountNano < 0 || budgetNano < 0) {
            throw new IllegalArgumentException(
                    "amountNano: " + amountNano + ", budgetNano: " + budgetNano + " (expected: >= 0)");
        }
        // what the entry held when the decision was made, read under its lock: {spent, held, count, remaining}
        long[] seen = seenBuffer.get();
        long verdict = days.forDay(day).update(keyId, c -> {
            seen[0] = BudgetCells.spent(c);
            seen[1] = BudgetCells.reserved(c);
            seen[2] = BudgetCells.open(c);
            Reservation.Verdict v = BudgetCells.reserve(c, owner, amountNano, budgetNano, keyId, day)
                    ? Reservation.Verdict.GRANTED
                    : BudgetCells.refusal(c, amountNano, budgetNano);
            seen[3] = BudgetCells.remaining(c, budgetNano);
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
        if (r.granted() && open.remove(r.id())) {
            days.forDay(r.day()).update(r.keyId(), c -> {
                BudgetCells.settle(c, owner, r.amountNano(), actualNano);
                return 0;
            });
        }
    }

    @Override
    public void release(Reservation r) {
        if (r.granted() && open.remove(r.id())) {
            days.forDay(r.day()).update(r.keyId(), c -> {
                BudgetCells.release(c, owner, r.amountNano());
                return 0;
            });
        }
    }

    @Override
    public DayUsage usage(String keyId, LocalDate day) {
        CellStore<String> store = days.forDay(day, false);
        if (store == null) {
            return DayUsage.ZERO;
        }
        long[] c = readBuffer.get();
        return store.read(keyId, c) ? BudgetCells.usage(c) : DayUsage.ZERO;
    }
}
