package io.brainstorm.proxy.state;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link RateWindows} over a {@link CellStore}. Without leases each call is one atomic entry update
 * running {@link RateCells}.
 *
 * <p>With leases (the files store, docs/architecture.md §6), a request is counted on the heap
 * against this process's {@link RateLease} share of the key's minute, so the common request changes
 * no entry. An entry update happens only when the share cannot count a request (another minute,
 * other limits, or used up): in one update it gives the share back, decides the request exactly as
 * without leases and, if it was granted and the minute has room for {@value BudgetLease#MIN_REQUESTS}
 * more, takes a new share. The flush thread gives back the share of a key unused for {@value #IDLE_MILLIS}
 * ms, and {@link #close} every share.
 *
 * <p><b>Ownership:</b> the shares live here, one per key in use; the entry counts them as used, so
 * nothing needs recovering after a crash: a dead process's share lapses with its minute.
 *
 * <p><b>Threading:</b> thread-safe. Counting against a share is lock-free on the heap; giving one
 * back, taking one and an exact decision take the entry's lock, as every call did without leases.
 * {@link #giveBack} runs on the state directory's flush thread every {@value #CHECK_MILLIS} ms, off
 * the event loops; {@link #close} after that thread has stopped.
 */
final class CellRateWindows implements RateWindows, AutoCloseable {
    static final long IDLE_MILLIS = 1_000;
    static final long CHECK_MILLIS = 250;
    private static final long RETIRED = -1;

    private static final System.Logger log = System.getLogger(CellRateWindows.class.getName());

    private final CellStore<String> store;
    private final Map<String, RateLease> leases = new ConcurrentHashMap<>();
    private final boolean leasing;

    /** Windows over {@code store}, leasing shares when {@code leasing} (else one entry update per call). */
    CellRateWindows(CellStore<String> store, boolean leasing) {
        this.store = store;
        this.leasing = leasing;
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
        if (leasing) {
            long minute = RateCells.minute(nowMillis);
            for (int attempt = 0; attempt < 2; attempt++) {
                RateLease l = leases.computeIfAbsent(keyId, RateLease::new);
                if (l.tryTake(minute, rpm, tokens, tpm)) {
                    return 0;
                }
                long wait = store.update(keyId, c -> {
                    if (l.retired) {
                        return RETIRED;
                    }
                    // another thread may have taken a new share meanwhile
                    if (l.tryTake(minute, rpm, tokens, tpm)) {
                        return 0;
                    }
                    l.giveBack(c);
                    long w = RateCells.tryAcquire(c, nowMillis, rpm, tokens, tpm);
                    if (w == 0) {
                        l.grant(c, minute, rpm, tokens, tpm);
                    }
                    return w;
                });
                if (wait != RETIRED) {
                    return wait;
                }
            }
        }
        return store.update(keyId, c -> RateCells.tryAcquire(c, nowMillis, rpm, tokens, tpm));
    }

    /**
     * Gives back the shares of keys unused for {@value #IDLE_MILLIS} ms (every share when
     * {@code all}) and forgets those leases: one entry update each.
     */
    void giveBack(boolean all) {
        long now = System.nanoTime();
        for (RateLease l : leases.values()) {
            if (!all && now - l.lastUsedNanos < TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)) {
                continue;
            }
            try {
                store.update(l.keyId, c -> {
                    // under the entry's lock, so no request takes a share of it meanwhile
                    l.retired = true;
                    leases.remove(l.keyId, l);
                    l.giveBack(c);
                    return 0;
                });
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "could not give back the rate share of " + l.keyId, e);
            }
        }
    }

    /** Gives back every share; once the flush thread has stopped. */
    @Override
    public void close() {
        if (leasing) {
            giveBack(true);
        }
    }
}
