package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GatewayServer#start} opens the state store on a thread of its own while the rest starts:
 * a store that cannot open still fails the start with its reason, and a start that fails while the
 * store opens leaves no state file mapped.
 */
class GatewayServerStartTest {
    @TempDir
    Path dir;

    @Test
    void aStoreThatCannotOpenFailsTheStartAndFreesTheListener() throws Exception {
        Path state = dir.resolve("state");
        Files.createDirectories(state.resolve("rates.cm3")); // a directory where a state file belongs
        int port = freePort();
        GatewayConfig config = config(port, 0, state);
        try (Registry registry = Registry.inMemory(Registry.Bootstrap.of(config, Map.of()), InstantSource.system())) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> GatewayServer.start(config, registry, 1));
            assertTrue(e.getMessage().contains(state.toString()), e.getMessage());
        }
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertTrue(again.isBound());
        }
    }

    @Test
    void aStartThatFailsWhileTheStoreOpensLeavesNoStateFileMapped() throws Exception {
        Path maps = Path.of("/proc/self/maps");
        assumeTrue(Files.isReadable(maps), "needs /proc/self/maps (Linux)");
        Path state = dir.resolve("state");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            GatewayConfig config = config(0, taken.getLocalPort(), state); // the simulated provider cannot bind
            try (Registry registry =
                    Registry.inMemory(Registry.Bootstrap.of(config, Map.of()), InstantSource.system())) {
                assertThrows(RuntimeException.class, () -> GatewayServer.start(config, registry, 1));
            }
        }
        // the store goes on opening after the failure; once it is open it must be closed again
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("br-state-open"))) {
            assertTrue(System.nanoTime() < deadline, "br-state-open still running after 20 s");
            Thread.sleep(20);
        }
        String real = state.toRealPath().toString();
        assertTrue(
                Files.readAllLines(maps).stream().noneMatch(l -> l.contains(real)),
                "a state file of " + real + " is still mapped after the failed start");
    }

    private static GatewayConfig config(int port, int simPort, Path state) throws Exception {
        String yaml = """
                server:
                  host: 127.0.0.1
                  port: %d
                  shutdown_grace_seconds: 1
                admin:
                  enabled: false
                sim:
                  enabled: true
                  port: %d
                state_dir: %s
                state_store: files
                routing:
                  plugins_dir: %s
                """.formatted(port, simPort, state, state.resolveSibling("no-plugins"));
        return ConfigLoader.load(yaml, Path.of("."), Map.of());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
