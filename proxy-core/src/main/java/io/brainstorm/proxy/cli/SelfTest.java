package io.brainstorm.proxy.cli;

import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ServerConfig;
import io.brainstorm.proxy.config.SimConfig;
import io.brainstorm.proxy.server.GatewayServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code brainstorm-proxy selftest}: starts a private gateway (loopback, free port, throw-away key
 * and state directory with the Chronicle state files, simulated provider without delays or faults), sends it one request of each
 * kind over HTTP, checks the answers, and stops it. Tells a user the installation works; the
 * launcher also runs it once per JDK to record the class-data-sharing archive that makes later
 * starts fast.
 */
final class SelfTest {
    private SelfTest() {}

    static int run(PrintStream out, PrintStream err) {
        Path state;
        try {
            state = Files.createTempDirectory("br-selftest");
        } catch (IOException e) {
            err.println("selftest: " + e.getMessage());
            return 1;
        }
        String key = ApiKeys.generate();
        GatewayConfig config = new GatewayConfig(
                new ServerConfig("127.0.0.1", 0, 1 << 20, 16384, 100, Duration.ofSeconds(30), Duration.ofSeconds(1)),
                new io.brainstorm.proxy.config.AdminConfig(true, "127.0.0.1", 0),
                new SimConfig(true, 1, 0, true, false),
                List.of(),
                List.of(),
                Catalog.builtIn(),
                state,
                io.brainstorm.proxy.config.RoutingConfig.DEFAULTS.withPluginsDir(null),
                true,
                io.brainstorm.proxy.config.ScoringConfig.DEFAULTS,
                io.brainstorm.proxy.config.AuditConfig.DEFAULTS);
        GatewayServer server = null;
        Registry registry = null;
        try {
            Registry.Bootstrap boot = Registry.Bootstrap.of(
                    new GatewayConfig(
                            config.server(),
                            config.admin(),
                            config.sim(),
                            config.providers(),
                            List.of(new io.brainstorm.proxy.config.KeyConfig(
                                    "selftest", ApiKeys.sha256(key), "default")),
                            config.catalog(),
                            state,
                            config.routing(),
                            true,
                            config.scoring(),
                            config.audit()),
                    java.util.Map.of());
            registry = Registry.open(state, boot, java.time.InstantSource.system());
            server = GatewayServer.start(config, registry, 1);
            String base = "http://127.0.0.1:" + server.port();
            HttpClient http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            check(http, base + "/healthz", null, key, "\"ok\"");
            check(http, base + "/v1/models", null, key, "sim/alpha");
            check(
                    http,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "chat.completion");
            check(
                    http,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/alpha\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "data: [DONE]");
            check(http, base + "/v1/embeddings", "{\"model\":\"sim/embed\",\"input\":\"selftest\"}", key, "embedding");
            HttpClient h2 =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            check(
                    h2,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/beta\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "\"x_br\"");
            check(http, base + "/v1/usage", null, key, "\"requests\":4");
            out.println("selftest: OK (chat, stream over HTTP/1.1 and h2c, embeddings, models, usage in the state"
                    + " files; " + server.transportName() + ")");
            return 0;
        } catch (Exception e) {
            err.println("selftest: FAILED: " + e.getMessage());
            return 1;
        } finally {
            if (server != null) {
                server.close();
            }
            if (registry != null) {
                registry.close();
            }
            try (var files = Files.walk(state)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp directory left behind is harmless
            }
        }
    }

    private static void check(HttpClient http, String url, @Nullable String body, String key, String expect)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key);
        if (body != null) {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().contains(expect)) {
            throw new IOException(url + " answered " + r.statusCode() + " without '" + expect + "': "
                    + r.body().substring(0, Math.min(300, r.body().length())));
        }
    }
}
