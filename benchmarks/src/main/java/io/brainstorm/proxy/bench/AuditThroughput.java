package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.audit.AuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The audit writer's throughput end to end (issue 5): {@code --threads} producers hand
 * {@code --records} completions to {@link AuditLog#accept} (backing off while the queue is nearly
 * full, so none is lost), and the clock stops when the last one is written and the log closed
 * (forced to disk). Prints records/s per fsync policy, the mean {@code accept} time and how long
 * {@code AuditLog.open} took. Files go to a fresh folder under {@code --dir} (default: the system's
 * temporary folder), deleted after.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.brainstorm.proxy.bench.AuditThroughput \
 *   --records 200000 --threads 4 --rounds 3 --fsync batch,none
 * </pre>
 */
public final class AuditThroughput {
    private AuditThroughput() {}

    public static void main(String[] args) throws Exception {
        int records = 200_000;
        int threads = 4;
        int rounds = 3;
        int batch = AuditConfig.DEFAULTS.batchRecords();
        String fsyncs = "batch,none";
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--fsync" -> fsyncs = v;
                case "--dir" -> base = Path.of(v);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i]
                            + " (expected: --records, --threads, --rounds, --batch, --fsync, --dir)");
            }
        }
        System.out.printf("| fsync | round | records | records/s | mean accept ns | open ms | lost |%n");
        System.out.printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |%n");
        for (String f : fsyncs.split(",")) {
            AuditConfig.Fsync fsync = AuditConfig.Fsync.valueOf(f.trim().toUpperCase(java.util.Locale.ROOT));
            for (int round = 1; round <= rounds; round++) {
                run(base, fsync, batch, records, threads, round);
            }
        }
    }

    private static void run(Path base, AuditConfig.Fsync fsync, int batch, int records, int threads, int round)
            throws Exception {
        Path state = Files.createTempDirectory(base, "br-audit-bench");
        int queue = AuditConfig.DEFAULTS.queueRecords();
        AuditConfig config = new AuditConfig(true, null, null, fsync, Duration.ofSeconds(1), batch, queue, false);
        try {
            long o0 = System.nanoTime();
            AuditLog log = AuditLog.open(config, state, Map.of(), InstantSource.system());
            long openNanos = System.nanoTime() - o0;
            long now = System.currentTimeMillis();
            int per = records / threads;
            long[] acceptNanos = new long[threads];
            List<Thread> producers = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread p = new Thread(
                        () -> {
                            long spent = 0;
                            for (int i = 0; i < per; i++) {
                                while (log.queued() > queue - 1024) {
                                    Thread.onSpinWait();
                                }
                                Completion c = Completion.builder("req-" + id + "-" + i, 0)
                                        .atMillis(now + i)
                                        .key("default", "key_0123456789ab")
                                        .app("bench")
                                        .operation("chat")
                                        .requestedModel("sim/alpha:floor")
                                        .stream(i % 2 == 0)
                                        .strategy("floor")
                                        .selected("sim/alpha", "sim-east")
                                        .status(200, null)
                                        .tokens(120, 45)
                                        .cost(1_250_000, false)
                                        .latencyMicros(12_345)
                                        .ttftMicros(i % 2 == 0 ? 2_500 : -1)
                                        .score(1.0, ScoreOutcome.PLAIN_OK)
                                        .build();
                                long a = System.nanoTime();
                                log.accept(c);
                                spent += System.nanoTime() - a;
                            }
                            acceptNanos[id] = spent;
                        },
                        "producer-" + t);
                p.start();
                producers.add(p);
            }
            for (Thread p : producers) {
                p.join();
            }
            long total = (long) per * threads;
            while (log.written() + log.lost() < total) {
                Thread.sleep(1);
            }
            log.close();
            long elapsed = System.nanoTime() - t0;
            long accept = 0;
            for (long a : acceptNanos) {
                accept += a;
            }
            System.out.printf(
                    "| %s | %d | %d | %.0f | %d | %.1f | %d |%n",
                    fsync.name().toLowerCase(java.util.Locale.ROOT),
                    round,
                    log.written(),
                    log.written() * 1e9 / elapsed,
                    accept / total,
                    openNanos / 1e6,
                    log.lost());
        } finally {
            BenchStore.deleteTree(state);
        }
    }
}
