package io.brainstorm.proxy.concurrent;

/**
 * How many threads the gateway's pools get, from the CPUs the process may use
 * (docs/architecture.md §4): one event loop per CPU, half as many scoring threads.
 *
 * <p>The CPU count is {@link Runtime#availableProcessors()}, which on JDK 17 and 25 honours the
 * process's CPU affinity ({@code taskset -c 0} gives 1), a container's CPU quota and
 * {@code -XX:ActiveProcessorCount}. Pinned to one CPU, the gateway runs one event loop: two loops
 * on one core only take turns, and a lock between them can be held by the one descheduled.
 */
public final class Cpus {
    private Cpus() {}

    /** The CPUs this process may use, as the JVM reports them now. */
    public static int available() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * The event loops of the client and admin listeners: {@code threads} when it is positive (the
     * {@code --threads} option), else one per CPU of {@code cpus}.
     */
    public static int eventLoops(int threads, int cpus) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: >= 0, 0 for one per CPU)");
        }
        return threads > 0 ? threads : Math.max(1, cpus);
    }

    /** The scoring threads when {@code scoring.threads} is not set: half the CPUs, at least one. */
    public static int scorers(int cpus) {
        return Math.max(1, cpus / 2);
    }
}
