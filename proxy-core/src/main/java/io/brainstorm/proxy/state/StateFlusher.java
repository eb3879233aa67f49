package io.brainstorm.proxy.state;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The thread ({@code br-state-flush}) that writes what the request path only queued on the heap:
 * the answer log every {@code rounds[0]} tick and the learning state every {@code rounds[1]}. The
 * request path never waits for it; {@link #soon} (any thread) wakes it early without waiting
 * either: an unpark.
 *
 * <p><b>Errors:</b> a round that throws is logged and the next round runs as planned.
 */
final class StateFlusher {
    private static final System.Logger log = System.getLogger(StateFlusher.class.getName());

    private final Thread thread;
    private final long tickNanos;
    private volatile boolean stopping;

    /**
     * @param tickMillis    time between rounds
     * @param answers       runs every round
     * @param learningEvery the learning flush runs every this many rounds
     * @param learning      the learning flush
     */
    StateFlusher(long tickMillis, Runnable answers, int learningEvery, Runnable learning) {
        this.tickNanos = TimeUnit.MILLISECONDS.toNanos(tickMillis);
        this.thread = new Thread(
                () -> {
                    for (long round = 1; !stopping; round++) {
                        LockSupport.parkNanos(this, tickNanos);
                        run(answers);
                        if (round % learningEvery == 0) {
                            run(learning);
                        }
                    }
                },
                "br-state-flush");
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
