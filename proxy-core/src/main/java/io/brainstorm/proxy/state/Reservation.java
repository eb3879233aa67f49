package io.brainstorm.proxy.state;

import java.time.LocalDate;

/**
 * The answer of {@link BudgetLedger#reserve}: a granted reservation to settle or release exactly
 * once (again is a no-op), or a refusal that says why.
 *
 * <p>{@code spentNano}, {@code heldNano} and {@code heldCount} are what the entry held when the
 * ledger decided, read under the same lock as the decision (before this reservation was added), so
 * a refusal's verdict and the figures that explain it cannot disagree.
 *
 * @param id            unique within the process that reserved; 0 for a refusal
 * @param amountNano    what was asked for, in nano-USD
 * @param verdict       granted, or why not
 * @param remainingNano budget − spent − reserved after this call, never below 0 (for
 *                      {@code X-BR-Budget-Remaining} and the refusal's message)
 * @param spentNano     settled spend of the day
 * @param heldNano      reserved by other requests in flight (of every process sharing the state)
 * @param heldCount     how many reservations {@code heldNano} is
 */
public record Reservation(
        long id,
        String keyId,
        LocalDate day,
        long amountNano,
        Verdict verdict,
        long remainingNano,
        long spentNano,
        long heldNano,
        long heldCount) {

    /** What {@link BudgetLedger#reserve} decided. */
    public enum Verdict {
        /** spent + held + amount ≤ budget: reserved. */
        GRANTED,
        /**
         * spent + amount ≤ budget &lt; spent + held + amount: refused only because of reservations in
         * flight; it may fit once they end (they usually settle for far less than they hold).
         */
        BUSY,
        /** spent + amount > budget: the day's settled spend leaves no room for it. */
        EXCEEDED
    }

    /** Whether it fitted into the budget. */
    public boolean granted() {
        return verdict == Verdict.GRANTED;
    }
}
