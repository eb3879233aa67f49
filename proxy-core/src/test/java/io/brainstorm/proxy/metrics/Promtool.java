package io.brainstorm.proxy.metrics;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' own checker of the text format, {@code promtool check metrics} (Debian's
 * {@code prometheus} package): it parses an exposition with Prometheus' parser and lints it
 * (HELP present, counters ending in {@code _total}, base units, …).
 */
public final class Promtool {
    static final Path BINARY = Path.of("/usr/bin/promtool");

    /** What promtool said: its exit code and everything it printed. */
    public record Verdict(int exitCode, String output) {
        public boolean clean() {
            return exitCode == 0 && output.isBlank();
        }
    }

    private Promtool() {}

    /** Skips the calling test, saying why, when promtool is not installed. */
    public static void assumeInstalled() {
        assumeTrue(
                Files.isExecutable(BINARY),
                BINARY + " is not installed (Debian package prometheus; .ci/run installs"
                        + " it): the exposition is not checked with Prometheus' parser");
    }

    /** Runs {@code promtool check metrics} on {@code exposition} (its stdin). */
    public static Verdict check(String exposition) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BINARY.toString(), "check", "metrics")
                .redirectErrorStream(true)
                .start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("promtool check metrics did not end within 30 s");
        }
        return new Verdict(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
