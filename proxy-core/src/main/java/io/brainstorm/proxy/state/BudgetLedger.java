package io.brainstorm.proxy.state;

import java.time.LocalDate;

/**
 * Per-key daily budgets, reserve-then-settle (docs/architecture.md §6). Before dispatch the request path
 * {@link #reserve}s its worst case; after the answer it {@link #settle}s the actual cost (or
 * {@link #release}s on a path that cost nothing). Money is integer nano-USD.
 *
 * <p>The invariant: {@code spent + reserved} of a (key, day) never exceeds the budget through
 * reservations, however many threads or processes race. Only a settle whose actual cost exceeds its
 * reservation can push spent past the budget (the provider charged it; it is recorded, never
 * hidden).
 *
 * <p><b>Threading:</b> thread-safe; the Chronicle implementation is also safe across processes
 * sharing a state directory. No call blocks for longer than a map entry's update lock is held
 * (well under a microsecond, unless another process died holding it).
 *
 * <p><b>Errors:</b> {@link StateStoreException} when the store cannot take a new entry (a full
 * map, too many processes holding reservations on one entry); arguments out of range throw
 * {@link IllegalArgumentException}.
 */
public interface BudgetLedger {

    /**
     * Atomically reserves {@code amountNano} on (keyId, day) if
     * {@code spent + reserved + amountNano <= budgetNano}; records the reservation with this process
     * as owner. Never blocks for long.
     *
     * <p>A refusal says why, decided in the same atomic update as the attempt:
     * {@link Reservation.Verdict#EXCEEDED} when {@code spent + amountNano > budgetNano},
     * {@link Reservation.Verdict#BUSY} when only the reservations in flight are in the way.
     */
    Reservation reserve(String keyId, LocalDate day, long amountNano, long budgetNano);

    /**
     * Ends a granted reservation: spent += actualNano, reserved -= its amount, requests += 1;
     * removes the reservation record. Idempotent per reservation; a refused reservation is ignored.
     */
    void settle(Reservation r, long actualNano);

    /** Ends a granted reservation without charge (reserved -= amount). Idempotent. */
    void release(Reservation r);

    /** What (keyId, day) has: spent, reserved, requests (zeros when nothing). */
    DayUsage usage(String keyId, LocalDate day);
}
