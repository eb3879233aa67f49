package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.settle.audit.AuditKey;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.settle.audit.AuditVerifier;
import io.brainstorm.proxy.state.Reservation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the audit trail says about budget writes that waited for a real {@code redis-server} that
 * was stopped and started again: one {@code "type":"state"} record when they start to wait, one when
 * they are written (how many, the spend of settles and journal batches), none per request and none
 * while Redis answers; and the trail still verifies.
 */
class RedisLimitsAuditTest {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC);
    private static final String KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    @TempDir
    Path tmp;

    private RedisServerFixture server;
    private RedisLink link;
    private RedisLimits limits;
    private AuditLog audit;

    @BeforeEach
    void start() throws Exception {
        server = RedisServerFixture.start(tmp.resolve("redis"), true);
        audit = AuditLog.open(
                AuditConfig.DEFAULTS, tmp.resolve("state"), Map.of(AuditKey.ENV, KEY_HEX), InstantSource.system());
        link = RedisLink.connect(RedisConfig.of(server.uri()));
        limits = new RedisLimits(link, Duration.ofMinutes(5), false);
        limits.events(audit.storeEvents("redis"));
    }

    @AfterEach
    void stop() throws Exception {
        if (limits != null) {
            limits.close();
        }
        if (link != null) {
            link.close();
        }
        if (audit != null) {
            audit.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static <T> T join(java.util.concurrent.CompletionStage<T> f) {
        return f.toCompletableFuture().join();
    }

    /** The trail's records of {@code "type":"state"}, oldest first. */
    private List<JsonNode> stateRecords() {
        List<JsonNode> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(audit.dir())) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl"))
                    .sorted()
                    .toList()) {
                for (String line : Files.readAllLines(f)) {
                    JsonNode r = Json.MAPPER.readTree(line);
                    if (r.get("type").asText().equals("state")) {
                        out.add(r);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private Reservation capped() {
        return join(limits.reserve("capped", DAY, ZoneOffset.UTC, 5_000, 1_000_000));
    }

    /** Stops Redis, settles {@code a}, releases {@code b}, journals {@code free}, starts Redis, waits till written. */
    private void outage(Reservation a, Reservation b, Reservation free) throws Exception {
        server.stop();
        limits.settle(a, 1_200);
        await(() -> limits.deferred() >= 1, "the settle waiting");
        limits.release(b);
        limits.settle(free, 700);
        // the journal's batch joins the queue on the writer's next round
        await(() -> limits.deferred() >= 3, "the release and the journal batch waiting");
        Thread.sleep(300);
        server.start();
        await(() -> limits.deferred() == 0, "the waiting writes written after Redis came back");
    }

    private void assertEpisode(List<JsonNode> records, int at) {
        JsonNode waiting = records.get(at);
        assertEquals("redis", waiting.get("store").asText(), waiting.toString());
        assertEquals("writes_waiting", waiting.get("event").asText(), waiting.toString());
        assertEquals("settle", waiting.get("first_write").asText(), waiting.toString());
        JsonNode written = records.get(at + 1);
        assertEquals("waiting_written", written.get("event").asText(), written.toString());
        assertEquals(3, written.get("writes").asLong(), written.toString());
        assertEquals("0.0000012", written.get("settled_usd").decimalValue().toPlainString(), written.toString());
        assertEquals("0.0000007", written.get("journaled_usd").decimalValue().toPlainString(), written.toString());
        assertEquals(waiting.get("time").asText(), written.get("from").asText());
        assertTrue(
                written.get("to").asText().compareTo(written.get("from").asText()) > 0,
                "the episode lasted the 300 ms Redis was away: " + written);
    }

    @Test
    void eachOutageIsTwoStateRecordsAndNothingWhileRedisAnswers() throws Exception {
        for (int i = 0; i < 20; i++) {
            limits.settle(capped(), 10);
            limits.settle(join(limits.reserve("free", DAY, ZoneOffset.UTC, 5_000, KeyLimits.UNLIMITED)), 10);
        }
        Thread.sleep(300);
        assertEquals(List.of(), stateRecords(), "no state record while Redis answers");

        outage(capped(), capped(), join(limits.reserve("free", DAY, ZoneOffset.UTC, 5_000, KeyLimits.UNLIMITED)));
        await(() -> stateRecords().size() >= 2, "the episode's two records");
        for (int i = 0; i < 20; i++) {
            limits.settle(capped(), 10);
        }
        Thread.sleep(300);
        List<JsonNode> first = stateRecords();
        assertEquals(2, first.size(), first.toString());
        assertEpisode(first, 0);

        outage(capped(), capped(), join(limits.reserve("free", DAY, ZoneOffset.UTC, 5_000, KeyLimits.UNLIMITED)));
        await(() -> stateRecords().size() >= 4, "the second episode's two records");
        Thread.sleep(300);
        List<JsonNode> both = stateRecords();
        assertEquals(4, both.size(), both.toString());
        assertEpisode(both, 2);
        assertEquals(0, limits.lost());

        String head = audit.head().mac();
        AuditVerifier.Result r =
                AuditVerifier.verify(List.of(audit.dir()), HexFormat.of().parseHex(KEY_HEX), head);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(4, r.records());
    }

    @Test
    void writesStillWaitingAtCloseAreRecordedAsLost() throws Exception {
        Reservation a = capped();
        Reservation b = capped();
        server.stop();
        limits.settle(a, 1_200);
        limits.settle(b, 800);
        await(() -> limits.deferred() == 2, "both settles waiting");
        limits.close(); // tries for 5 s, Redis stays away
        limits = null;
        await(() -> stateRecords().size() >= 2, "the waiting and the lost record");
        List<JsonNode> records = stateRecords();
        assertEquals(2, records.size(), records.toString());
        assertEquals("writes_waiting", records.get(0).get("event").asText());
        JsonNode lost = records.get(1);
        assertEquals("writes_lost", lost.get("event").asText(), lost.toString());
        assertEquals(2, lost.get("writes").asLong(), lost.toString());
        assertEquals("still waiting for Redis at shutdown", lost.get("reason").asText());
    }
}
