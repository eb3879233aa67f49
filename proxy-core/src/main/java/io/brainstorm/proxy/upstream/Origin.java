package io.brainstorm.proxy.upstream;

import io.netty.handler.ssl.SslContext;
import org.jspecify.annotations.Nullable;

/**
 * A place upstream connections go: scheme, host and port, and the TLS context for https. Pooled
 * connections are keyed by it.
 *
 * @param host       DNS name or IP literal
 * @param port       TCP port
 * @param sslContext TLS client context for https, null for plain http
 */
public record Origin(String host, int port, @Nullable SslContext sslContext) {
    public boolean tls() {
        return sslContext != null;
    }

    /** The {@code Host} header value. */
    public String authority() {
        boolean defaultPort = tls() ? port == 443 : port == 80;
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return defaultPort ? h : h + ":" + port;
    }

    @Override
    public String toString() {
        return (tls() ? "https://" : "http://") + authority();
    }
}
