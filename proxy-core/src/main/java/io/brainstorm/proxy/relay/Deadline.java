package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RoutePlan;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The one timer of an {@link Exchange}, for its three timeouts: the request's total (counted from
 * its start), the current attempt's first byte (from the request being sent to the response head)
 * and its idle time (since the upstream last sent something, once the head arrived).
 *
 * <p>A request that ends before any timeout (nearly all) schedules and cancels exactly one timer:
 * it is only rescheduled when a deadline comes earlier than the time it is set for. Firing early is
 * harmless: {@link #expired()} re-arms it for the next deadline.
 *
 * <p><b>Threading.</b> Used on the request's event loop, which also runs the timer's task.
 */
final class Deadline {
    /** The timeout that passed. */
    enum Passed {
        TOTAL,
        FIRST_BYTE,
        IDLE;

        /** Why the request or the attempt ended, for the client and the log. */
        String reason(RoutePlan route, Endpoint endpoint) {
            return switch (this) {
                case TOTAL ->
                    "the request took longer than "
                            + route.first().timeouts().total().toMillis() + " ms";
                case FIRST_BYTE ->
                    "no response within " + endpoint.timeouts().firstByte().toMillis() + " ms";
                case IDLE -> "no data for " + endpoint.timeouts().idle().toMillis() + " ms";
            };
        }

        /** What the client is told when the request ends on this timeout (the whole request's, or a stall). */
        String message(RoutePlan route, Endpoint endpoint) {
            String reason = reason(route, endpoint);
            return this == TOTAL
                    ? "No answer in time: " + reason + "."
                    : "The answer from " + endpoint.id() + " stalled: " + reason + ".";
        }
    }

    private final EventExecutor executor;
    private final Timeline timeline;
    /** Runs {@link #expired()} and acts on what passed; the owner's, made once. */
    private final Runnable task;

    private final long startNanos;
    private final long totalAt;
    /** When the current attempt must have its response head; {@code Long.MAX_VALUE} when not waiting for one. */
    private long firstByteAt = Long.MAX_VALUE;
    /** The idle timeout being watched, in nanoseconds, or -1 when nothing is being read. */
    private long idleNanos = -1;

    private long lastReadNanos;
    private @Nullable ScheduledFuture<?> timer;
    private long timerAt;
    private boolean stopped;

    /**
     * @param total the request's total timeout, counted from now
     * @param task  what the timer runs: calls {@link #expired()} and acts on its answer
     */
    Deadline(EventExecutor executor, Timeline timeline, Duration total, Runnable task) {
        this.executor = executor;
        this.timeline = timeline;
        this.task = task;
        this.startNanos = timeline.now();
        this.totalAt = startNanos + total.toNanos();
    }

    /** Arms the timer for the earliest any of the first endpoint's timeouts could pass. */
    void start(Timeouts first) {
        long soonest = Math.min(
                totalAt - startNanos,
                Math.min(first.firstByte().toNanos(), first.idle().toNanos()));
        arm(startNanos + soonest);
    }

    /** Whether the request's total timeout passed. */
    boolean totalPassed() {
        return timeline.now() >= totalAt;
    }

    /** The request was sent upstream: its response head is due within {@code firstByte}. */
    void awaitHead(Duration firstByte) {
        idleNanos = -1;
        firstByteAt = timeline.now() + firstByte.toNanos();
        arm(firstByteAt);
    }

    /** The response head arrived and its body is read: idle time counts from now. */
    void reading(Duration idle) {
        firstByteAt = Long.MAX_VALUE;
        idleNanos = idle.toNanos();
        touch();
    }

    /** The upstream sent something: the idle timeout counts from now. */
    void touch() {
        lastReadNanos = timeline.now();
    }

    /** The attempt ended: only the total timeout counts until the next one sends its request. */
    void attemptEnded() {
        firstByteAt = Long.MAX_VALUE;
        idleNanos = -1;
    }

    /** No timeout matters any more (the exchange ended, or waits only for its scorer): the timer is off for good. */
    void stop() {
        stopped = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * The timer fired: which timeout passed, or null when none did (the timer is re-armed for the
     * next, unless stopped).
     */
    Deadline.@Nullable Passed expired() {
        timer = null;
        if (stopped) {
            return null;
        }
        long now = timeline.now();
        if (now >= totalAt) {
            return Passed.TOTAL;
        }
        long next = totalAt;
        if (firstByteAt != Long.MAX_VALUE) {
            if (now >= firstByteAt) {
                return Passed.FIRST_BYTE;
            }
            next = Math.min(next, firstByteAt);
        } else if (idleNanos >= 0) {
            long idleAt = lastReadNanos + idleNanos;
            if (now >= idleAt) {
                return Passed.IDLE;
            }
            next = Math.min(next, idleAt);
        }
        arm(next);
        return null;
    }

    /** Makes sure the timer fires no later than {@code at}. */
    private void arm(long at) {
        if (stopped || timer != null && at >= timerAt) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = at;
        timer = executor.schedule(task, Math.max(0, at - timeline.now()), TimeUnit.NANOSECONDS);
    }
}
