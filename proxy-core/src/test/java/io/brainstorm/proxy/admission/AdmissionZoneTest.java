package io.brainstorm.proxy.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.route.RequestFeatures;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A key's budget day runs midnight to midnight in its own time zone. */
class AdmissionZoneTest {

    private static ApiKey key(String name, ZoneId zone) {
        return new ApiKey(
                "key_" + name,
                name,
                "default",
                "0".repeat(64),
                new KeyLimits(1_000_000_000L, 0, 0),
                KeyKind.API,
                List.of(),
                zone,
                Instant.EPOCH,
                null,
                "admin");
    }

    private static RoutePlan plan() {
        return DirectPlans.alpha(10);
    }

    @Test
    void tokyoKeysStartANewBudgetDayAtTokyoMidnightAndUtcKeysAtUtcMidnight() {
        // 14:30 UTC on the 26th is 23:30 in Tokyo
        ManualClock clock = new ManualClock(Instant.parse("2026-11-26T14:30:00Z"));
        StateStore store = StateStore.inMemory();
        Admission admission = new Admission(store.budgets(), store.rates(), clock);
        ApiKey tokyo = key("tokyo", ZoneId.of("Asia/Tokyo"));
        ApiKey utc = key("utc", ZoneOffset.UTC);
        RequestFeatures f = new RequestFeatures(10, 10, false, false, false, false);

        admission.admit(tokyo, plan(), f).settle(1_000);
        admission.admit(utc, plan(), f).settle(1_000);
        assertEquals(LocalDate.parse("2026-11-26"), admission.today(tokyo));
        assertEquals(Instant.parse("2026-11-26T15:00:00Z"), admission.resetsAt(tokyo));
        assertEquals(Instant.parse("2026-11-27T00:00:00Z"), admission.resetsAt(utc));

        clock.advance(Duration.ofMinutes(45)); // 00:15 in Tokyo on the 27th, still the 26th in UTC
        assertEquals(LocalDate.parse("2026-11-27"), admission.today(tokyo));
        assertEquals(0, admission.usage(tokyo).spentNano(), "Tokyo's new day starts empty");
        assertEquals(1_000, admission.usage(utc).spentNano(), "UTC's day goes on");
        assertEquals(Instant.parse("2026-11-27T15:00:00Z"), admission.resetsAt(tokyo));
    }
}
