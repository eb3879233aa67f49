package io.brainstorm.proxy.config;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * {@code state_store}: where budgets, rate windows, learning and the answers kept for feedback
 * live, and (with {@code redis}) the tenants and keys too.
 *
 * @param kind  files (Chronicle Map files in {@code state_dir}, shared by the processes of a
 *              host), memory (the heap, lost at exit) or redis (shared by every gateway that
 *              uses the same Redis)
 * @param redis the {@code redis:} section; set exactly when {@code kind} is redis
 */
public record StateStoreConfig(Kind kind, @Nullable RedisConfig redis) {
    public static final StateStoreConfig FILES = new StateStoreConfig(Kind.FILES, null);
    public static final StateStoreConfig MEMORY = new StateStoreConfig(Kind.MEMORY, null);

    public enum Kind {
        FILES,
        MEMORY,
        REDIS
    }

    public StateStoreConfig {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.REDIS) != (redis != null)) {
            throw new IllegalArgumentException("redis settings go with state_store: redis, and only with it");
        }
    }

    public static StateStoreConfig redis(RedisConfig redis) {
        return new StateStoreConfig(Kind.REDIS, Objects.requireNonNull(redis, "redis"));
    }

    /** The {@code redis:} section of a redis store. */
    public RedisConfig requireRedis() {
        return Objects.requireNonNull(redis, "redis settings of state_store: redis");
    }

    /** The value of {@code state_store}. */
    public String label() {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
