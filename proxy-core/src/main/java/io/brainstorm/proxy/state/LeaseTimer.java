package io.brainstorm.proxy.state;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread that runs a lease task (a write-back, a give-back) at a fixed delay, off the
 * event loops.
 *
 * <p><b>Threading:</b> the task runs on the timer's own thread, one run at a time. {@link #stop}
 * may be called from any thread, once.
 */
final class LeaseTimer {
    private final ScheduledExecutorService executor;

    LeaseTimer(String threadName, long delayMillis, Runnable task) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(task, delayMillis, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Stops the timer, waiting up to 5 s for a run in progress to end. */
    void stop() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
