package io.brainstorm.proxy.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that moves only when a test moves it, for everything that reads the injected clock
 * (breakers, windows, {@code Retry-After}, rate limits): tests advance it instead of sleeping.
 *
 * <p><b>Threading:</b> safe to read and move from any thread.
 */
public final class ManualClock implements InstantSource {
    private final AtomicReference<Instant> now;

    /** Starts at 2025-01-01T00:00:00Z, a round time far from the epoch. */
    public ManualClock() {
        this(Instant.parse("2025-01-01T00:00:00Z"));
    }

    public ManualClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    /** Moves the clock forward by {@code d} (backward if negative) and returns the new time. */
    public Instant advance(Duration d) {
        return now.updateAndGet(t -> t.plus(d));
    }

    /** Moves the clock forward by {@code millis}. */
    public Instant advanceMillis(long millis) {
        return advance(Duration.ofMillis(millis));
    }

    public void set(Instant t) {
        now.set(t);
    }

    @Override
    public String toString() {
        return "ManualClock(" + now.get() + ")";
    }
}
