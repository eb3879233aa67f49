package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import io.brainstorm.proxy.testing.OneCpu;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without {@code --threads}, the gateway runs one event loop per CPU it may use and half as many
 * scoring threads (at least one): a JVM told it has one CPU, or pinned to one by {@code taskset},
 * runs one event loop.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventLoopsTest {
    @TempDir
    Path dir;

    @Test
    void oneCpuMeansOneEventLoop() throws Exception {
        assertEquals("loops 1 scorers 1", start(List.of("-XX:ActiveProcessorCount=1"), List.of()));
    }

    @Test
    void twoCpusMeanTwoEventLoops() throws Exception {
        assertEquals("loops 2 scorers 1", start(List.of("-XX:ActiveProcessorCount=2"), List.of()));
    }

    @Test
    void fourCpusMeanFourEventLoopsAndTwoScorers() throws Exception {
        assertEquals("loops 4 scorers 2", start(List.of("-XX:ActiveProcessorCount=4"), List.of()));
    }

    @Test
    void pinnedToOneCpuByTasksetIsOneEventLoop() throws Exception {
        assumeTrue(OneCpu.tasksetWorks(), "taskset (util-linux) is missing or cannot pin here");
        assertEquals("loops 1 scorers 1", start(List.of(), List.of("taskset", "-c", "0")));
    }

    private String start(List<String> extraFlags, List<String> prefix) throws Exception {
        List<String> flags = new ArrayList<>(ChildJvm.inheritedFlags());
        flags.addAll(ChildJvm.SMALL);
        flags.addAll(extraFlags);
        ChildJvm child = ChildJvm.main(EventLoopsChild.class)
                .prefix(prefix)
                .flags(flags)
                .args(dir.resolve("state").toString())
                .start();
        try {
            String line = child.await("loops ");
            assertTrue(child.process().waitFor(60, TimeUnit.SECONDS), "the child did not stop");
            assertEquals(0, child.process().exitValue());
            return line;
        } finally {
            child.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
