package io.brainstorm.proxy.settle.audit;

import static io.brainstorm.proxy.settle.audit.AuditTesting.ENV;
import static io.brainstorm.proxy.settle.audit.AuditTesting.T0;
import static io.brainstorm.proxy.settle.audit.AuditTesting.completion;
import static io.brainstorm.proxy.settle.audit.AuditTesting.config;
import static io.brainstorm.proxy.settle.audit.AuditTesting.eventually;
import static io.brainstorm.proxy.settle.audit.AuditTesting.key;
import static io.brainstorm.proxy.settle.audit.AuditTesting.lines;
import static io.brainstorm.proxy.settle.audit.AuditTesting.writeLines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.state.StoreEvents;
import io.brainstorm.proxy.testing.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code "type":"state"} records (a shared store's budget writes that waited for it) in one day
 * file beside request and gap records: their fields, and that the chain covers them like the others.
 * The trail: request (seq 1), gap for a torn line (2), writes_waiting (3), waiting_written (4),
 * writes_lost (5), request (6).
 */
class AuditStateRecordTest {
    @TempDir
    Path state;

    private Path day;
    private String head;

    @BeforeEach
    void writeTrail() throws Exception {
        ManualClock clock = new ManualClock(Instant.ofEpochMilli(T0 + 5_000));
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            log.accept(completion(T0 + 1_000, 1));
            assertTrue(eventually(5000, () -> log.written() == 1));
        }
        day = state.resolve("audit").resolve("audit-2025-01-01.jsonl");
        Files.writeString(day, "{\"seq\":2,\"prev\":\"ab", StandardOpenOption.APPEND);
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            StoreEvents events = log.storeEvents("redis");
            events.writesWaiting(T0 + 10_000, "settle");
            events.waitingWritten(3, 1_250_000_000L, 700L, T0 + 10_000, T0 + 12_345);
            events.writesLost(T0 + 12_345, 2, "refused by Redis (RedisCommandExecutionException)");
            assertTrue(eventually(5000, () -> log.head().seq() == 5), "the three state records written");
            log.accept(completion(T0 + 13_000, 2));
            assertTrue(eventually(5000, () -> log.head().seq() == 6));
            head = log.head().mac();
            assertEquals(1, log.written(), "this log wrote one request record; state records are not counted");
        }
    }

    private static JsonNode json(String line) throws Exception {
        return Json.MAPPER.readTree(line);
    }

    @Test
    void stateRecordsCarryTheirEventsFieldsAndNoKeyOrTenant() throws Exception {
        List<String> lines = lines(day);
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertEquals(
                List.of("request", "gap", "state", "state", "state", "request"),
                lines.stream()
                        .map(l -> l.replaceAll(".*\"type\":\"([a-z]+)\".*", "$1"))
                        .toList());
        assertTrue(
                lines.get(2)
                        .startsWith("{\"seq\":3,\"prev\":\""
                                + json(lines.get(1)).get("mac").asText()
                                + "\",\"time\":\"2025-01-01T00:00:10.000Z\",\"type\":\"state\","
                                + "\"store\":\"redis\",\"event\":\"writes_waiting\",\"first_write\":\"settle\","
                                + "\"mac\":\""),
                lines.get(2));
        JsonNode written = json(lines.get(3));
        assertEquals("waiting_written", written.get("event").asText());
        assertEquals("2025-01-01T00:00:12.345Z", written.get("time").asText());
        assertEquals(3, written.get("writes").asLong());
        assertEquals("1.25", written.get("settled_usd").decimalValue().toPlainString());
        assertEquals("0.0000007", written.get("journaled_usd").decimalValue().toPlainString());
        assertEquals("2025-01-01T00:00:10.000Z", written.get("from").asText());
        assertEquals("2025-01-01T00:00:12.345Z", written.get("to").asText());
        JsonNode lost = json(lines.get(4));
        assertEquals("writes_lost", lost.get("event").asText());
        assertEquals(2, lost.get("writes").asLong());
        assertEquals(
                "refused by Redis (RedisCommandExecutionException)",
                lost.get("reason").asText());
        for (int i = 2; i <= 4; i++) {
            JsonNode s = json(lines.get(i));
            assertFalse(s.has("tenant") || s.has("key_id"), lines.get(i));
        }
    }

    @Test
    void aTrailWithRequestGapAndStateRecordsVerifiesToItsHead() throws Exception {
        AuditVerifier.Result r = AuditVerifier.verify(List.of(state.resolve("audit")), key(), head);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(6, r.records());
        assertEquals(6, r.headFound());
        assertEquals(1, r.gaps().size());
    }

    @Test
    void anEditedStateRecordIsFoundAtItsLine() throws Exception {
        List<String> lines = new ArrayList<>(lines(day));
        String s = lines.get(3);
        assertTrue(s.contains("\"writes\":3,"), s);
        lines.set(3, s.replace("\"writes\":3,", "\"writes\":1,"));
        writeLines(day, lines);
        AuditVerifier.Result r = AuditVerifier.verify(List.of(state.resolve("audit")), key(), head);
        assertFalse(r.intact());
        assertEquals(day, r.broken().file());
        assertEquals(4, r.broken().line());
        assertEquals(4, r.broken().seq());
        assertEquals(AuditVerifier.Problem.EDITED, r.broken().problem());
    }

    @Test
    void aDeletedStateRecordIsFound() throws Exception {
        List<String> lines = new ArrayList<>(lines(day));
        lines.remove(4);
        writeLines(day, lines);
        AuditVerifier.Result r = AuditVerifier.verify(List.of(state.resolve("audit")), key(), head);
        assertFalse(r.intact());
        assertEquals(5, r.broken().line());
        assertEquals(AuditVerifier.Problem.DELETED, r.broken().problem());
    }
}
