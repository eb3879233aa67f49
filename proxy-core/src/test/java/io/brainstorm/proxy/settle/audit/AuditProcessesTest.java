package io.brainstorm.proxy.settle.audit;

import static io.brainstorm.proxy.settle.audit.AuditTesting.ENV;
import static io.brainstorm.proxy.settle.audit.AuditTesting.T0;
import static io.brainstorm.proxy.settle.audit.AuditTesting.completion;
import static io.brainstorm.proxy.settle.audit.AuditTesting.config;
import static io.brainstorm.proxy.settle.audit.AuditTesting.eventually;
import static io.brainstorm.proxy.settle.audit.AuditTesting.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import io.brainstorm.proxy.testing.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Audit writers in two processes on one folder, and a writer killed with SIGKILL mid-write ({@link AuditChild}). */
class AuditProcessesTest {
    private final ManualClock clock = new ManualClock(Instant.ofEpochMilli(T0));

    @Test
    void aSecondProcessWritesItsOwnChainBesideTheFirst(@TempDir Path state) throws Exception {
        try (AuditLog mine = AuditLog.open(config(), state, ENV, clock)) {
            assertEquals(0, mine.slot());
            ChildJvm child = ChildJvm.main(AuditChild.class)
                    .args(state.toString(), "write", "300")
                    .start();
            try {
                assertEquals("slot 1", child.await("slot"), "slot 0 is this process's");
                for (int i = 0; i < 300; i++) {
                    mine.accept(completion(T0 + i, i));
                }
                assertEquals("done 300", child.await("done"));
                assertTrue(child.process().waitFor(10, TimeUnit.SECONDS));
            } finally {
                child.process().destroyForcibly();
            }
            assertTrue(eventually(5000, () -> mine.written() == 300));
        }
        assertTrue(Files.exists(state.resolve("audit/audit-2025-01-01.jsonl")));
        assertTrue(Files.exists(state.resolve("audit/audit-2025-01-01.1.jsonl")));
        AuditVerifier.Result r = AuditVerifier.verify(List.of(state.resolve("audit")), key(), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(2, r.chains().size());
        assertEquals(
                List.of(300L, 300L),
                r.chains().stream().map(AuditVerifier.Chain::records).toList());
    }

    @Test
    void afterKillNineTheNextWriterContinuesAnIntactChain(@TempDir Path state) throws Exception {
        ChildJvm child =
                ChildJvm.main(AuditChild.class).args(state.toString(), "flood").start();
        try {
            assertEquals("slot 0", child.await("slot"));
            child.await("written ");
        } finally {
            child.process().destroyForcibly();
            assertTrue(child.process().waitFor(10, TimeUnit.SECONDS));
        }
        long before;
        try (AuditLog log = AuditLog.open(config(), state, ENV, clock)) {
            assertEquals(0, log.slot(), "a killed process's lock is gone with it");
            before = log.head().seq();
            assertTrue(before >= 1000, "resumed at " + before);
            for (int i = 0; i < 10; i++) {
                log.accept(completion(T0 + 1_000_000 + i, 100_000 + i));
            }
            assertTrue(eventually(5000, () -> log.written() == 10));
        }
        AuditVerifier.Result r = AuditVerifier.verify(List.of(state.resolve("audit")), key(), null);
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertTrue(r.chains().get(0).fromStart());
        // the records written before the kill, a gap if the kill tore a line, and the ten after
        long gapsAfter = r.gaps().stream().filter(g -> g.seq() > before).count();
        assertTrue(gapsAfter <= 1, r.gaps().toString());
        assertEquals(before + gapsAfter + 10, r.records(), () -> r.chains() + " " + r.gaps());
    }
}
