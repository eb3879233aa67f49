package io.brainstorm.proxy.state;

import java.util.Objects;

/** {@link RateWindows} over a {@link CellStore}: one atomic entry update per call running {@link RateCells}. */
final class CellRateWindows implements RateWindows {
    private final CellStore<String> store;

    CellRateWindows(CellStore<String> store) {
        this.store = store;
    }

    @Override
    public long tryAcquire(String keyId, long nowMillis, int rpm, long tokens, long tpm) {
        Objects.requireNonNull(keyId, "keyId");
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        if (rpm <= 0 && tpm <= 0) {
            return 0;
        }
        return store.update(keyId, c -> RateCells.tryAcquire(c, nowMillis, rpm, tokens, tpm));
    }
}
