package io.brainstorm.proxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.audit.AuditLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code brainstorm-proxy audit verify} through {@link Main#run}, on a trail of two days written by {@link AuditLog}. */
class AuditCommandTest {
    /** 2025-01-01T00:00:00Z. */
    private static final long T0 = 1_735_689_600_000L;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(Map<String, String> env, String... args) {
        out.reset();
        err.reset();
        return Main.run(
                args,
                env,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Six records on 2025-01-01 and six on 2025-01-02 under {@code state}'s generated key; returns the head MAC. */
    private static String trail(Path state) throws Exception {
        try (AuditLog log =
                AuditLog.open(AuditConfig.DEFAULTS, state, Map.of(), InstantSource.fixed(Instant.ofEpochMilli(T0)))) {
            for (int i = 0; i < 12; i++) {
                log.accept(Completion.builder("req-" + i, 0)
                        .atMillis(T0 + (i / 6) * 86_400_000L + i)
                        .key("default", "key_0123456789ab")
                        .operation("chat")
                        .requestedModel("sim/alpha")
                        .strategy("floor")
                        .selected("sim/alpha", "sim-east")
                        .status(200, null)
                        .tokens(10, 20)
                        .cost(1000, false)
                        .latencyMicros(5000)
                        .score(1, ScoreOutcome.PLAIN_OK)
                        .build());
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (log.written() < 12 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            return log.head().mac();
        }
    }

    @Test
    void anIntactTrailExitsZeroWithASummary(@TempDir Path state) throws Exception {
        String head = trail(state);
        assertEquals(0, run(Map.of(), "audit", "verify", "--state-dir", state.toString()), out());
        String o = out();
        assertTrue(o.startsWith("audit trail intact: 2 files, 12 records, 0 gaps (0 records lost)"), o);
        assertTrue(
                o.contains("seq 1 to 12, audit-2025-01-01.jsonl .. audit-2025-01-02.jsonl, from the chain's start"), o);
        assertTrue(o.contains("mac " + head), o);

        assertEquals(
                0,
                run(
                        Map.of(),
                        "audit",
                        "verify",
                        "--head",
                        head,
                        "--key-file",
                        state.resolve("audit.key").toString(),
                        state.resolve("audit/audit-2025-01-02.jsonl").toString()),
                out());
        assertTrue(out().contains("NOT from the chain's start"), out());
        assertTrue(out().contains("expected head found at seq 12 (the last record)"), out());
    }

    @Test
    void aBrokenTrailExitsOneNamingFileLineAndSeq(@TempDir Path state) throws Exception {
        String head = trail(state);
        Path day2 = state.resolve("audit/audit-2025-01-02.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(day2));
        lines.set(1, lines.get(1).replace("\"prompt_tokens\":10", "\"prompt_tokens\":1"));
        Files.writeString(day2, String.join("\n", lines) + "\n");
        assertEquals(1, run(Map.of(), "audit", "verify", "--state-dir", state.toString()));
        assertTrue(out().startsWith("audit trail BROKEN at audit-2025-01-02.jsonl line 2 (seq 8): edited:"), out());
        assertTrue(out().contains("before it, 7 records verify (seq 1 to 7)"), out());

        Files.writeString(day2, String.join("\n", lines.subList(0, 1)) + "\n");
        assertEquals(1, run(Map.of(), "audit", "verify", "--state-dir", state.toString(), "--head", head));
        assertTrue(out().startsWith("audit trail BROKEN at audit-2025-01-02.jsonl line 1 (seq 7): truncated:"), out());
    }

    @Test
    void theHeadCanComeFromTheAdminApi(@TempDir Path state) throws Exception {
        String head = trail(state);
        Path day2 = state.resolve("audit/audit-2025-01-02.jsonl");
        com.sun.net.httpserver.HttpServer admin =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        admin.createContext("/admin/v1/audit/head", x -> {
            boolean ok = ("Bearer admin-token-for-the-test-0001")
                    .equals(x.getRequestHeaders().getFirst("Authorization"));
            byte[] body = (ok
                            ? "{\"object\":\"audit_head\",\"mac\":\"" + head + "\"}"
                            : "{\"error\":{\"message\":\"bad token\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", "application/json");
            x.sendResponseHeaders(ok ? 200 : 401, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        admin.start();
        try {
            String url = "http://127.0.0.1:" + admin.getAddress().getPort();
            Map<String, String> env = Map.of("BR_ADMIN_TOKEN", "admin-token-for-the-test-0001");
            assertEquals(
                    0,
                    run(
                            env,
                            "audit",
                            "verify",
                            "--state-dir",
                            state.toString(),
                            "--head-from-admin",
                            "--admin-url",
                            url),
                    out());
            assertTrue(out().contains("expected head found at seq 12"), out());

            List<String> lines = Files.readAllLines(day2);
            Files.writeString(day2, String.join("\n", lines.subList(0, 5)) + "\n");
            assertEquals(
                    1,
                    run(
                            env,
                            "audit",
                            "verify",
                            "--state-dir",
                            state.toString(),
                            "--head-from-admin",
                            "--admin-url",
                            url),
                    out());
            assertTrue(out().contains("truncated"), out());

            assertEquals(
                    2,
                    run(
                            Map.of("BR_ADMIN_TOKEN", "wrong-token-for-the-test-0000"),
                            "audit",
                            "verify",
                            "--state-dir",
                            state.toString(),
                            "--head-from-admin",
                            "--admin-url",
                            url));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("bad token"), err.toString());
        } finally {
            admin.stop(0);
        }
    }

    @Test
    void withoutKeyOrFilesItCannotCheckAndSaysWhy(@TempDir Path state) throws Exception {
        assertEquals(2, run(Map.of(), "audit", "verify", "--state-dir", state.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("audit.key does not exist"), err.toString());
        trail(state);
        assertEquals(2, run(Map.of("BR_AUDIT_KEY", "not-a-key"), "audit", "verify", "--state-dir", state.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("BR_AUDIT_KEY"), err.toString());
        assertEquals(
                2,
                run(
                        Map.of(),
                        "audit",
                        "verify",
                        "--state-dir",
                        state.toString(),
                        state.resolve("nothing-here").toString()));
        assertThrows(Main.UsageException.class, () -> run(Map.of(), "audit", "check"));
        assertThrows(Main.UsageException.class, () -> run(Map.of(), "audit", "verify", "--head", "xyz"));
    }
}
