package io.brainstorm.proxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.ConfigException;
import io.brainstorm.proxy.config.GatewayConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(Map<String, String> env, String... args) {
        return Main.run(
                args,
                env,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void versionAndHelp() {
        assertEquals(0, run(Map.of(), "version"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("brainstorm-proxy "));
        assertEquals(0, run(Map.of(), "help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--state-dir"));
    }

    @Test
    void mistakesAreUsageErrors() {
        Main.UsageException unknown = assertThrows(Main.UsageException.class, () -> run(Map.of(), "frobnicate"));
        assertTrue(unknown.getMessage().contains("frobnicate"));
        Main.UsageException option =
                assertThrows(Main.UsageException.class, () -> run(Map.of(), "serve", "--bogus", "1"));
        assertTrue(option.getMessage().contains("--bogus"));
        Main.UsageException port =
                assertThrows(Main.UsageException.class, () -> run(Map.of(), "serve", "--port", "http"));
        assertTrue(port.getMessage().contains("--port"));
    }

    @Test
    void badConfigFailsWithTheFieldNamed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("brainstorm.yaml");
        Files.writeString(file, "server:\n  prot: 8080\n");
        assertEquals(1, run(Map.of(), "serve", "--config", file.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("server.prot"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void missingExplicitConfigIsAnError() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> Main.loadConfig("/nonexistent/brainstorm.yaml", Map.of()));
        assertTrue(e.getMessage().contains("--config"));
    }

    @Test
    void withoutAConfigFileTheDefaultsApply() throws Exception {
        String home = System.getProperty("brainstorm.home");
        System.setProperty("brainstorm.home", "/nonexistent");
        try {
            GatewayConfig c = Main.loadConfig(null, Map.of());
            assertEquals(8080, c.server().port());
            assertTrue(c.sim().enabled());
        } finally {
            if (home == null) {
                System.clearProperty("brainstorm.home");
            } else {
                System.setProperty("brainstorm.home", home);
            }
        }
    }
}
