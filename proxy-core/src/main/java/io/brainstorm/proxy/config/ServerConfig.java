package io.brainstorm.proxy.config;

import java.time.Duration;

/**
 * The client-facing listener.
 *
 * @param host            address to bind
 * @param port            port to bind (0 = any free port)
 * @param maxBodyBytes    request bodies above this get 413
 * @param maxHeaderBytes  request header block limit
 * @param maxConnections  open client connections; more are closed at once
 * @param idleTimeout     a client connection with no traffic for this long is closed
 * @param shutdownGrace   how long in-flight requests may run on after a shutdown signal
 */
public record ServerConfig(
        String host, int port, int maxBodyBytes, int maxHeaderBytes, int maxConnections,
        Duration idleTimeout, Duration shutdownGrace) {
}
