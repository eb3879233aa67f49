package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.Registry;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's logins (docs/dashboard.md): a session per successful {@code POST /dashboard/login},
 * named by a random 256-bit id that travels only in the {@code br_session} cookie, with its own
 * random CSRF token. Sessions live in memory: a restart logs everybody out.
 *
 * <p>A session ends at {@link #logout}, after {@link #IDLE} without a request, {@link #ABSOLUTE}
 * after its login, and as soon as the admin key behind it is revoked (its tenant deleted): every
 * look-up checks the key in the registry. The super-admin's token cannot change while the process
 * runs, so its sessions only expire. At most {@link #MAX_SESSIONS} live at once; a login beyond
 * that ends the session idle the longest.
 *
 * <p>The token a session was opened with is not kept: only what the registry answered (the
 * {@link AdminPrincipal}, which names the key by its public id). The map is keyed by the id's
 * SHA-256, so a look-up's timing says nothing about ids that exist.
 *
 * <p><b>Threading.</b> Thread-safe and non-blocking (a concurrent map; the registry's look-ups read
 * its snapshot): used on the admin listener's event loops and on the admin thread.
 */
final class DashboardSessions {
    /** The session cookie's name. */
    static final String COOKIE = "br_session";

    static final Duration IDLE = Duration.ofHours(8);
    static final Duration ABSOLUTE = Duration.ofHours(24);
    static final int MAX_SESSIONS = 1000;

    /** One login. {@code lastSeenMillis} moves with each request. */
    static final class Session {
        private final String id;
        private final String csrfToken;
        private final AdminPrincipal principal;
        private final long createdMillis;
        private volatile long lastSeenMillis;

        private Session(String id, String csrfToken, AdminPrincipal principal, long createdMillis) {
            this.id = id;
            this.csrfToken = csrfToken;
            this.principal = principal;
            this.createdMillis = createdMillis;
            this.lastSeenMillis = createdMillis;
        }

        /** The cookie's value: a secret. */
        String id() {
            return id;
        }

        /** What {@code X-CSRF-Token} must carry on a change made with this session. */
        String csrfToken() {
            return csrfToken;
        }

        AdminPrincipal principal() {
            return principal;
        }

        /** Whether {@code header} is this session's CSRF token (constant time). */
        boolean csrfMatches(String header) {
            return header != null
                    && MessageDigest.isEqual(
                            header.getBytes(StandardCharsets.UTF_8), csrfToken.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return "Session[" + principal + "]";
        }
    }

    private final Map<String, Session> byIdHash = new ConcurrentHashMap<>();
    private final Supplier<Registry> registry;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();

    /** @param registry the gateway's registry (null while it starts) */
    DashboardSessions(Supplier<Registry> registry, InstantSource clock) {
        this.registry = registry;
        this.clock = clock;
    }

    /**
     * Opens a session for {@code token}, the admin token or a tenant admin key.
     *
     * @throws ApiError 401 with one message for every wrong token (missing, unknown, revoked, an API
     *                  key…), so the answer tells nothing about which keys exist; 503 while starting
     */
    Session login(String token) {
        Registry r = registry.get();
        if (r == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        AdminPrincipal who;
        try {
            who = r.authenticateAdmin("Bearer " + (token == null ? "" : token));
        } catch (ApiError e) {
            throw ApiError.invalidApiKey("Wrong token (expected: the admin token or a tenant admin key, br_admin_…).");
        }
        long now = clock.millis();
        if (byIdHash.size() >= MAX_SESSIONS) {
            byIdHash.values().removeIf(s -> expired(s, now));
            if (byIdHash.size() >= MAX_SESSIONS) {
                byIdHash.values().stream()
                        .min(Comparator.comparingLong(s -> s.lastSeenMillis))
                        .ifPresent(s -> byIdHash.remove(hash(s.id)));
            }
        }
        Session s = new Session(randomToken(), randomToken(), who, now);
        byIdHash.put(hash(s.id), s);
        return s;
    }

    /**
     * The live session named by the {@code br_session} cookie of a {@code Cookie} header, or null
     * (no header, no such cookie, unknown, expired, or its key revoked). Counts as the session's use.
     */
    @Nullable
    Session fromCookieHeader(String cookieHeader) {
        if (cookieHeader == null || cookieHeader.isEmpty()) {
            return null;
        }
        for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(cookieHeader)) {
            if (COOKIE.equals(c.name())) {
                return find(c.value());
            }
        }
        return null;
    }

    /** The live session with this id, or null; ends it here when it expired or its key was revoked. */
    @Nullable
    Session find(String id) {
        if (id == null || id.isEmpty()) {
            return null;
        }
        String h = hash(id);
        Session s = byIdHash.get(h);
        if (s == null) {
            return null;
        }
        long now = clock.millis();
        if (expired(s, now) || !stillValid(s.principal)) {
            byIdHash.remove(h, s);
            return null;
        }
        s.lastSeenMillis = now;
        return s;
    }

    /** Whether {@code s} is still open (not logged out, expired or revoked), without counting as a use. */
    boolean alive(Session s) {
        return byIdHash.get(hash(s.id)) == s && !expired(s, clock.millis()) && stillValid(s.principal);
    }

    /** Ends the session; false when there was none. */
    boolean logout(Session s) {
        return byIdHash.remove(hash(s.id), s);
    }

    /** Live and not yet swept sessions. */
    int size() {
        return byIdHash.size();
    }

    private boolean expired(Session s, long now) {
        return now - s.lastSeenMillis >= IDLE.toMillis() || now - s.createdMillis >= ABSOLUTE.toMillis();
    }

    /** The super-admin's token cannot change at run time; an admin key can be revoked (or its tenant deleted). */
    private boolean stillValid(AdminPrincipal who) {
        if (who.superAdmin()) {
            return true;
        }
        Registry r = registry.get();
        if (r == null) {
            return false;
        }
        ApiKey key = r.key(who.keyId()).orElse(null);
        return key != null
                && !key.revoked()
                && key.kind() == KeyKind.ADMIN
                && key.tenant().equals(who.tenant());
    }

    private String randomToken() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String hash(String id) {
        return ApiKeys.sha256(id);
    }
}
