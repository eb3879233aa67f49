package io.brainstorm.proxy.route;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint's provider keys that the provider turned away (docs/architecture.md §7): 401/403/429 belong to
 * the credential that got them — with BYOK, one tenant's own key — never to the endpoint as a
 * whole, so they are kept here per key and not in the shared {@link CircuitBreaker}.
 *
 * <ul>
 *   <li><b>429</b> ({@link Kind#RATE_LIMITED}): the key cools down on this endpoint for the
 *       provider's {@code Retry-After}, at most {@link CircuitConfig#maxCoolDown()}, or
 *       {@link CircuitConfig#openBase()} without the header. While it cools, routing does not
 *       send it there; when every endpoint of a request is cooling for the caller's keys the
 *       answer is 503 {@code no_healthy_endpoint} with {@code Retry-After}.</li>
 *   <li><b>401/403</b> ({@link Kind#REJECTED}): the key is set aside on this endpoint for
 *       {@link CircuitConfig#openBase()}: routing tries it last, after the endpoints where the
 *       key works, and tries it anyway when there is nothing else (the client then sees the
 *       provider's refusal, which names the key as the problem).</li>
 * </ul>
 * A hold never shortens one already running for the same key.
 *
 * <p><b>Keys.</b> A credential is known by its {@link #fingerprint}: the first 8 bytes of its
 * SHA-256, in hex. The secret itself is not kept.
 *
 * <p><b>Threading:</b> thread-safe. {@link #isEmpty()} is the hot path's only cost while no key is
 * held (nearly always); expired holds are dropped when read and when a new one is added.
 */
public final class CredentialHolds {
    /** Why a key is held. */
    public enum Kind {
        /** The provider answered 429: cooling down under its {@code Retry-After}. */
        RATE_LIMITED,
        /** The provider answered 401 or 403: the key is set aside, tried last. */
        REJECTED
    }

    /**
     * One held key.
     *
     * @param credential  the key's {@link #fingerprint}
     * @param kind        why it is held
     * @param untilMillis when the hold ends (epoch ms)
     * @param reason      what the provider said, for read-outs
     */
    public record Hold(String credential, Kind kind, long untilMillis, String reason) {}

    /** Holds kept at most; beyond it, a new one is recorded only once expired ones are dropped. */
    static final int MAX_HOLDS = 65_536;

    private static final HexFormat HEX = HexFormat.of();

    private final long openBaseMillis;
    private final long maxCoolDownMillis;
    private final ConcurrentHashMap<String, Hold> holds = new ConcurrentHashMap<>();

    public CredentialHolds(CircuitConfig config) {
        this.openBaseMillis = config.openBase().toMillis();
        this.maxCoolDownMillis = config.maxCoolDown().toMillis();
    }

    /** A provider key's short name: the first 8 bytes of its SHA-256 in hex; "" for null. */
    public static String fingerprint(@Nullable String providerKey) {
        if (providerKey == null) {
            return "";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(providerKey.getBytes(StandardCharsets.UTF_8));
            return HEX.formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** True when no key is held (or the holds left have not been noticed to expire yet). */
    public boolean isEmpty() {
        return holds.isEmpty();
    }

    /** The hold on {@code credential} at {@code nowMillis}, or null when it has none. */
    public @Nullable Hold hold(String credential, long nowMillis) {
        Hold h = holds.get(credential);
        if (h == null) {
            return null;
        }
        if (nowMillis >= h.untilMillis) {
            holds.remove(credential, h);
            return null;
        }
        return h;
    }

    /**
     * The provider answered 429 to {@code credential}: it cools down for {@code retryAfterMillis},
     * capped at {@code maxCoolDown}, or {@code openBase} without a {@code Retry-After} ({@code -1}).
     */
    public void rateLimited(String credential, long nowMillis, long retryAfterMillis) {
        if (retryAfterMillis < -1) {
            throw new IllegalArgumentException(
                    "retryAfterMillis: " + retryAfterMillis + " (expected: >= 0, or -1 for none)");
        }
        long coolDown = retryAfterMillis < 0 ? openBaseMillis : Math.min(retryAfterMillis, maxCoolDownMillis);
        put(
                new Hold(
                        credential,
                        Kind.RATE_LIMITED,
                        nowMillis + coolDown,
                        "rate limited: cooling down " + coolDown + " ms"
                                + (retryAfterMillis < 0
                                        ? " (no Retry-After)"
                                        : " (Retry-After " + retryAfterMillis + " ms)")),
                nowMillis);
    }

    /** The provider answered {@code status} (401 or 403) to {@code credential}: set aside for {@code openBase}. */
    public void rejected(String credential, long nowMillis, int status) {
        put(
                new Hold(
                        credential,
                        Kind.REJECTED,
                        nowMillis + openBaseMillis,
                        "HTTP " + status + ": the provider rejected the key; tried last for " + openBaseMillis + " ms"),
                nowMillis);
    }

    /** The holds running at {@code nowMillis}, by fingerprint. */
    public List<Hold> snapshot(long nowMillis) {
        List<Hold> out = new ArrayList<>();
        for (Map.Entry<String, Hold> e : holds.entrySet()) {
            if (nowMillis < e.getValue().untilMillis) {
                out.add(e.getValue());
            }
        }
        out.sort(Comparator.comparing(Hold::credential));
        return out;
    }

    private void put(Hold h, long nowMillis) {
        if (holds.size() >= MAX_HOLDS) {
            holds.values().removeIf(x -> nowMillis >= x.untilMillis);
            if (holds.size() >= MAX_HOLDS && !holds.containsKey(h.credential)) {
                return;
            }
        }
        holds.merge(
                h.credential,
                h,
                (old, now) -> nowMillis < old.untilMillis && old.untilMillis >= now.untilMillis ? old : now);
    }
}
