package io.brainstorm.proxy.settle.audit;

import static io.brainstorm.proxy.settle.audit.AuditTesting.DAY_MS;
import static io.brainstorm.proxy.settle.audit.AuditTesting.ENV;
import static io.brainstorm.proxy.settle.audit.AuditTesting.T0;
import static io.brainstorm.proxy.settle.audit.AuditTesting.completion;
import static io.brainstorm.proxy.settle.audit.AuditTesting.config;
import static io.brainstorm.proxy.settle.audit.AuditTesting.eventually;
import static io.brainstorm.proxy.settle.audit.AuditTesting.key;
import static io.brainstorm.proxy.settle.audit.AuditTesting.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.testing.ManualClock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
    private final ManualClock clock = new ManualClock(Instant.ofEpochMilli(T0));

    private AuditVerifier.Result verify(Path dir, String head) throws IOException {
        return AuditVerifier.verify(List.of(dir), key(), head);
    }

    @Test
    void recordsChainAcrossThreeDayFiles(@TempDir Path state) throws Exception {
        Path dir = state.resolve("audit");
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            for (int day = 0; day < 3; day++) {
                for (int i = 0; i < 5; i++) {
                    log.accept(completion(T0 + day * DAY_MS + i * 1000, day * 5 + i));
                }
            }
            assertTrue(eventually(5000, () -> log.written() == 15));
            AuditLog.Head head = log.head();
            assertEquals("audit-2025-01-03.jsonl", head.file());
            assertEquals(15, head.seq());
        }
        assertEquals(
                "rw-------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("audit-2025-01-01.jsonl"))),
                "records may hold prompts: owner only");
        List<String> day1 = lines(dir.resolve("audit-2025-01-01.jsonl"));
        List<String> day2 = lines(dir.resolve("audit-2025-01-02.jsonl"));
        List<String> day3 = lines(dir.resolve("audit-2025-01-03.jsonl"));
        assertEquals(List.of(5, 5, 5), List.of(day1.size(), day2.size(), day3.size()));
        JsonNode first = Json.MAPPER.readTree(day1.get(0));
        assertEquals(1, first.get("seq").asLong());
        assertEquals("0".repeat(64), first.get("prev").asText());
        JsonNode lastOfDay1 = Json.MAPPER.readTree(day1.get(4));
        JsonNode firstOfDay2 = Json.MAPPER.readTree(day2.get(0));
        assertEquals(lastOfDay1.get("mac").asText(), firstOfDay2.get("prev").asText(), "the chain runs across files");
        assertEquals(6, firstOfDay2.get("seq").asLong());

        AuditVerifier.Result r = verify(dir, null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(15, r.records());
        assertEquals(3, r.files());
        assertTrue(r.chains().get(0).fromStart());
        String lastMac = Json.MAPPER.readTree(day3.get(4)).get("mac").asText();
        assertEquals(lastMac, r.chains().get(0).headMac());
        JsonNode headJson = Json.MAPPER.readTree(Files.readString(dir.resolve("head.json")));
        assertEquals(lastMac, headJson.get("mac").asText());
        assertEquals(15, headJson.get("seq").asLong());
    }

    @Test
    void aClockThatStepsBackNeverReopensAnOlderDay(@TempDir Path state) throws Exception {
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            log.accept(completion(T0 + DAY_MS, 1));
            assertTrue(eventually(5000, () -> log.written() == 1));
            log.accept(completion(T0 + 5, 2));
            log.accept(completion(T0 + DAY_MS + 10, 3));
            assertTrue(eventually(5000, () -> log.written() == 3));
        }
        assertFalse(Files.exists(state.resolve("audit/audit-2025-01-01.jsonl")));
        assertEquals(3, lines(state.resolve("audit/audit-2025-01-02.jsonl")).size());
        String second = lines(state.resolve("audit/audit-2025-01-02.jsonl")).get(1);
        assertTrue(second.contains("\"time\":\"2025-01-01T00:00:00.005Z\""), "the record keeps its own time");
        assertTrue(verify(state.resolve("audit"), null).intact());
    }

    @Test
    void aRecordHasTheCompletionsFieldsInOrderAndNoContentUnlessEnabled(@TempDir Path state) throws Exception {
        Completion c = Completion.builder("req-42", 0)
                .atMillis(T0 + 1234)
                .key("acme", "key_abcdefabcdef")
                .app("my-app")
                .operation("chat")
                .requestedModel("sim/alpha:floor")
                .stream(true)
                .strategy("floor")
                .selected("sim/alpha", "sim-east")
                .status(200, null)
                .usage(new Usage(120, 45, 80, 0, 30, 10))
                .cost(1_250_000, true)
                .latencyMicros(12_345_678)
                .ttftMicros(250_500)
                .fallbacks(1)
                .score(0.5, ScoreOutcome.VALID)
                .prompt("[{\"role\":\"user\"}]")
                .answer("hello")
                .build();
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            log.accept(c);
            assertTrue(eventually(5000, () -> log.written() == 1));
        }
        String line = lines(state.resolve("audit/audit-2025-01-01.jsonl")).get(0);
        List<String> names = new ArrayList<>();
        Json.MAPPER.readTree(line).fieldNames().forEachRemaining(names::add);
        assertEquals(
                List.of(
                        "seq",
                        "prev",
                        "time",
                        "type",
                        "request_id",
                        "tenant",
                        "key_id",
                        "app",
                        "operation",
                        "requested_model",
                        "selected_model",
                        "endpoint",
                        "strategy",
                        "status",
                        "error_code",
                        "stream",
                        "prompt_tokens",
                        "completion_tokens",
                        "cached_tokens",
                        "cache_write_tokens",
                        "cost_usd",
                        "cost_estimated",
                        "latency_ms",
                        "ttft_ms",
                        "fallbacks",
                        "format",
                        "score",
                        "score_outcome",
                        "mac"),
                names);
        assertTrue(line.contains("\"time\":\"2025-01-01T00:00:01.234Z\""), line);
        assertTrue(
                line.contains("\"prompt_tokens\":120,\"completion_tokens\":45,\"cached_tokens\":80,"
                        + "\"cache_write_tokens\":40,\"cost_usd\":0.00125,"),
                line);
        assertTrue(line.contains("\"latency_ms\":12345.678,\"ttft_ms\":250.500,"), line);
        assertTrue(line.contains("\"score\":0.5,\"score_outcome\":\"valid\""), line);
        assertFalse(line.contains("hello"), "content is not recorded unless record_content is on");

        Path other = state.resolve("with-content");
        AuditConfig content = new AuditConfig(
                true,
                other.resolve("audit"),
                null,
                AuditConfig.Fsync.NONE,
                java.time.Duration.ofSeconds(1),
                16,
                64,
                true);
        try (AuditLog log = AuditLog.open(content, other, ENV, clock)) {
            log.accept(c);
            assertTrue(eventually(5000, () -> log.written() == 1));
        }
        JsonNode withContent = Json.MAPPER.readTree(
                lines(other.resolve("audit/audit-2025-01-01.jsonl")).get(0));
        assertEquals("hello", withContent.get("answer").asText());
        assertEquals("[{\"role\":\"user\"}]", withContent.get("prompt").asText());
        assertTrue(AuditVerifier.verify(List.of(other.resolve("audit")), key(), null)
                .intact());
    }

    @Test
    void aRestartContinuesTheChain(@TempDir Path state) throws Exception {
        for (int round = 0; round < 3; round++) {
            try (AuditLog log = AuditLog.open(config(AuditConfig.Fsync.INTERVAL, 4, 64), state, ENV, clock)) {
                assertEquals(round * 5L, log.head().seq(), "the head is found at open");
                for (int i = 0; i < 5; i++) {
                    log.accept(completion(T0 + round * 60_000 + i, round * 5 + i));
                }
            }
        }
        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(15, r.records());
        assertEquals(15, r.chains().get(0).lastSeq());
    }

    @Test
    void eightThreadsLoseNoRecord(@TempDir Path state) throws Exception {
        int threads = 8;
        int each = 10_000;
        try (AuditLog log = AuditLog.open(config(AuditConfig.Fsync.BATCH, 512, threads * each), state, ENV, clock)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < each; i++) {
                        log.accept(completion(T0 + i, "t" + id + "-" + i, "default", "key_t" + id, "sim/alpha", 200));
                    }
                });
                th.start();
                ts.add(th);
            }
            go.countDown();
            for (Thread th : ts) {
                th.join();
            }
            assertTrue(eventually(30_000, () -> log.written() == threads * each), () -> "written " + log.written());
            assertEquals(0, log.lost());
        }
        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(threads * each, r.records());
        assertEquals(List.of(), r.gaps());
        long distinct = lines(state.resolve("audit/audit-2025-01-01.jsonl")).stream()
                .map(l -> l.substring(l.indexOf("\"request_id\":"), l.indexOf(",\"tenant\"")))
                .distinct()
                .count();
        assertEquals(threads * each, distinct, "every request once");
    }

    /** Writes go through, except while {@link #blocked} holds the writer in its first write, or {@link #full} fails them. */
    private static final class TestOutput implements AuditOutput {
        final AtomicBoolean full = new AtomicBoolean();
        final CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch blocked;

        @Override
        public AuditOutput.Out open(Path file) throws IOException {
            AuditOutput.Out real = AuditOutput.FILES.open(file);
            return new AuditOutput.Out() {
                @Override
                public long size() throws IOException {
                    return real.size();
                }

                @Override
                public void write(ByteBuffer src, long position) throws IOException {
                    CountDownLatch b = blocked;
                    if (b != null) {
                        entered.countDown();
                        try {
                            b.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                        blocked = null;
                    }
                    if (full.get()) {
                        // as a full disk does: part of the batch, then ENOSPC
                        ByteBuffer half = src.duplicate();
                        half.limit(src.position() + src.remaining() / 2);
                        real.write(half, position);
                        throw new IOException("No space left on device");
                    }
                    real.write(src, position);
                }

                @Override
                public void force() throws IOException {
                    real.force();
                }

                @Override
                public void truncate(long size) throws IOException {
                    real.truncate(size);
                }

                @Override
                public void close() throws IOException {
                    real.close();
                }
            };
        }
    }

    @Test
    void aFullQueueLosesRecordsAndAGapRecordCountsThem(@TempDir Path state) throws Exception {
        TestOutput output = new TestOutput();
        output.blocked = new CountDownLatch(1);
        try (AuditLog log = AuditLog.open(config(AuditConfig.Fsync.BATCH, 512, 16), state, ENV, clock, output)) {
            log.accept(completion(T0, 0));
            assertTrue(output.entered.await(5, TimeUnit.SECONDS), "the writer holds record 0 in its write");
            for (int i = 1; i <= 16 + 10; i++) {
                log.accept(completion(T0 + i, i));
            }
            assertEquals(16, log.queued());
            assertEquals(10, log.lost());
            output.blocked.countDown();
            assertTrue(eventually(5000, () -> log.written() == 17));
            log.accept(completion(T0 + 100, 100));
            assertTrue(eventually(5000, () -> log.written() == 18));
        }
        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(1, r.gaps().size());
        AuditVerifier.Gap gap = r.gaps().get(0);
        assertEquals(10, gap.lost());
        assertTrue(gap.reason().startsWith("queue full"), gap.reason());
        assertEquals("2025-01-01T00:00:00.017Z", gap.from());
        assertEquals("2025-01-01T00:00:00.026Z", gap.to());
        assertEquals(2, gap.seq(), "the gap is written with the first batch after the loss, after record 0");
        assertEquals(19, r.records());
    }

    @Test
    void aFullDiskKeepsServingLogsOnceAndRecordsTheGapWhenWritingResumes(@TempDir Path state) throws Exception {
        TestOutput output = new TestOutput();
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger jul = Logger.getLogger(AuditLog.class.getName());
        jul.addHandler(capture);
        try (AuditLog log = AuditLog.open(config(AuditConfig.Fsync.BATCH, 8, 1024), state, ENV, clock, output)) {
            for (int i = 0; i < 20; i++) {
                log.accept(completion(T0 + i, i));
            }
            assertTrue(eventually(5000, () -> log.written() == 20));
            output.full.set(true);
            long slowest = 0;
            // 30 records over about 1.5 s: the writer fails, waits, retries and fails again
            for (int i = 20; i < 50; i++) {
                long t0 = System.nanoTime();
                log.accept(completion(T0 + i, i));
                slowest = Math.max(slowest, System.nanoTime() - t0);
                Thread.sleep(50);
            }
            assertTrue(eventually(5000, () -> log.queued() == 0 && log.lost() == 30), () -> "lost " + log.lost());
            assertTrue(log.writeErrors() >= 2, "retried: " + log.writeErrors());
            assertTrue(slowest < TimeUnit.MILLISECONDS.toNanos(50), "accept never waits for the disk: " + slowest);
            output.full.set(false);
            assertTrue(eventually(5000, () -> log.head().seq() == 21), "the gap record is written on the next retry");
            for (int i = 50; i < 55; i++) {
                log.accept(completion(T0 + i, i));
            }
            assertTrue(eventually(5000, () -> log.written() == 25));
            assertEquals(30, log.lost());
        } finally {
            jul.removeHandler(capture);
        }
        long errors = logged.stream().filter(r -> r.getLevel() == Level.SEVERE).count();
        assertEquals(1, errors, "one ERROR per episode");
        LogRecord error = logged.stream()
                .filter(r -> r.getLevel() == Level.SEVERE)
                .findFirst()
                .orElseThrow();
        assertTrue(
                error.getMessage().contains("audit-2025-01-01.jsonl")
                        && error.getMessage().contains("lost")
                        && error.getMessage().contains("No space left on device"),
                error.getMessage());

        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(1, r.gaps().size());
        assertEquals(30, r.gaps().get(0).lost());
        assertTrue(
                r.gaps().get(0).reason().contains("write failed")
                        && r.gaps().get(0).reason().contains("No space"),
                r.gaps().get(0).reason());
        assertEquals(26, r.records(), "20 + the gap + 5");
    }

    @Test
    void aTornLastLineIsMovedAsideAndNotedAsAGap(@TempDir Path state) throws Exception {
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            for (int i = 0; i < 3; i++) {
                log.accept(completion(T0 + i, i));
            }
            assertTrue(eventually(5000, () -> log.written() == 3));
        }
        Path file = state.resolve("audit/audit-2025-01-01.jsonl");
        String torn = "{\"seq\":4,\"prev\":\"ab";
        Files.writeString(file, torn, java.nio.file.StandardOpenOption.APPEND);
        assertFalse(verify(state.resolve("audit"), null).intact(), "torn: broken until the gateway opens it");
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            assertEquals(1, log.lost());
            log.accept(completion(T0 + 10, 10));
            assertTrue(eventually(5000, () -> log.written() == 1));
        }
        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(1, r.gaps().size());
        assertTrue(r.gaps().get(0).reason().contains("torn"), r.gaps().get(0).reason());
        try (var aside = Files.list(state.resolve("audit"))) {
            Path moved = aside.filter(p -> p.getFileName().toString().startsWith("audit-2025-01-01.jsonl.torn-"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(torn, Files.readString(moved));
        }
    }

    @Test
    void theKeyComesFromTheEnvironmentOrAPrivateFileOutsideTheFolder(@TempDir Path state) throws Exception {
        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> AuditLog.open(config(), state, Map.of(AuditKey.ENV, "abcd"), clock));
        assertTrue(bad.getMessage().contains(AuditKey.ENV), bad.getMessage());
        assertFalse(bad.getMessage().contains("abcd"), "never the key");

        AuditConfig inside = new AuditConfig(
                true,
                state.resolve("audit"),
                state.resolve("audit/audit.key"),
                AuditConfig.Fsync.BATCH,
                java.time.Duration.ofSeconds(1),
                16,
                64,
                false);
        IOException in = assertThrows(IOException.class, () -> AuditLog.open(inside, state, Map.of(), clock));
        assertTrue(in.getMessage().contains("inside the audit folder"), in.getMessage());

        try (AuditLog log = AuditLog.open(config(), state, Map.of(), clock)) {
            log.accept(completion(T0, 1));
            assertTrue(eventually(5000, () -> log.written() == 1));
        }
        Path keyFile = state.resolve("audit.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        byte[] k = AuditKey.forVerify(Map.of(), keyFile);
        assertEquals(32, k.length);
        assertTrue(
                AuditVerifier.verify(List.of(state.resolve("audit")), k, null).intact());

        // the trail was written under the file's key: another key is refused at open, naming the file
        IOException other = assertThrows(IOException.class, () -> AuditLog.open(config(), state, ENV, clock));
        assertTrue(other.getMessage().contains("does not verify under the audit key"), other.getMessage());
    }

    @Test
    void aSecondWriterOnTheFolderWritesAChainOfItsOwn(@TempDir Path state) throws Exception {
        try (AuditLog a = AuditLog.open(config(), state, ENV, clock);
                AuditLog b = AuditLog.open(config(), state, ENV, clock)) {
            assertEquals(0, a.slot());
            assertEquals(1, b.slot());
            for (int i = 0; i < 10; i++) {
                a.accept(completion(T0 + i, i));
                b.accept(completion(T0 + i, 100 + i));
            }
            assertTrue(eventually(5000, () -> a.written() == 10 && b.written() == 10));
            assertEquals("audit-2025-01-01.1.jsonl", b.head().file());
        }
        AuditVerifier.Result r = verify(state.resolve("audit"), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(2, r.chains().size());
        assertEquals(20, r.records());
        // slot 0 is free again: the next writer continues the main chain
        try (AuditLog c = AuditLog.open(config(), state, ENV, clock)) {
            assertEquals(0, c.slot());
            assertEquals(10, c.head().seq());
        }
    }

    @Test
    void recordTimesAreIsoUtcWithMilliseconds() {
        AuditFormat f = new AuditFormat(key(), false);
        java.util.Random random = new java.util.Random(5);
        long[] fixed = {0, 5, 45, 999, 1000, T0, T0 + 7, T0 + 86_399_999L, -1, 253_402_300_799_999L};
        for (long ms : fixed) {
            assertEquals(AuditFormat.time(ms), f.timeOf(ms), "at " + ms);
        }
        for (int i = 0; i < 10_000; i++) {
            long ms = T0 + random.nextInt(3_000) + (i % 3 == 0 ? random.nextInt(1_000_000_000) : 0);
            assertEquals(AuditFormat.time(ms), f.timeOf(ms), "at " + ms);
        }
        assertEquals("2025-01-01T00:00:00.007Z", f.timeOf(T0 + 7));
    }

    @Test
    void theShippedConfigDocumentsTheDefaults() throws Exception {
        assertEquals(
                AuditConfig.DEFAULTS,
                io.brainstorm.proxy.config.ConfigLoader.load(Path.of("..", "conf", "brainstorm.yaml"), Map.of())
                        .audit());
    }

    @Test
    void afterCloseRecordsAreCountedAsLost(@TempDir Path state) throws Exception {
        AuditLog log = AuditLog.open(config(), state, ENV, clock);
        log.close();
        log.accept(completion(T0, 1));
        assertEquals(1, log.lost());
        assertNull(log.head().file());
        log.close();
    }
}
