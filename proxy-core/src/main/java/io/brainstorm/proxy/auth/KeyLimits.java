package io.brainstorm.proxy.auth;

/**
 * What one API key may spend and send (docs/architecture.md §6).
 *
 * @param dailyBudgetNano USD per day in nano-USD; {@link #UNLIMITED} for no budget
 * @param rpm             requests per minute; 0 for no limit
 * @param tpm             estimated tokens (prompt + completion reserved) per minute; 0 for no limit
 */
public record KeyLimits(long dailyBudgetNano, int rpm, long tpm) {
    public static final long UNLIMITED = Long.MAX_VALUE;
    /** No budget, no rate limits. */
    public static final KeyLimits NONE = new KeyLimits(UNLIMITED, 0, 0);

    public KeyLimits {
        if (dailyBudgetNano < 0 || rpm < 0 || tpm < 0) {
            throw new IllegalArgumentException("limits: budget " + dailyBudgetNano + " nano-USD, rpm " + rpm + ", tpm "
                    + tpm + " (expected: >= 0)");
        }
    }

    public boolean hasBudget() {
        return dailyBudgetNano != UNLIMITED;
    }
}
