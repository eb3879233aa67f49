package io.brainstorm.proxy.config;

import java.time.Duration;

/**
 * Upstream timeouts of one provider.
 *
 * @param connect   TCP (and TLS) connect
 * @param firstByte from sending the request to the first response byte
 * @param idle      between two response chunks
 * @param total     the whole exchange
 * @param poolIdle  how long a kept-alive connection may wait in the pool and still be reused; below
 *                  the provider's own keep-alive timeout (commonly 5 s), so the gateway gives up a
 *                  connection before the provider closes it under a request
 */
public record Timeouts(Duration connect, Duration firstByte, Duration idle, Duration total, Duration poolIdle) {
    public static final Duration DEFAULT_POOL_IDLE = Duration.ofSeconds(4);
    public static final Timeouts DEFAULT = new Timeouts(
            Duration.ofSeconds(10), Duration.ofSeconds(120), Duration.ofSeconds(60), Duration.ofMinutes(10));

    /** With the default pool idle lifetime. */
    public Timeouts(Duration connect, Duration firstByte, Duration idle, Duration total) {
        this(connect, firstByte, idle, total, DEFAULT_POOL_IDLE);
    }
}
