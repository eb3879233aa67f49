package io.brainstorm.proxy.state;

import java.time.Instant;
import java.util.Optional;

/**
 * Who holds a reservation: a process, named by its pid and its start time so that a reused pid is
 * not mistaken for the owner.
 *
 * @param pid         the process id
 * @param startMillis the process start time in epoch millis; 0 when the OS did not tell
 */
record ProcessOwner(long pid, long startMillis) {
    /** Start times read by two processes may differ by clock-tick rounding; a reused pid is never this close. */
    private static final long START_TOLERANCE_MILLIS = 1_000;

    static final ProcessOwner CURRENT = of(ProcessHandle.current());

    static ProcessOwner of(ProcessHandle h) {
        return new ProcessOwner(
                h.pid(), h.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
    }

    /**
     * Whether the owner may still run. Errs towards alive: an owner whose start time cannot be
     * read is alive while its pid exists, so a live peer's reservation is never released.
     */
    boolean isAlive() {
        if (pid == CURRENT.pid) {
            return true;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return false;
        }
        if (startMillis == 0) {
            return true;
        }
        Optional<Instant> started = h.get().info().startInstant();
        return started.isEmpty() || Math.abs(started.get().toEpochMilli() - startMillis) <= START_TOLERANCE_MILLIS;
    }
}
