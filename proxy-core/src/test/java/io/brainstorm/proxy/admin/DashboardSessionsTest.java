package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.testing.ManualClock;
import io.brainstorm.proxy.testing.TestRegistries;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link DashboardSessions} on a clock the test moves: expiry, the cap, revocation. */
class DashboardSessionsTest {
    private final ManualClock clock = new ManualClock();
    private final Registry registry =
            Registry.inMemory(TestRegistries.bootstrap(List.of(), List.of(), Set.of()), clock);
    private final DashboardSessions sessions = new DashboardSessions(() -> registry, clock);

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void anIdleSessionEndsAfterEightHoursAndAnyAfterADay() {
        DashboardSessions.Session s = sessions.login(TestRegistries.ADMIN_TOKEN);
        clock.advance(Duration.ofHours(8).minusSeconds(1));
        assertSame(s, sessions.find(s.id()), "used just in time: renewed");
        for (int i = 1; i <= 2; i++) {
            clock.advance(Duration.ofHours(7));
            assertSame(s, sessions.find(s.id()), "in use for " + (8 + 7 * i) + " h");
        }
        clock.advance(Duration.ofHours(3)); // 25 h after login, 3 h after the last use
        assertNull(sessions.find(s.id()), "at most a day, however busy");

        DashboardSessions.Session idle = sessions.login(TestRegistries.ADMIN_TOKEN);
        clock.advance(DashboardSessions.IDLE);
        assertNull(sessions.find(idle.id()));
        assertEquals(0, sessions.size(), "expired sessions are forgotten when found");
    }

    @Test
    void theOldestIdleSessionMakesRoomAtTheCap() {
        DashboardSessions.Session first = sessions.login(TestRegistries.ADMIN_TOKEN);
        clock.advanceMillis(1);
        DashboardSessions.Session second = sessions.login(TestRegistries.ADMIN_TOKEN);
        for (int i = 2; i < DashboardSessions.MAX_SESSIONS; i++) {
            clock.advanceMillis(1);
            sessions.login(TestRegistries.ADMIN_TOKEN);
        }
        sessions.find(first.id()); // the first is used again: the second is now idle the longest
        sessions.login(TestRegistries.ADMIN_TOKEN);
        assertEquals(DashboardSessions.MAX_SESSIONS, sessions.size());
        assertNotNull(sessions.find(first.id()));
        assertNull(sessions.find(second.id()));
    }

    @Test
    void aRevokedAdminKeyOrADeletedTenantEndsItsSessions() {
        registry.createTenant("acme", null);
        Registry.Created key =
                registry.createKey("acme", new Registry.KeySpec("ops", KeyKind.ADMIN, KeyLimits.NONE, List.of(), null));
        DashboardSessions.Session s = sessions.login(key.secret());
        assertEquals("acme", s.principal().tenant());
        assertSame(s, sessions.fromCookieHeader("other=1; br_session=" + s.id()));
        registry.revokeKey(key.key().id());
        assertNull(sessions.find(s.id()));

        Registry.Created key2 = registry.createKey(
                "acme", new Registry.KeySpec("ops2", KeyKind.ADMIN, KeyLimits.NONE, List.of(), null));
        DashboardSessions.Session s2 = sessions.login(key2.secret());
        registry.deleteTenant("acme");
        assertNull(sessions.find(s2.id()));
        assertThrows(ApiError.class, () -> sessions.login(key2.secret()));
    }

    @Test
    void aCsrfTokenMatchesItsOwnSessionOnly() {
        DashboardSessions.Session a = sessions.login(TestRegistries.ADMIN_TOKEN);
        DashboardSessions.Session b = sessions.login(TestRegistries.ADMIN_TOKEN);
        assertEquals(true, a.csrfMatches(a.csrfToken()));
        assertEquals(false, a.csrfMatches(b.csrfToken()));
        assertEquals(false, a.csrfMatches(null));
        assertEquals(false, a.csrfMatches(""));
    }
}
