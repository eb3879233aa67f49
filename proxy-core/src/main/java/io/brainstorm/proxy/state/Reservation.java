package io.brainstorm.proxy.state;

import java.time.LocalDate;

/**
 * The answer of {@link BudgetLedger#reserve}: a granted reservation to settle or release exactly
 * once (again is a no-op), or a refusal.
 *
 * @param id            unique within the process that reserved; 0 for a refusal
 * @param amountNano    what was asked for, in nano-USD
 * @param granted       whether it fitted into the budget
 * @param remainingNano budget − spent − reserved after this call, never below 0 (for
 *                      {@code X-BR-Budget-Remaining} and the 402 message)
 */
public record Reservation(long id, String keyId, LocalDate day, long amountNano, boolean granted, long remainingNano) {
}
