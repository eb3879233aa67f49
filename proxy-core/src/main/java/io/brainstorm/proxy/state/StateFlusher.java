package io.brainstorm.proxy.state;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread ({@code br-state-flush}; {@code br-redis-state} for {@code RedisStateParts}) of a state store that writes what the request path
 * only kept on the heap: queued answers and learning observations, the budget leases' spend, idle
 * rate shares. Each {@link Round} runs every so many ticks. The request path never waits for it;
 * {@link #soon} (any thread) wakes it early without waiting either: an unpark.
 *
 * <p><b>Errors:</b> a round that throws is logged and the next round runs as planned.
 */
final class StateFlusher {
    private static final System.Logger log = System.getLogger(StateFlusher.class.getName());

    private final Thread thread;
    private final long tickNanos;
    private volatile boolean stopping;

    /**
     * A task and how often it runs.
     *
     * @param everyMillis its period: a multiple of the tick
     */
    record Round(long everyMillis, Runnable task) {}

    /**
     * @param tickMillis time between ticks; every round's period is a multiple of it
     * @param rounds     the tasks, run in this order in a tick where they are due
     */
    StateFlusher(long tickMillis, List<Round> rounds) {
        this("br-state-flush", tickMillis, rounds);
    }

    /**
     * @param name       the thread's name
     * @param tickMillis time between ticks; every round's period is a multiple of it
     * @param rounds     the tasks, run in this order in a tick where they are due
     */
    StateFlusher(String name, long tickMillis, List<Round> rounds) {
        for (Round r : rounds) {
            if (r.everyMillis() < tickMillis || r.everyMillis() % tickMillis != 0) {
                throw new IllegalArgumentException(
                        "everyMillis: " + r.everyMillis() + " (expected: a multiple of " + tickMillis + ")");
            }
        }
        this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMillis);
        this.thread = new Thread(
                () -> {
                    for (long tick = 1; !stopping; tick++) {
                        LockSupport.parkNanos(this, tickNanos);
                        for (Round r : rounds) {
                            if (tick % (r.everyMillis() / tickMillis) == 0) {
                                run(r.task());
                            }
                        }
                    }
                },
                name);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Wakes the thread for a round now; does not wait. */
    void soon() {
        LockSupport.unpark(thread);
    }

    /** Ends the thread after its current round, waiting up to {@code millis} for it; true when it ended. */
    boolean stop(long millis) throws InterruptedException {
        stopping = true;
        LockSupport.unpark(thread);
        thread.join(millis);
        return !thread.isAlive();
    }

    private static void run(Runnable flush) {
        try {
            flush.run();
        } catch (RuntimeException e) {
            log.log(Level.WARNING, "writing queued state failed; the next round tries again", e);
        }
    }
}
