package io.brainstorm.proxy.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CpusTest {
    @Test
    void eventLoopsFollowTheCpusUnlessSet() {
        assertEquals(1, Cpus.eventLoops(0, 1));
        assertEquals(2, Cpus.eventLoops(0, 2));
        assertEquals(16, Cpus.eventLoops(0, 16));
        assertEquals(3, Cpus.eventLoops(3, 1), "--threads wins");
        assertEquals(
                "threads: -1 (expected: >= 0, 0 for one per CPU)",
                assertThrows(IllegalArgumentException.class, () -> Cpus.eventLoops(-1, 2))
                        .getMessage());
    }

    @Test
    void scorersAreHalfTheCpusAndAtLeastOne() {
        assertEquals(1, Cpus.scorers(1));
        assertEquals(1, Cpus.scorers(2));
        assertEquals(2, Cpus.scorers(4));
        assertEquals(4, Cpus.scorers(9));
    }
}
