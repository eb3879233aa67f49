package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Provider keys an endpoint turned away, held per key, with the default settings (open 5 s, cool-down at most 5 min). */
class CredentialHoldsTest {
    private static final long T0 = 1_700_000_000_000L;
    private final CredentialHolds holds = new CredentialHolds(CircuitConfig.DEFAULTS);
    private final String acme = CredentialHolds.fingerprint("sk-acme-openai-AAAAAAAAAAAAAAAAAAAAAAAA");

    @Test
    void aKeyIsKnownByAShortHashNotBySecret() {
        assertEquals(16, acme.length());
        assertFalse(acme.contains("acme"), acme);
        assertEquals(acme, CredentialHolds.fingerprint("sk-acme-openai-AAAAAAAAAAAAAAAAAAAAAAAA"));
        assertFalse(acme.equals(CredentialHolds.fingerprint("sk-acme-openai-AAAAAAAAAAAAAAAAAAAAAAAB")));
    }

    @Test
    void a429HoldsForItsRetryAfterCappedAndOpenBaseWithout() {
        holds.rateLimited(acme, T0, 12_000);
        assertEquals(T0 + 12_000, holds.hold(acme, T0).untilMillis());
        assertNull(holds.hold(acme, T0 + 12_000));
        assertTrue(holds.isEmpty(), "an expired hold is dropped when read");

        holds.rateLimited(acme, T0, Duration.ofHours(1).toMillis());
        assertEquals(T0 + Duration.ofMinutes(5).toMillis(), holds.hold(acme, T0).untilMillis(), "capped at 5 min");
        holds.rateLimited(acme, T0 + 1_000, -1);
        assertEquals(
                T0 + Duration.ofMinutes(5).toMillis(),
                holds.hold(acme, T0).untilMillis(),
                "a shorter hold never replaces a longer one");

        CredentialHolds other = new CredentialHolds(CircuitConfig.DEFAULTS);
        other.rateLimited(acme, T0, -1);
        assertEquals(T0 + 5_000, other.hold(acme, T0).untilMillis(), "no Retry-After: the open base time");
        assertEquals(
                "retryAfterMillis: -2 (expected: >= 0, or -1 for none)",
                assertThrows(IllegalArgumentException.class, () -> other.rateLimited(acme, T0, -2))
                        .getMessage());
    }

    @Test
    void a401SetsTheKeyAsideForTheOpenBaseTime() {
        holds.rejected(acme, T0, 401);
        CredentialHolds.Hold h = holds.hold(acme, T0 + 4_999);
        assertEquals(CredentialHolds.Kind.REJECTED, h.kind());
        assertTrue(h.reason().startsWith("HTTP 401"), h.reason());
        assertNull(holds.hold(acme, T0 + 5_000));
        assertEquals(0, holds.snapshot(T0 + 5_000).size());
    }
}
