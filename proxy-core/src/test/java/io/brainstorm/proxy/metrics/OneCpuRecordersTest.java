package io.brainstorm.proxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import io.brainstorm.proxy.testing.OneCpu;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The figures the event loops write (dashboard stats, {@code /metrics}, latency windows) never make
 * the writers, or the writers and a reader, wait for each other when they share one CPU: two
 * writers and a reader in a JVM held to one CPU by {@code taskset} ({@link OneCpuHammer}) keep
 * making progress every second. Two writers recording into one packed concurrent histogram spun
 * against each other forever within the first second.
 */
class OneCpuRecordersTest {
    private static final int SECONDS = 6;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoWritersAndAReaderOnOneCpuNeverStall() throws Exception {
        assumeTrue(
                OneCpu.tasksetWorks(),
                "taskset (util-linux) is missing or cannot pin here:"
                        + " the writers cannot be held to one CPU, so this test does not run");
        Process p = ChildJvm.main(OneCpuHammer.class)
                .prefix(List.of("taskset", "-c", "0"))
                .flags(OneCpu.jvmFlags())
                .args(Integer.toString(SECONDS))
                .start()
                .process();
        List<long[]> ticks = new ArrayList<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null && !line.equals("done"); ) {
                if (line.startsWith("tick ")) {
                    String[] f = line.split(" ");
                    ticks.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                }
            }
        } finally {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        assertEquals(SECONDS * 4, ticks.size(), "progress reports from the child");
        StringBuilder seconds = new StringBuilder();
        for (int s = 1; s <= SECONDS; s++) {
            long[] from = s == 1 ? new long[2] : ticks.get(s * 4 - 5);
            long[] to = ticks.get(s * 4 - 1);
            seconds.append(String.format(" second %d: %d writes, %d reads;", s, to[0] - from[0], to[1] - from[1]));
        }
        System.out.println("one CPU, two writers and a reader:" + seconds);
        for (int s = 1; s <= SECONDS; s++) {
            long[] from = s == 1 ? new long[2] : ticks.get(s * 4 - 5);
            long[] to = ticks.get(s * 4 - 1);
            assertTrue(to[0] > from[0], "a second without writes:" + seconds);
        }
        // the reader's first calls load and compile classes on the one CPU the writers keep busy,
        // and each read sums every cell: reads are checked over two seconds at a time, after the first two
        for (int s = 4; s <= SECONDS; s += 2) {
            assertTrue(ticks.get(s * 4 - 1)[1] > ticks.get(s * 4 - 9)[1], "two seconds without reads:" + seconds);
        }
    }
}
