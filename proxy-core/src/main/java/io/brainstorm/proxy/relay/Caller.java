package io.brainstorm.proxy.relay;

import org.jspecify.annotations.Nullable;

/**
 * Who made a request and when it arrived, for its {@link io.brainstorm.proxy.settle.Completion}.
 *
 * @param arrivalNanos {@link System#nanoTime()} when the whole request had been read
 * @param tenant       the key's tenant, or null before authentication
 * @param keyId        the key's public id (never the secret), or null before authentication
 * @param app          the application's name ({@code X-Title}, else {@code HTTP-Referer}), or null
 */
public record Caller(long arrivalNanos, String tenant, String keyId, @Nullable String app) {
    /** Longest application name kept; the header is the client's to fill. */
    public static final int MAX_APP_CHARS = 200;
}
