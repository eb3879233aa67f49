package io.brainstorm.proxy.config;

import java.time.Duration;

/**
 * The client-facing listener.
 *
 * @param host              address to bind
 * @param port              port to bind (0 = any free port)
 * @param maxBodyBytes      request bodies above this get 413
 * @param maxHeaderBytes    request header block limit
 * @param maxConnections    open client connections; more are closed at once
 * @param idleTimeout       a client connection with no traffic for this long is closed
 * @param shutdownGrace     how long in-flight requests may run on after a shutdown signal
 * @param headerTimeout     from the first byte of a request's head to its end; later: 408 and close
 * @param bodyTimeout       from the end of a request's head to the end of its body; later: 408 and close
 *                          (on HTTP/2: 408 on that stream only)
 * @param h2SettingsTimeout how long an HTTP/2 client may take after its preface to send its first
 *                          SETTINGS frame; later: GOAWAY and close
 */
public record ServerConfig(
        String host,
        int port,
        int maxBodyBytes,
        int maxHeaderBytes,
        int maxConnections,
        Duration idleTimeout,
        Duration shutdownGrace,
        Duration headerTimeout,
        Duration bodyTimeout,
        Duration h2SettingsTimeout) {
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_H2_SETTINGS_TIMEOUT = Duration.ofSeconds(10);

    public ServerConfig {
        requirePositive("headerTimeout", headerTimeout);
        requirePositive("bodyTimeout", bodyTimeout);
        requirePositive("h2SettingsTimeout", h2SettingsTimeout);
    }

    /** A listener with the default client deadlines. */
    public ServerConfig(
            String host,
            int port,
            int maxBodyBytes,
            int maxHeaderBytes,
            int maxConnections,
            Duration idleTimeout,
            Duration shutdownGrace) {
        this(
                host,
                port,
                maxBodyBytes,
                maxHeaderBytes,
                maxConnections,
                idleTimeout,
                shutdownGrace,
                DEFAULT_HEADER_TIMEOUT,
                DEFAULT_BODY_TIMEOUT,
                DEFAULT_H2_SETTINGS_TIMEOUT);
    }

    /** The same listener on another port. */
    public ServerConfig withPort(int port) {
        return new ServerConfig(
                host,
                port,
                maxBodyBytes,
                maxHeaderBytes,
                maxConnections,
                idleTimeout,
                shutdownGrace,
                headerTimeout,
                bodyTimeout,
                h2SettingsTimeout);
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
        }
    }
}
