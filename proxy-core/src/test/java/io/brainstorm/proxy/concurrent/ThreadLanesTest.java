package io.brainstorm.proxy.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ThreadLanesTest {
    /** A lane that counts its owner's calls; only the owner writes {@code count[0]}. */
    private record Counter(Thread owner, long[] count) implements ThreadLanes.Lane {
        static Counter of(Thread owner) {
            return new Counter(owner, new long[1]);
        }
    }

    @Test
    void aThreadGetsOneLaneOfItsOwn() {
        AtomicInteger made = new AtomicInteger();
        ThreadLanes<Counter> lanes = new ThreadLanes<>(new Counter[0], t -> {
            made.incrementAndGet();
            return Counter.of(t);
        });
        assertEquals(0, lanes.all().length);
        Counter mine = lanes.mine();
        assertSame(mine, lanes.mine());
        assertSame(Thread.currentThread(), mine.owner());
        assertEquals(1, made.get());
        assertEquals(1, lanes.all().length);
    }

    @Test
    @Timeout(30)
    void lanesAddedByThreadsAtOnceAreAllKeptAndNoCountIsLost() throws Exception {
        int threads = 8;
        int each = 10_000;
        ThreadLanes<Counter> lanes = new ThreadLanes<>(new Counter[0], Counter::of);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(
                    () -> {
                        try {
                            start.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                        for (int n = 0; n < each; n++) {
                            lanes.mine().count()[0]++;
                        }
                    },
                    "writer-" + i);
            t.start();
            writers.add(t);
        }
        start.countDown();
        for (Thread t : writers) {
            t.join();
        }
        Counter[] all = lanes.all();
        assertEquals(threads, all.length);
        Set<Thread> owners = new HashSet<>();
        long total = 0;
        for (Counter c : all) {
            owners.add(c.owner());
            total += c.count()[0];
        }
        assertEquals(new HashSet<>(writers), owners);
        assertEquals((long) threads * each, total);
    }

    @Test
    void theTypeArrayMustBeEmpty() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ThreadLanes<>(new Counter[1], Counter::of));
        assertEquals("none: 1 lanes (expected: 0)", e.getMessage());
    }
}
