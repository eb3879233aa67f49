package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.Timeouts;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which of an exchange's timeouts {@link Deadline} reports, and when, on an event loop whose clock the test moves. */
class DeadlineTest {
    private static final Timeouts TIMEOUTS =
            new Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final Timeline timeline;
    private final List<Deadline.Passed> passed = new ArrayList<>();
    private final Deadline deadline;
    private int fired;

    DeadlineTest() {
        loop.freezeTime();
        timeline = new Timeline(
                () -> loop.eventLoop().ticker().nanoTime(),
                loop.eventLoop().ticker().nanoTime());
        Deadline[] self = new Deadline[1];
        deadline = new Deadline(loop.eventLoop(), timeline, TIMEOUTS.total(), () -> {
            fired++;
            Deadline.Passed p = self[0].expired();
            if (p != null) {
                passed.add(p);
            }
        });
        self[0] = deadline;
    }

    @AfterEach
    void close() {
        assertFalse(loop.finish());
    }

    private void advance(long millis) {
        loop.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void theFirstByteTimeoutCountsFromTheRequestBeingSent() {
        deadline.start(TIMEOUTS);
        advance(500);
        deadline.awaitHead(TIMEOUTS.firstByte());
        advance(1_999);
        assertEquals(List.of(), passed, "2 s after start, 1.5 s after the request: not yet");
        advance(1);
        assertEquals(List.of(Deadline.Passed.FIRST_BYTE), passed);
    }

    @Test
    void theIdleTimeoutCountsFromTheLastRead() {
        deadline.start(TIMEOUTS);
        deadline.awaitHead(TIMEOUTS.firstByte());
        advance(1_000);
        deadline.reading(TIMEOUTS.idle());
        advance(2_500);
        deadline.touch();
        advance(2_999);
        assertEquals(List.of(), passed, "read 3 s ago less a millisecond");
        advance(1);
        assertEquals(List.of(Deadline.Passed.IDLE), passed);
    }

    @Test
    void betweenAttemptsOnlyTheTotalCounts() {
        deadline.start(TIMEOUTS);
        deadline.awaitHead(TIMEOUTS.firstByte());
        advance(1_000);
        deadline.attemptEnded();
        advance(8_999);
        assertEquals(List.of(), passed);
        assertFalse(deadline.totalPassed());
        advance(1);
        assertTrue(deadline.totalPassed());
        assertEquals(List.of(Deadline.Passed.TOTAL), passed);
    }

    @Test
    void aRequestThatEndsInTimeSchedulesOneTimerAndNothingFiresAfterStop() {
        deadline.start(TIMEOUTS);
        deadline.awaitHead(TIMEOUTS.firstByte());
        deadline.reading(TIMEOUTS.idle());
        deadline.stop();
        advance(60_000);
        assertEquals(0, fired);
    }
}
