package io.brainstorm.proxy.state;

/**
 * The arithmetic of one (key, day) budget entry, on its flat {@code long[]} form: what both ledgers
 * run under their entry lock, so the heap and the Chronicle ledger cannot differ.
 *
 * <p>Layout ({@value #LENGTH} longs, {@value #BYTES} bytes): spent, requests, then
 * {@value #OWNER_SLOTS} owner slots of (pid, start millis, reserved, open reservations). Reserved
 * money is kept per owner process rather than per reservation: an entry stays fixed-size and one
 * lock covers the whole change, and releasing a dead owner's reservations is one slot cleared. A
 * slot whose owner holds nothing is free for another process.
 *
 * <p>A process that leases money ({@link BudgetLease}) keeps the lease in a second slot of its own,
 * marked by {@link #LEASE_PID} in the pid, with no open reservations: it holds the lease's unused
 * money, the reservations carved from it and their spend not yet written here, which cannot be
 * told apart, so a dead owner's lease is counted as spent ({@link #releaseDead}), never released.
 */
final class BudgetCells {
    static final int OWNER_SLOTS = 8;
    static final int LENGTH = 2 + 4 * OWNER_SLOTS;
    static final int BYTES = LENGTH * Long.BYTES;
    /** Set in the pid of a lease slot; no pid reaches it. */
    static final long LEASE_PID = 1L << 62;

    private static final int SPENT = 0;
    private static final int REQUESTS = 1;
    private static final int SLOTS = 2;
    private static final int PID = 0;
    private static final int START = 1;
    private static final int RESERVED = 2;
    private static final int OPEN = 3;

    private BudgetCells() {}

    static long spent(long[] c) {
        return c[SPENT];
    }

    static long requests(long[] c) {
        return c[REQUESTS];
    }

    static long reserved(long[] c) {
        long sum = 0;
        for (int s = SLOTS; s < LENGTH; s += 4) {
            sum += c[s + RESERVED];
        }
        return sum;
    }

    /** Reservations not yet ended, of every owner. */
    static long open(long[] c) {
        long sum = 0;
        for (int s = SLOTS; s < LENGTH; s += 4) {
            sum += c[s + OPEN];
        }
        return sum;
    }

    static DayUsage usage(long[] c) {
        return new DayUsage(c[SPENT], reserved(c), c[REQUESTS]);
    }

    /** budget − spent − reserved, never below 0. */
    static long remaining(long[] c, long budgetNano) {
        return Math.max(0, budgetNano - c[SPENT] - reserved(c));
    }

    /**
     * Adds {@code amountNano} to the owner's slot if it fits into the budget.
     *
     * @return whether it was granted (and {@code c} changed)
     * @throws StateStoreException when the entry has no slot left for another owner process
     */
    static boolean reserve(long[] c, ProcessOwner owner, long amountNano, long budgetNano, String keyId, Object day) {
        if (amountNano > budgetNano - c[SPENT] - reserved(c)) {
            return false;
        }
        int slot = slotOf(c, owner);
        if (slot < 0) {
            slot = claim(c, owner);
            if (slot < 0) {
                throw new StateStoreException(keyId + " on " + day + ": " + OWNER_SLOTS
                        + " processes already hold reservations (expected: at most " + OWNER_SLOTS
                        + " gateway processes per state directory)");
            }
        }
        c[slot + RESERVED] += amountNano;
        c[slot + OPEN] += 1;
        return true;
    }

    /**
     * Why {@link #reserve} refused {@code amountNano}, judged on the same cells under the same lock:
     * {@link Reservation.Verdict#EXCEEDED} when the settled spend alone leaves no room for it (no
     * wait will help today), {@link Reservation.Verdict#BUSY} when it would fit but for the money
     * reservations in flight hold (they end when their requests do).
     */
    static Reservation.Verdict refusal(long[] c, long amountNano, long budgetNano) {
        return amountNano > budgetNano - c[SPENT] ? Reservation.Verdict.EXCEEDED : Reservation.Verdict.BUSY;
    }

    /** Ends one reservation of {@code owner}: its amount leaves reserved and {@code actualNano} (≥ 0) joins spent. */
    static void settle(long[] c, ProcessOwner owner, long amountNano, long actualNano) {
        unreserve(c, owner, amountNano);
        c[SPENT] += actualNano;
        c[REQUESTS] += 1;
    }

    /** Ends one reservation of {@code owner} without charge. */
    static void release(long[] c, ProcessOwner owner, long amountNano) {
        unreserve(c, owner, amountNano);
    }

