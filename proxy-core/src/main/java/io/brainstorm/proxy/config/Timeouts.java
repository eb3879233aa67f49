package io.brainstorm.proxy.config;

import java.time.Duration;

/**
 * Upstream timeouts of one provider.
 *
 * @param connect   TCP (and TLS) connect
 * @param firstByte from sending the request to the first response byte
 * @param idle      between two response chunks
 * @param total     the whole exchange
 */
public record Timeouts(Duration connect, Duration firstByte, Duration idle, Duration total) {
    public static final Timeouts DEFAULT = new Timeouts(
            Duration.ofSeconds(10), Duration.ofSeconds(120), Duration.ofSeconds(60), Duration.ofMinutes(10));
}
