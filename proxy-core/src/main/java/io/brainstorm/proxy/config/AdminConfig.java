package io.brainstorm.proxy.config;

/**
 * The admin listener: admin API, and later the dashboard and {@code /metrics} (docs/architecture.md §3, §9).
 *
 * @param enabled false: no admin listener (keys and tenants then come from config only)
 * @param host    address to bind; loopback by default, since it manages keys and budgets
 * @param port    port to bind (0 = any free port)
 */
public record AdminConfig(boolean enabled, String host, int port) {
    public static final int DEFAULT_PORT = 8081;
    public static final AdminConfig DEFAULTS = new AdminConfig(true, "127.0.0.1", DEFAULT_PORT);

    public AdminConfig withPort(int port) {
        return new AdminConfig(enabled, host, port);
    }
}
