package io.brainstorm.proxy.settle.audit;

import static io.brainstorm.proxy.settle.audit.AuditTesting.DAY_MS;
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

import io.brainstorm.proxy.testing.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trail of three days, ten records a day (seq 1–10, 11–20, 21–30), tampered with the way an
 * auditor fears; the verifier must point at the record where it happened.
 */
class AuditVerifierTest {
    @TempDir
    Path state;

    private Path dir;
    private Path day1;
    private Path day2;
    private Path day3;
    private String head;

    @BeforeEach
    void writeTrail() throws Exception {
        try (AuditLog log = AuditLog.open(config(), state, ENV, new ManualClock(Instant.ofEpochMilli(T0)))) {
            for (int day = 0; day < 3; day++) {
                for (int i = 0; i < 10; i++) {
                    log.accept(completion(T0 + day * DAY_MS + i * 1000, day * 10 + i));
                }
            }
            assertTrue(eventually(5000, () -> log.written() == 30));
            head = log.head().mac();
        }
        dir = state.resolve("audit");
        day1 = dir.resolve("audit-2025-01-01.jsonl");
        day2 = dir.resolve("audit-2025-01-02.jsonl");
        day3 = dir.resolve("audit-2025-01-03.jsonl");
    }

    private AuditVerifier.Result verify(String expectedHead) throws IOException {
        return AuditVerifier.verify(List.of(dir), key(), expectedHead);
    }

    private void assertBroken(AuditVerifier.Result r, Path file, long line, long seq, AuditVerifier.Problem problem) {
        assertFalse(r.intact(), "not detected");
        AuditVerifier.Break b = r.broken();
        assertEquals(file, b.file(), b.toString());
        assertEquals(line, b.line(), b.toString());
        assertEquals(seq, b.seq(), b.toString());
        assertEquals(problem, b.problem(), b.toString());
    }

    @Test
    void anUntouchedTrailVerifiesUpToItsHead() throws Exception {
        AuditVerifier.Result r = verify(head);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(30, r.records());
        assertEquals(30, r.headFound());
        assertEquals(head, r.chains().get(0).headMac());
    }

    @Test
    void anEditedFieldIsFoundAtItsLine() throws Exception {
        List<String> lines = new ArrayList<>(lines(day2));
        String k = lines.get(3);
        assertTrue(k.contains("\"status\":200"));
        lines.set(3, k.replace("\"status\":200", "\"status\":500"));
        writeLines(day2, lines);
        assertBroken(verify(null), day2, 4, 14, AuditVerifier.Problem.EDITED);
    }

    @Test
    void aDeletedRecordIsFoundWhereItWas() throws Exception {
        List<String> lines = new ArrayList<>(lines(day2));
        lines.remove(5);
        writeLines(day2, lines);
        AuditVerifier.Result r = verify(null);
        assertBroken(r, day2, 6, 17, AuditVerifier.Problem.DELETED);
        assertTrue(r.broken().detail().contains("seq 16 is missing"), r.broken().detail());
    }

    @Test
    void swappedRecordsAreReportedAsReordered() throws Exception {
        List<String> lines = new ArrayList<>(lines(day1));
        Collections.swap(lines, 2, 3);
        writeLines(day1, lines);
        assertBroken(verify(null), day1, 3, 4, AuditVerifier.Problem.REORDERED);
    }

    @Test
    void recordsCutFromTheEndAreFoundWithTheHead() throws Exception {
        List<String> lines = new ArrayList<>(lines(day3));
        writeLines(day3, lines.subList(0, 7));
        assertTrue(verify(null).intact(), "without the head a truncated trail looks whole");
        assertBroken(verify(head), day3, 7, 27, AuditVerifier.Problem.TRUNCATED);
    }

    @Test
    void recordsCutFromTheEndOfAnEarlierDayBreakTheNextDaysFirstRecord() throws Exception {
        writeLines(day1, lines(day1).subList(0, 8));
        AuditVerifier.Result r = verify(null);
        assertBroken(r, day2, 1, 11, AuditVerifier.Problem.DELETED);
        assertTrue(
                r.broken().detail().contains("audit-2025-01-01.jsonl"),
                r.broken().detail());
    }

    @Test
    void aDeletedDayFileBreaksTheNextFilesFirstRecord() throws Exception {
        Files.delete(day2);
        AuditVerifier.Result r = verify(head);
        assertBroken(r, day3, 1, 21, AuditVerifier.Problem.DELETED);
        assertTrue(
                r.broken().detail().contains("records seq 11 to 20 (10) are missing"),
                r.broken().detail());
    }

    @Test
    void aTornLastLineIsMalformed() throws Exception {
        String last = lines(day3).get(9);
        List<String> lines = new ArrayList<>(lines(day3).subList(0, 9));
        writeLines(day3, lines);
        Files.writeString(day3, last.substring(0, 40), java.nio.file.StandardOpenOption.APPEND);
        assertBroken(verify(null), day3, 10, -1, AuditVerifier.Problem.MALFORMED);
    }

    @Test
    void aFileAloneVerifiesFromItsFirstRecord() throws Exception {
        AuditVerifier.Result r = AuditVerifier.verify(List.of(day2), key(), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(10, r.records());
        assertFalse(r.chains().get(0).fromStart());
        assertEquals(11, r.chains().get(0).firstSeq());
    }

    @Test
    void anotherKeyFindsTheFirstRecordEdited() throws Exception {
        byte[] other = key();
        other[0] ^= 1;
        assertBroken(AuditVerifier.verify(List.of(dir), other, null), day1, 1, 1, AuditVerifier.Problem.EDITED);
    }
}
