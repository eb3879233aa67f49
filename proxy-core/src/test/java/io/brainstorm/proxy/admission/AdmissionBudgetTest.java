package io.brainstorm.proxy.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.route.RequestFeatures;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.testing.ManualClock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A budget refusal says what happened: 429 {@code budget_busy} with {@code Retry-After} while only
 * requests in flight hold the rest of the day's budget, 402 {@code budget_exceeded} once the
 * settled spend leaves no room for the request's worst case.
 */
class AdmissionBudgetTest {
    private static final RequestFeatures F = new RequestFeatures(10, 100, false, false, false, false);

    private static RoutePlan plan() {
        return DirectPlans.alpha(100);
    }

    @Test
    void aBurstIsBusyWhileItsReservationsAreHeldAndExceededOnceTheSpendIsUsedUp() {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-26T14:30:00Z"));
        Admission admission = new Admission(
                StateStore.inMemory().budgets(), StateStore.inMemory().rates(), clock);
        long worst = Admission.worstCaseNano(plan(), F);
        assertTrue(worst > 0, "sim/alpha has a price");
        long budget = 4 * worst;
        ApiKey key = new ApiKey(
                "key_small",
                "small",
                "default",
                "0".repeat(64),
                new KeyLimits(budget, 0, 0),
                KeyKind.API,
                List.of(),
                ZoneOffset.UTC,
                Instant.EPOCH,
                null,
                "admin");

        List<Ticket> inFlight = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inFlight.add(admission.admit(key, plan(), F));
        }
        ApiError busy = assertThrows(ApiError.class, () -> admission.admit(key, plan(), F));
        assertEquals(429, busy.status().code());
        assertEquals("rate_limit_error", busy.type());
        assertEquals("budget_busy", busy.code());
        assertEquals(1, busy.retryAfterSeconds());
        assertTrue(
                busy.getMessage().contains("$" + Cost.formatUsd(4 * worst) + " of it is held by 4 requests in flight"),
                busy.getMessage());
        assertTrue(busy.getMessage().contains("Retrying shortly will work"), busy.getMessage());

        // each answer costs a tenth of its worst case: the retry fits
        long charged = 0;
        for (Ticket t : inFlight) {
            t.settle(worst / 10);
            charged += worst / 10;
        }
        inFlight.clear();
        while (charged + worst <= budget) {
            admission.admit(key, plan(), F).settle(worst / 2);
            charged += worst / 2;
        }
        ApiError exceeded = assertThrows(ApiError.class, () -> admission.admit(key, plan(), F));
        assertEquals(402, exceeded.status().code());
        assertEquals("insufficient_quota", exceeded.type());
        assertEquals("budget_exceeded", exceeded.code());
        assertEquals(-1, exceeded.retryAfterSeconds());
        assertEquals(
                "This key's daily budget of $" + Cost.formatUsd(budget) + " cannot cover this request: $"
                        + Cost.formatUsd(charged) + " is spent today and this request may cost up to $"
                        + Cost.formatUsd(worst)
                        + ". Lower max_tokens, or wait until the budget resets at 2026-11-27T00:00:00Z.",
                exceeded.getMessage());
        assertEquals(charged, admission.usage(key).spentNano());
        assertTrue(charged <= budget);
    }

    @Test
    void aRequestDearerThanTheWholeBudgetIsExceededEvenWithNothingSpent() {
        Admission admission = new Admission(
                StateStore.inMemory().budgets(), StateStore.inMemory().rates(), new ManualClock());
        long worst = Admission.worstCaseNano(plan(), F);
        ApiKey key = new ApiKey(
                "key_tiny",
                "tiny",
                "default",
                "0".repeat(64),
                new KeyLimits(worst - 1, 0, 0),
                KeyKind.API,
                List.of(),
                null,
                Instant.EPOCH,
                null,
                "admin");
        ApiError e = assertThrows(ApiError.class, () -> admission.admit(key, plan(), F));
        assertEquals("budget_exceeded", e.code());
        assertTrue(e.getMessage().contains("$0.0 is spent today"), e.getMessage());
    }

    @Test
    void theWorstCasePricesThePromptAtItsDearestCacheWrite() {
        // $3 input, $6 one-hour cache write, $15 output per million: 10 prompt tokens written to the
        // cache for an hour and 100 output tokens cost 60,000 + 1,500,000 nano-USD, which the hold covers
        io.brainstorm.proxy.config.Price anthropic = new io.brainstorm.proxy.config.Price(
                3_000_000_000L, 15_000_000_000L, 300_000_000L, 3_750_000_000L, 6_000_000_000L);
        assertEquals(60_000 + 1_500_000, Admission.worstCaseNano(DirectPlans.alpha(100, anthropic), F));
        io.brainstorm.proxy.config.Price openAi =
                new io.brainstorm.proxy.config.Price(3_000_000_000L, 15_000_000_000L, 300_000_000L);
        assertEquals(30_000 + 1_500_000, Admission.worstCaseNano(DirectPlans.alpha(100, openAi), F));
    }
}
