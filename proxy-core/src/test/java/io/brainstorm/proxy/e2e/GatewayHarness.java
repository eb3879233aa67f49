package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.sim.SimServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real gateway on a loopback port 0 with the simulated provider (random faults off unless the
 * YAML says otherwise) and one known API key, for end-to-end tests. State is on the heap unless a
 * test asks for the state files.
 */
final class GatewayHarness implements AutoCloseable {
    final String apiKey = ApiKeys.generate();
    /** The super-admin token of the admin API. */
    final String adminToken = "br_admin_" + ApiKeys.generate().substring(ApiKeys.PREFIX.length());

    final Registry registry;
    final GatewayServer server;
    final Path stateDir;
    /** Whether {@link #stateDir} was made here, and so is deleted at {@link #close}. */
    private final boolean ownsStateDir;

    GatewayHarness() throws Exception {
        this("");
    }

    /** @param extraYaml YAML appended to the base config (providers, server limits…) */
    GatewayHarness(String extraYaml) throws Exception {
        this(extraYaml, java.time.InstantSource.system());
    }

    /**
     * @param extraYaml YAML appended to the base config (providers, server limits…)
     * @param clock     what circuit breakers, latency windows and cool-downs read
     */
    GatewayHarness(String extraYaml, java.time.InstantSource clock) throws Exception {
        this(extraYaml, clock, false);
    }

    /**
     * @param extraYaml  YAML appended to the base config (providers, server limits…)
     * @param clock      what circuit breakers, latency windows, cool-downs and budget days read
     * @param stateFiles true: budgets and learning in Chronicle Map files in {@link #stateDir}; false: on the heap
     */
    GatewayHarness(String extraYaml, java.time.InstantSource clock, boolean stateFiles) throws Exception {
        this(extraYaml, clock, stateFiles, Files.createTempDirectory("br-state"), true);
    }

    /**
     * A gateway with its state files in {@code stateDir}, which an earlier gateway may have used:
     * a restart. Its {@link #apiKey} is new, of the same tenant ({@code default}). The directory is
     * the caller's to delete.
     */
    GatewayHarness(String extraYaml, java.time.InstantSource clock, Path stateDir) throws Exception {
        this(extraYaml, clock, true, stateDir, false);
    }

    /**
     * @param extraYaml YAML appended to the base config (providers, server limits…)
     * @param env       the environment the config is read with ({@code ${VAR}}, {@code bearer_token_env})
     */
    GatewayHarness(String extraYaml, Map<String, String> env) throws Exception {
        this(extraYaml, java.time.InstantSource.system(), false, Files.createTempDirectory("br-state"), true, env);
    }

    private GatewayHarness(
            String extraYaml, java.time.InstantSource clock, boolean stateFiles, Path stateDir, boolean ownsStateDir)
            throws Exception {
        this(extraYaml, clock, stateFiles, stateDir, ownsStateDir, Map.of());
    }

    private GatewayHarness(
            String extraYaml,
            java.time.InstantSource clock,
            boolean stateFiles,
            Path stateDir,
            boolean ownsStateDir,
            Map<String, String> env)
            throws Exception {
        this.stateDir = stateDir;
        this.ownsStateDir = ownsStateDir;
        String yaml = """
                server:
                  host: 127.0.0.1
                  port: 0
                  max_body_bytes: 1048576
                  shutdown_grace_seconds: 2
                admin:
                  port: 0
                sim:
                  enabled: true
                  seed: 7
                  random_faults: false
                state_dir: %s
                state_store: %s
                """.formatted(stateDir, stateFiles ? "files" : "memory") + extraYaml;
        GatewayConfig config = ConfigLoader.load(yaml, Path.of("."), env);
        List<KeyConfig> keys = new ArrayList<>(config.keys());
        keys.add(new KeyConfig("test", ApiKeys.sha256(apiKey), "default"));
        Registry.Bootstrap boot = Registry.Bootstrap.of(config, Map.of("BR_ADMIN_TOKEN", adminToken));
        boot = new Registry.Bootstrap(
                keys, boot.providerKeys(), boot.providers(), null, adminToken, null, stateDir.resolve("master.key"));
        registry = stateFiles ? Registry.open(stateDir, boot, clock) : Registry.inMemory(boot, clock);
        server = GatewayServer.start(config, registry, 2, clock);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/v1";
    }

    int port() {
        return server.port();
    }

    SimServer sim() {
        return server.sim();
    }

    /** A chat completion body for {@code sim/alpha}; {@code extra} is appended inside the object (e.g. {@code "stream":true}). */
    static String chatBody(String extra) {
        return "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]"
                + (extra == null || extra.isEmpty() ? "" : "," + extra) + "}";
    }

    /** Polls {@code condition} every 10 ms until it holds or {@code timeoutMillis} pass; returns whether it held. */
    static boolean eventually(long timeoutMillis, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    /**
     * The entry of endpoint {@code id} ({@code model@endpoint}) in the admin API's routing report
     * ({@code GET /admin/v1/routing}, as the super admin), or empty when the report lists none.
     */
    Optional<JsonNode> routingEntry(HttpClient http, String id) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/admin/v1/routing"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + adminToken)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode e : Json.MAPPER.readTree(r.body()).path("endpoints")) {
            if (e.path("id").asText().equals(id)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        server.close();
        registry.close();
        if (ownsStateDir && Files.exists(stateDir)) {
            // the answer and budget day files are tens of megabytes each; a second close finds nothing to do
            try (java.util.stream.Stream<Path> files = Files.walk(stateDir)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
