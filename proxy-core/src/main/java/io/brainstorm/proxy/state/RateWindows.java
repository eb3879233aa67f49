package io.brainstorm.proxy.state;

/**
 * Per-key request and token counts per minute (fixed windows aligned to the minute), shared across
 * processes by the Chronicle implementation.
 *
 * <p>A request whose {@code tokens} alone exceed {@code tpm} is admitted only as the first tokens
 * of an otherwise empty minute, so a large request is slowed to one a minute instead of refused
 * for ever.
 *
 * <p><b>Threading:</b> thread-safe; time comes from the caller's injected clock.
 */
public interface RateWindows {

    /**
     * Counts one request with {@code tokens} against {@code keyId} for the minute of
     * {@code nowMillis} if {@code rpm}/{@code tpm} allow ({@code <= 0} means unlimited); else
     * returns the millis until the limit frees up ({@code > 0}) and counts nothing.
     *
     * @return 0 when allowed and counted, else the millis until the next minute starts
     */
    long tryAcquire(String keyId, long nowMillis, int rpm, long tokens, long tpm);
}
