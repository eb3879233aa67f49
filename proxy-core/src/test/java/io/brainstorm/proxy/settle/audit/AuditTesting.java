package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Completions and configs for the audit tests. */
final class AuditTesting {
    static final long DAY_MS = 86_400_000L;
    /** 2025-01-01T00:00:00Z. */
    static final long T0 = 1_735_689_600_000L;

    static final String KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    static final Map<String, String> ENV = Map.of(AuditKey.ENV, KEY_HEX);

    private AuditTesting() {}

    static byte[] key() {
        return HexFormat.of().parseHex(KEY_HEX);
    }

    static AuditConfig config(AuditConfig.Fsync fsync, int batch, int queue) {
        return new AuditConfig(true, null, null, fsync, Duration.ofMillis(50), batch, queue, false);
    }

    static AuditConfig config() {
        return config(AuditConfig.Fsync.BATCH, 512, 65_536);
    }

    /** A chat request of {@code tenant}'s key {@code keyId} that ended at {@code atMillis}. */
    static Completion completion(
            long atMillis, String requestId, String tenant, String keyId, String model, int status) {
        boolean ok = status == 200;
        return Completion.builder(requestId, 0)
                .atMillis(atMillis)
                .key(tenant, keyId)
                .app("test-app")
                .operation("chat")
                .requestedModel(model)
                .strategy("floor")
                .selected(ok ? model : null, ok ? "sim-east" : null)
                .status(status, ok ? null : "upstream_error")
                .tokens(12, ok ? 34 : 0)
                .cost(ok ? 1_250_000 : 0, false)
                .latencyMicros(12_345)
                .score(ok ? 1.0 : 0.0, ok ? ScoreOutcome.PLAIN_OK : ScoreOutcome.ERROR)
                .prompt("prompt text")
                .answer("answer text")
                .build();
    }

    static Completion completion(long atMillis, int i) {
        return completion(atMillis, "req-" + i, "default", "key_000000000001", "sim/alpha", 200);
    }

    static boolean eventually(long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(5);
        }
        return condition.getAsBoolean();
    }

    static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    static void writeLines(Path file, List<String> lines) throws IOException {
        Files.writeString(file, lines.isEmpty() ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }
}
