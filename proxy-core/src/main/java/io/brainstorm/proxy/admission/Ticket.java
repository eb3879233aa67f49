package io.brainstorm.proxy.admission;

import io.brainstorm.proxy.state.LimitStore;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStoreException;

/**
 * One admitted request's hold on its key's budget: the worst case it may cost, reserved before any
 * provider is called. It ends exactly once: {@link #settle} with what the request cost, or
 * {@link #release} when it cost nothing. Later calls do nothing.
 *
 * <p><b>Threading:</b> used on the request's event loop only.
 */
public final class Ticket {
    private static final System.Logger log = System.getLogger(Ticket.class.getName());
    /** For a key without a budget: nothing is reserved, spend is still recorded. */
    private final LimitStore ledger;

    private final Reservation reservation;
    private final long budgetNano;
    private boolean ended;
    private long remainingNano;

    Ticket(LimitStore ledger, Reservation reservation, long budgetNano) {
        this.ledger = ledger;
        this.reservation = reservation;
        this.budgetNano = budgetNano;
        this.remainingNano = reservation.remainingNano();
    }

    /** Whether the key has a daily budget (else {@link #remainingNano()} means nothing). */
    public boolean budgeted() {
        return budgetNano != io.brainstorm.proxy.auth.KeyLimits.UNLIMITED;
    }

    /** USD left today for this key, in nano-USD: after the reservation until the ticket ends, after the charge since. */
    public long remainingNano() {
        return Math.max(0, remainingNano);
    }

    /** The worst case reserved. */
    public long reservedNano() {
        return reservation.amountNano();
    }

    /** Charges what the request cost and frees the rest of the reservation. */
    public void settle(long actualNano) {
        if (ended) {
            return;
        }
        ended = true;
        remainingNano = reservation.remainingNano() + reservation.amountNano() - actualNano;
        try {
            ledger.settle(reservation, actualNano);
        } catch (StateStoreException e) {
            // the answer is out already; the failure must not break its end, but it must be seen
            log.log(
                    System.Logger.Level.ERROR,
                    "settling reservation " + reservation.id() + " of key " + reservation.keyId() + " (" + actualNano
                            + " nano-USD) failed",
                    e);
        }
    }

    /** Frees the reservation: the request cost nothing. */
    public void release() {
        if (ended) {
            return;
        }
        ended = true;
        remainingNano = reservation.remainingNano() + reservation.amountNano();
        try {
            ledger.release(reservation);
        } catch (StateStoreException e) {
            log.log(
                    System.Logger.Level.ERROR,
                    "releasing reservation " + reservation.id() + " of key " + reservation.keyId() + " failed",
                    e);
        }
    }

    public boolean ended() {
        return ended;
    }
}
