package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.state.RedisStateParts;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * A gateway's state in Redis ({@code state_store: redis}, docs/scale-out.md): its {@link RedisLink}
 * the admission counts over it ({@link RedisLimits}), and the learning state and answers kept for
 * feedback ({@link RedisStateParts}). Open it at start, off the event loops
 * (it waits for Redis up to {@code redis.startup_wait_seconds}); close it at shutdown, which writes
 * what waits.
 *
 * <p><b>Threading:</b> thread-safe.
 */
public final class RedisState implements AutoCloseable {
    private final RedisLink link;
    private final RedisLimits limits;
    private final RedisStateParts parts;

    private RedisState(RedisLink link, RedisLimits limits, RedisStateParts parts) {
        this.link = link;
        this.limits = limits;
        this.parts = parts;
    }

    /**
     * Connects and loads the scripts.
     *
     * @throws IOException when Redis cannot be reached in time or refuses the connection
     */
    public static RedisState open(RedisConfig config) throws IOException {
        RedisLink link = RedisLink.connect(config);
        try {
            Duration holdTtl = Objects.requireNonNull(config.holdTtl(), "redis.hold_ttl");
            RedisLimits limits = new RedisLimits(link, holdTtl, config.failOpen());
            try {
                return new RedisState(link, limits, RedisStateParts.start(link));
            } catch (RuntimeException e) {
                limits.close();
                throw e;
            }
        } catch (RuntimeException e) {
            link.close();
            throw e;
        }
    }

    public RedisLink link() {
        return link;
    }

    public RedisLimits limits() {
        return limits;
    }

    /** The learning state and the answers kept for feedback. */
    public RedisStateParts parts() {
        return parts;
    }

    @Override
    public void close() {
        try {
            parts.close();
        } finally {
            try {
                limits.close();
            } finally {
                link.close();
            }
        }
    }
}
