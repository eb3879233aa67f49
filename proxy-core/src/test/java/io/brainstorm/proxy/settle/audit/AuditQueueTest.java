package io.brainstorm.proxy.settle.audit;

import static io.brainstorm.proxy.settle.audit.AuditTesting.T0;
import static io.brainstorm.proxy.settle.audit.AuditTesting.completion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.settle.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AuditQueueTest {

    @Test
    void aWakeUpEndsTheWritersWaitAndIsNeverHandedOutAsARecord() {
        AuditQueue queue = new AuditQueue(16);
        queue.wake();
        long t0 = System.nanoTime();
        assertNull(queue.poll(TimeUnit.SECONDS.toMillis(30)), "a wake-up, not a record");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "the poll ended at the wake-up");

        Completion a = completion(T0, 1);
        Completion b = completion(T0 + 1, 2);
        assertTrue(queue.offer(a));
        queue.wake();
        assertTrue(queue.offer(b));
        List<Completion> batch = new ArrayList<>();
        assertEquals(3, queue.drainTo(batch, 16), "the wake-up is taken from the queue");
        assertEquals(List.of(a, b), batch, "only records reach the batch");
        assertEquals(0, queue.size());

        assertTrue(queue.offer(a));
        assertSame(a, queue.poll(0));
    }

    @Test
    void aFullQueueTalliesWhatItRefusedForTheGapRecord() {
        AuditQueue queue = new AuditQueue(2);
        assertTrue(queue.offer(completion(T0, 1)));
        assertTrue(queue.offer(completion(T0 + 1, 2)));
        assertFalse(queue.hasDropped());
        assertFalse(queue.offer(completion(T0 + 7, 3)));
        assertFalse(queue.offer(completion(T0 + 3, 4)));
        assertTrue(queue.hasDropped());

        Loss loss = new Loss();
        queue.takeDropped(loss);
        assertEquals(new AuditFormat.Gap(2, "queue full", T0 + 3, T0 + 7), loss.gap("queue full"));
        assertFalse(queue.hasDropped());
        queue.takeDropped(loss);
        assertEquals(2, loss.count(), "taken once");
    }

    private static AuditFormat.State waiting(long at) {
        return new AuditFormat.State(at, "redis", AuditFormat.State.WAITING, "settle", 0, 0, 0, -1, -1, null);
    }

    @Test
    void stateRecordsShareTheBoundAndAreKeptApartFromRequests() {
        AuditQueue queue = new AuditQueue(2);
        Completion a = completion(T0, 1);
        AuditFormat.State s1 = waiting(T0 + 1);
        assertTrue(queue.offer(a));
        assertTrue(queue.offer(s1));
        assertFalse(queue.offer(waiting(T0 + 5)), "the queue is full for state records too");
        assertTrue(queue.hasDropped());
        Loss loss = new Loss();
        queue.takeDropped(loss);
        assertEquals(new AuditFormat.Gap(1, "queue full", T0 + 5, T0 + 5), loss.gap("queue full"));

        List<Completion> batch = new ArrayList<>();
        assertEquals(2, queue.drainTo(batch, 16));
        assertEquals(List.of(a), batch, "only requests reach the batch");
        assertTrue(queue.hasStates());
        List<AuditFormat.State> states = new ArrayList<>();
        queue.takeStates(states);
        assertEquals(List.of(s1), states);
        assertFalse(queue.hasStates());

        AuditFormat.State s2 = waiting(T0 + 9);
        assertTrue(queue.offer(s2));
        assertNull(queue.poll(0), "a state record is no request");
        queue.takeStates(states);
        assertEquals(List.of(s1, s2), states);
    }
}