    private static void unreserve(long[] c, ProcessOwner owner, long amountNano) {
        int slot = slotOf(c, owner);
        if (slot < 0) {
            // released at another process's open because this one looked dead: nothing left to return
            return;
        }
        c[slot + RESERVED] = Math.max(0, c[slot + RESERVED] - amountNano);
        c[slot + OPEN] = Math.max(0, c[slot + OPEN] - 1);
        if (c[slot + OPEN] == 0) {
            clear(c, slot);
        }
    }

    /**
     * Clears the slots of owners that are no longer alive: a reservation slot's money is released, a
     * lease slot's is counted as spent (it may be spend the owner had not yet written).
     *
     * @return {released nano-USD, released reservations, lease nano-USD counted as spent}; zeros
     *     when nothing changed
     */
    static long[] releaseDead(long[] c, java.util.function.Predicate<ProcessOwner> alive) {
        long amount = 0;
        long count = 0;
        long charged = 0;
        for (int s = SLOTS; s < LENGTH; s += 4) {
            if (c[s + OPEN] == 0 && c[s + RESERVED] == 0) {
                continue;
            }
            boolean lease = (c[s + PID] & LEASE_PID) != 0;
            if (!alive.test(new ProcessOwner(c[s + PID] & ~LEASE_PID, c[s + START]))) {
                if (lease) {
                    charged += c[s + RESERVED];
                    c[SPENT] += c[s + RESERVED];
                } else {
                    amount += c[s + RESERVED];
                    count += c[s + OPEN];
                }
                clear(c, s);
            }
        }
        return new long[] {amount, count, charged};
    }

    /** What {@code owner}'s lease slot holds (every lease of that process on this entry). */
    static long leased(long[] c, ProcessOwner owner) {
        int slot = slotOf(c, leaseOwner(owner));
        return slot < 0 ? 0 : c[slot + RESERVED];
    }

    /**
     * Moves a lease's written-back part: {@code spentNano} (≥ 0) of settled spend over {@code requests}
     * requests joins spent, and the lease slot shrinks by {@code spentNano + returnedNano} (grows when
     * that is negative: a settle above its reservation overdrew the lease), never below 0.
     */
    static void writeBack(long[] c, ProcessOwner owner, long spentNano, long requests, long returnedNano) {
        c[SPENT] += spentNano;
        c[REQUESTS] += requests;
        long change = spentNano + returnedNano;
        if (change == 0) {
            return;
        }
        ProcessOwner lease = leaseOwner(owner);
        int slot = slotOf(c, lease);
        if (slot < 0 && change < 0) {
            slot = claim(c, lease);
        }
        if (slot >= 0) {
            c[slot + RESERVED] = Math.max(0, c[slot + RESERVED] - change);
            if (c[slot + RESERVED] == 0) {
                clear(c, slot);
            }
        }
    }

    /**
     * Adds {@code amountNano} to {@code owner}'s lease slot if it fits into the budget and a slot is
     * free (a lease is never worth failing a request for).
     *
     * @return whether it was granted
     */
    static boolean lease(long[] c, ProcessOwner owner, long amountNano, long budgetNano) {
        if (amountNano <= 0 || amountNano > budgetNano - c[SPENT] - reserved(c)) {
            return false;
        }
        ProcessOwner lease = leaseOwner(owner);
        int slot = slotOf(c, lease);
        if (slot < 0) {
            slot = claim(c, lease);
            if (slot < 0) {
                return false;
            }
        }
        c[slot + RESERVED] += amountNano;
        return true;
    }

    private static ProcessOwner leaseOwner(ProcessOwner owner) {
        return new ProcessOwner(owner.pid() | LEASE_PID, owner.startMillis());
    }

    private static int claim(long[] c, ProcessOwner owner) {
        int slot = freeSlot(c);
        if (slot >= 0) {
            c[slot + PID] = owner.pid();
            c[slot + START] = owner.startMillis();
        }
        return slot;
    }

    private static int slotOf(long[] c, ProcessOwner owner) {
        for (int s = SLOTS; s < LENGTH; s += 4) {
            if (c[s + PID] == owner.pid()
                    && c[s + START] == owner.startMillis()
                    && (c[s + OPEN] != 0 || c[s + RESERVED] != 0)) {
                return s;
            }
        }
        return -1;
    }

    private static int freeSlot(long[] c) {
        for (int s = SLOTS; s < LENGTH; s += 4) {
            if (c[s + OPEN] == 0 && c[s + RESERVED] == 0) {
                return s;
            }
        }
        return -1;
    }

    private static void clear(long[] c, int slot) {
        c[slot + PID] = 0;
        c[slot + START] = 0;
        c[slot + RESERVED] = 0;
        c[slot + OPEN] = 0;
    }
}
