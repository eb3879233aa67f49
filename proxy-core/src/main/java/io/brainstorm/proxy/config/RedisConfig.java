package io.brainstorm.proxy.config;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The {@code redis:} section, used with {@code state_store: redis} (docs/scale-out.md): where the
 * Redis (or Valkey) that every gateway of a deployment shares is, and how the gateway treats it.
 *
 * @param url           {@code redis://host:port/db} or {@code rediss://} for TLS; a password in the
 *                      URL is allowed but {@code password} keeps it out of the file
 * @param password      the {@code AUTH} password (usually {@code ${REDIS_PASSWORD}}); null when none
 * @param username      the ACL user name; null for the default user
 * @param keyPrefix     put before every key the gateway writes, so one Redis can serve several
 *                      deployments; no braces (they would change the Cluster hash tags)
 * @param timeout       every command's timeout: a budget or rate check that takes longer fails as
 *                      Redis being unavailable; bounded well below a request's deadline
 * @param connectTimeout a (re)connect's TCP and TLS handshake
 * @param startupWait   how long a starting gateway waits for Redis before it gives up
 * @param failOpen      {@code on_unavailable: open}: while Redis cannot be reached, keys with a
 *                      budget or rate limit are served without them (logged once a minute,
 *                      counted in {@code /metrics}); false ({@code closed}, the default): they get
 *                      503 {@code state_unavailable}
 * @param holdTtl       how long a budget hold lives unless its request ends it: longer than any
 *                      request runs; null: the longest provider {@code total} timeout plus a minute
 */
public record RedisConfig(
        String url,
        @Nullable String password,
        @Nullable String username,
        String keyPrefix,
        Duration timeout,
        Duration connectTimeout,
        Duration startupWait,
        boolean failOpen,
        @Nullable Duration holdTtl) {

    public static final String DEFAULT_PREFIX = "br:";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(1000);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_STARTUP_WAIT = Duration.ofSeconds(30);

    public RedisConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        if (keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("keyPrefix: \"" + keyPrefix + "\" (expected: no braces)");
        }
    }

    /** A local Redis with the defaults: for tests. */
    public static RedisConfig of(String url) {
        return new RedisConfig(
                url,
                null,
                null,
                DEFAULT_PREFIX,
                DEFAULT_TIMEOUT,
                DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_STARTUP_WAIT,
                false,
                null);
    }

    /** The same with another key prefix. */
    public RedisConfig withPrefix(String prefix) {
        return new RedisConfig(
                url, password, username, prefix, timeout, connectTimeout, startupWait, failOpen, holdTtl);
    }

    /** The same failing open ({@code true}) or closed. */
    public RedisConfig withFailOpen(boolean open) {
        return new RedisConfig(url, password, username, keyPrefix, timeout, connectTimeout, startupWait, open, holdTtl);
    }

    /** The same with a hold lifetime. */
    public RedisConfig withHoldTtl(@Nullable Duration ttl) {
        return new RedisConfig(url, password, username, keyPrefix, timeout, connectTimeout, startupWait, failOpen, ttl);
    }

    /** The URL without its password, for logs and read-outs. */
    public String safeUrl() {
        int at = url.indexOf('@');
        int scheme = url.indexOf("://");
        return at > 0 && scheme > 0 && at > scheme ? url.substring(0, scheme + 3) + "***" + url.substring(at) : url;
    }
}
