package io.brainstorm.proxy.state;

/**
 * What one key has used on one day, in nano-USD.
 *
 * @param spentNano    settled actual cost
 * @param reservedNano held by reservations not yet settled or released
 * @param requests     settled requests
 */
public record DayUsage(long spentNano, long reservedNano, long requests) {
    public static final DayUsage ZERO = new DayUsage(0, 0, 0);
}
