package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.brainstorm.proxy.testing.OneCpu;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway on one CPU keeps serving: the real gateway in its own JVM under {@code taskset -c 0}
 * (a container with a one-CPU limit; two event loops there), with the admin listener, dashboard
 * stats, {@code /metrics}, the audit trail and a budgeted key on, takes 64 connections of mixed
 * plain and streamed chat for 30 s (after a 5 s warm-up) while {@code /healthz} is polled every
 * second and the figures are scraped every second ({@link OneCpuLoad}).
 *
 * <p>Before the event loops recorded into per-loop histograms, two loops sharing one packed
 * concurrent histogram spun against each other on the one CPU within seconds: throughput fell to
 * zero and {@code /healthz} stopped answering.
 */
class OneCpuLoadTest {
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void oneCpuServesSixtyFourConnectionsForThirtySecondsWithHealthzAnswering() throws Exception {
        assumeTrue(
                OneCpu.tasksetWorks(),
                "taskset (util-linux) is missing or cannot pin here:"
                        + " the gateway cannot be held to one CPU, so this load test does not run");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        OneCpuLoad.Result r = OneCpuLoad.run(
                new OneCpuLoad.Options(null, classPath, 0, 64, 5, 30, OneCpuLoad.MODELS, null), System.out);

        long[] windows = r.windows(10);
        long best = Arrays.stream(windows).max().orElse(0);
        long last = windows[windows.length - 1];
        assertAll(
                () -> assertEquals(0, r.fiveXx(), "5xx answers"),
                () -> assertEquals(
                        0,
                        r.healthzFailures(),
                        "/healthz polls (of " + r.healthzPolls() + ") without a 200 within 5 s; worst "
                                + r.healthzWorstMillis() + " ms"),
                () -> assertTrue(r.healthzPolls() >= 25, "/healthz polled " + r.healthzPolls() + " times in 30 s"),
                () -> assertTrue(best > 0, "no request completed in any 10 s window: " + Arrays.toString(windows)),
                () -> assertTrue(
                        last * 10 >= best * 8,
                        "the last 10 s completed " + last + " requests, under 80 % of" + " the best 10 s (" + best
                                + "): " + Arrays.toString(windows)),
                () -> assertEquals(
                        0,
                        r.brokenStreams() + r.otherStatus() + r.ioErrors(),
                        "streams cut, non-200" + " answers and connection errors"),
                () -> assertTrue(
                        r.metricsScrapes() >= 10 && r.statsScrapes() >= 10,
                        "scrapes answered: /metrics " + r.metricsScrapes() + ", stats " + r.statsScrapes()
                                + " (failed: " + r.scrapeFailures() + ")"),
                () -> assertTrue(
                        r.lastStats().contains("\"model\":\"" + OneCpuLoad.model(0) + "\""),
                        "the dashboard's stats show the model that answered: " + r.lastStats()));
    }
}
