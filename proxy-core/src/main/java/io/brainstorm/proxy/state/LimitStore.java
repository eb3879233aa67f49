package io.brainstorm.proxy.state;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Where admission counts each key's rate windows and daily budget (docs/architecture.md §6): the
 * state store's {@link BudgetLedger} and {@link RateWindows} ({@link #local}), whose answers are
 * ready at once, or Redis, shared by every gateway, whose answers come later.
 *
 * <p>The semantics are those of {@link BudgetLedger} and {@link RateWindows}; the futures complete
 * with what they would return. {@link #settle} and {@link #release} never wait: a store that
 * cannot write one at once keeps it and writes it later, in order.
 *
 * <p><b>Threading:</b> thread-safe; called on event loops, so no call blocks. A future may complete
 * on another thread (Lettuce's); callers move their work back to their own.
 *
 * <p><b>Errors:</b> {@link StateStoreException} (thrown, or failing the future) when the store
 * cannot decide: a full map, or Redis unreachable or too slow.
 */
public interface LimitStore {

    /** {@link RateWindows#tryAcquire}: 0 when counted, else the millis until the limit frees up. */
    CompletionStage<Long> acquire(String keyId, long nowMillis, int rpm, long tokens, long tpm);

    /**
     * {@link BudgetLedger#reserve} on the key's day, which ends at the next midnight in {@code zone}. A
     * key without a budget ({@code budgetNano} {@code KeyLimits.UNLIMITED}) is always granted.
     */
    CompletionStage<Reservation> reserve(String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano);

    /**
     * What {@link #admit} decided: the millis to wait when a rate limit refused (the reservation
     * null), else 0 and the budget's verdict.
     */
    record Admitted(long waitMillis, @Nullable Reservation reservation) {}

    /**
     * {@link #acquire} and, when it counted the request, {@link #reserve}: a store may do both in
     * one step (Redis: one round trip). As the two apart, a request the budget refuses stays counted
     * in its minute.
     */
    default CompletionStage<Admitted> admit(
            String keyId,
            long nowMillis,
            int rpm,
            long tokens,
            long tpm,
            LocalDate day,
            ZoneId zone,
            long amountNano,
            long budgetNano) {
        CompletionStage<Long> acquired = rpm > 0 || tpm > 0
                ? acquire(keyId, nowMillis, rpm, tokens, tpm)
                : CompletableFuture.completedFuture(0L);
        return acquired.thenCompose(wait -> wait > 0
                ? CompletableFuture.completedFuture(new Admitted(wait, null))
                : reserve(keyId, day, zone, amountNano, budgetNano).thenApply(r -> new Admitted(0, r)));
    }

    /** {@link BudgetLedger#settle}; never waits. */
    void settle(Reservation r, long actualNano);

    /** {@link BudgetLedger#release}; never waits. */
    void release(Reservation r);

    /** {@link BudgetLedger#usage}, spend this gateway has not written yet included. */
    CompletionStage<DayUsage> usage(String keyId, LocalDate day);

    /** The state store's ledger and windows: every answer is ready when the call returns. */
    static LimitStore local(BudgetLedger budgets, RateWindows rates) {
        return new LimitStore() {
            @Override
            public CompletionStage<Long> acquire(String keyId, long nowMillis, int rpm, long tokens, long tpm) {
                return CompletableFuture.completedFuture(rates.tryAcquire(keyId, nowMillis, rpm, tokens, tpm));
            }

            @Override
            public CompletionStage<Reservation> reserve(
                    String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano) {
                return CompletableFuture.completedFuture(budgets.reserve(keyId, day, amountNano, budgetNano));
            }

            @Override
            public void settle(Reservation r, long actualNano) {
                budgets.settle(r, actualNano);
            }

            @Override
            public void release(Reservation r) {
                budgets.release(r);
            }

            @Override
            public CompletionStage<DayUsage> usage(String keyId, LocalDate day) {
                return CompletableFuture.completedFuture(budgets.usage(keyId, day));
            }
        };
    }
}
