package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.admin.DashboardStats;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.route.LatencyWindow;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.testing.TestRegistries;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Run by {@link OneCpuRecordersTest} in a JVM of its own on one CPU: two writer threads (the
 * gateway's two event loops on one CPU) record completions as fast as they can into one
 * {@link DashboardStats}, one {@link Metrics} and one {@link LatencyWindow}, with latencies spread
 * over seven decades and a new tenant (so new cells, whose histograms are young and growing) every
 * 2,000 records, up to 100 tenants; a reader thread renders the stats JSON, the exposition and the window's
 * quantiles every 50 ms, as the admin thread and routing do.
 *
 * <p>Prints {@code tick <writes> <reads>} every 250 ms (counts since the start), then {@code done}.
 * Its {@code args}: the seconds to run.
 */
public final class OneCpuHammer {
    private OneCpuHammer() {}

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        GatewayConfig config =
                ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of());
        Gateway gateway = new Gateway(config, TestRegistries.withKey("br_live_" + "h".repeat(32)), null);
        DashboardStats stats = new DashboardStats();
        Metrics metrics = new Metrics(gateway);
        LatencyWindow window = new LatencyWindow(Duration.ofSeconds(60), 6);
        LongAdder writes = new LongAdder();
        LongAdder reads = new LongAdder();
        for (int t = 0; t < 2; t++) {
            int writer = t;
            Thread w = new Thread(
                    () -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        for (long n = 0; ; n++) {
                            long micros = (long) Math.exp(random.nextDouble() * 17);
                            Completion c = CompletionFixture.ok()
                                    .key("tenant-" + n / 2_000 % 100, "key-" + writer)
                                    .selected("sim/m" + n % 4, "sim-east")
                                    .latencyMicros(micros)
                                    .stream(true)
                                    .ttftMicros(n % 2 == 0 ? micros / 2 : -1)
                                    .build();
                            stats.accept(c);
                            metrics.accept(c);
                            window.record(System.currentTimeMillis(), micros);
                            writes.increment();
                        }
                    },
                    "writer-" + t);
            w.setDaemon(true);
            w.start();
        }
        Thread reader = new Thread(
                () -> {
                    while (true) {
                        stats.json(null);
                        metrics.render();
                        window.stats(System.currentTimeMillis());
                        reads.increment();
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "reader");
        reader.setDaemon(true);
        reader.start();
        long start = System.nanoTime();
        for (int i = 1; i <= seconds * 4; i++) {
            long wait = start + i * 250_000_000L - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            System.out.println("tick " + writes.sum() + " " + reads.sum());
        }
        System.out.println("done");
        System.out.flush();
        System.exit(0);
    }
}
