package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.ChildJvm;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gateway processes and the state files (docs/architecture.md §6, §10): a gateway killed with SIGKILL under load
 * keeps every settled cent and, at its next start, releases what it held for requests in flight;
 * two gateways on one state directory enforce one budget. The gateways are child JVMs running
 * {@code Main serve}; the provider is a scripted upstream in this process.
 */
class CrashTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String key = ApiKeys.generate();
    private static final String ADMIN_TOKEN = "crash-test-admin-token-0123456789";
    private final List<Process> children = new ArrayList<>();
    private int adminPort;
    private FakeUpstream upstream;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        for (Process p : children) {
            p.destroyForcibly();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private Path config(String budgetUsd) throws Exception {
        Path file = dir.resolve("brainstorm.yaml");
        Files.writeString(
                file, """
                sim: {enabled: false}
                state_dir: %s
                state_store: files
                providers:
                  - {name: openai, type: openai, base_url: "%s", api_key: provider-key}
                keys:
                  - {name: crash, sha256: %s, daily_budget_usd: %s}
                """.formatted(dir.resolve("state"), upstream.baseUrl(), ApiKeys.sha256(key), budgetUsd));
        return file;
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A gateway child process on a free port, ready (its state store open); its admin API on {@link #adminPort}. */
    private String gateway(Path config) throws Exception {
        int port = freePort();
        adminPort = freePort();
        ProcessBuilder pb = ChildJvm.main("io.brainstorm.proxy.cli.Main")
                .flags(ChildJvm.inheritedFlags())
                .args(
                        "serve",
                        "--config",
                        config.toString(),
                        "--port",
                        String.valueOf(port),
                        "--admin-port",
                        String.valueOf(adminPort),
                        "--threads",
                        "1")
                .processBuilder();
        pb.environment().put("BR_ADMIN_TOKEN", ADMIN_TOKEN);
        Process p = pb.redirectErrorStream(true)
                .redirectOutput(
                        dir.resolve("gateway-" + children.size() + ".log").toFile())
                .start();
        children.add(p);
        String base = "http://127.0.0.1:" + port + "/v1";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(
                    p.isAlive(),
                    "the gateway exited: "
                            + Files.readString(dir.resolve("gateway-" + (children.size() - 1) + ".log")));
            try {
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return base;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the gateway did not become ready in 60 s");
    }

    private HttpRequest chat(String base) {
        String body = GatewayHarness.chatBody("\"max_tokens\":5").replace("sim/alpha", MODEL);
        return HttpRequest.newBuilder(URI.create(base + "/chat/completions"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                        .header("Authorization", "Bearer " + ADMIN_TOKEN)
                        .header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode usage(String base) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(base + "/usage"))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void aKilledGatewayKeepsSettledSpendAndReleasesWhatItHeld() throws Exception {
        upstream = new FakeUpstream();
        Path config = config("10");
        String base = gateway(config);
        // a tenant, its key and its provider key, made at run time: they must outlive the kill too
        assertEquals(
                201, admin("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}").statusCode());
        assertEquals(
                201,
                admin("PUT", "/admin/v1/tenants/acme/providers/openai", "{\"api_key\":\"sk-acme-crash-0123456789\"}")
                        .statusCode());
        HttpResponse<String> created = admin("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"survivor\"}");
        assertEquals(201, created.statusCode(), created.body());
        String acmeKey = JSON.readTree(created.body()).get("key").asText();
        BigDecimal told = BigDecimal.ZERO;
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> r = client.send(chat(base), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            told = told.add(
                    new BigDecimal(r.headers().firstValue("x-br-actual-cost").orElseThrow()));
        }
        // ten requests the provider never answers: their worst cases stay reserved
        upstream.behave(FakeUpstream.Behaviour.hanging());
        List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            inFlight.add(client.sendAsync(chat(base), HttpResponse.BodyHandlers.ofString()));
        }
        assertTrue(GatewayHarness.eventually(10_000, () -> upstream.requests.size() == 40), "requests in flight");
        JsonNode held = usage(base);
        BigDecimal reservedAtKill = new BigDecimal(held.path("reserved_usd").asText());
        assertTrue(reservedAtKill.signum() > 0, held.toString());

        // settles are written back to the budget entry every 100 ms (docs/architecture.md §10): the
        // count of those older than that must survive the kill exactly; younger ones may not
        Thread.sleep(400);
        children.get(0).destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL
        inFlight.forEach(f -> f.exceptionally(e -> null).join());

        upstream.behave(FakeUpstream.Behaviour.ok());
        String restarted = gateway(config);
        JsonNode after = usage(restarted);
        BigDecimal settled = new BigDecimal(after.path("spent_usd").asText());
        assertTrue(told.compareTo(settled) <= 0, "told " + told + " > settled " + settled);
        // the dead process's budget lease (up to 64 worst cases, its requests in flight among them)
        // held unused money and spend not yet written, which cannot be told apart: it counts as spent
        BigDecimal lease = reservedAtKill.multiply(BigDecimal.valueOf(64)).divide(BigDecimal.TEN);
        assertTrue(
                settled.compareTo(told.add(reservedAtKill).add(lease)) <= 0,
                "settled " + settled + " > told " + told + " + in flight " + reservedAtKill + " + one lease " + lease);
        assertEquals(
                0,
                new BigDecimal(after.path("reserved_usd").asText()).signum(),
                "the dead process's reservations were released at start: " + after);
        assertEquals(30, after.path("requests").asInt());

        HttpResponse<String> acme = client.send(
                HttpRequest.newBuilder(URI.create(restarted + "/chat/completions"))
                        .header("Authorization", "Bearer " + acmeKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                GatewayHarness.chatBody("\"max_tokens\":5").replace("sim/alpha", MODEL)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, acme.statusCode(), "the key made before the kill still works: " + acme.body());
        assertEquals(
                "Bearer sk-acme-crash-0123456789",
                upstream.lastRequest().headers().get("authorization"),
                "and its tenant's provider key survived, decrypted");
    }

    @Test
    void twoGatewaysOnOneStateDirectoryEnforceOneBudget() throws Exception {
        upstream = new FakeUpstream();
        // each answer costs $0.0000045; the worst case reserved is about $0.0000087
        Path config = config("0.00009");
        String a = gateway(config);
        String b = gateway(config);
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(client.sendAsync(chat(i % 2 == 0 ? a : b), HttpResponse.BodyHandlers.ofString()));
        }
        BigDecimal told = BigDecimal.ZERO;
        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.join();
            if (r.statusCode() == 200) {
                ok++;
                told = told.add(new BigDecimal(
                        r.headers().firstValue("x-br-actual-cost").orElseThrow()));
            } else if (r.statusCode() != 429 || !r.body().contains("\"budget_busy\"")) {
                // 429 budget_busy: refused while requests in flight, of either process, held the rest
                assertEquals(402, r.statusCode(), r.body());
            }
        }
        assertTrue(told.compareTo(new BigDecimal("0.00009")) <= 0, "two gateways spent " + told);
        assertEquals(ok, upstream.requests.size());
        assertTrue(ok >= 10, ok + " answers");
        assertEquals(0, new BigDecimal(usage(a).path("spent_usd").asText()).compareTo(told), "a sees b's spend too");
        assertEquals(0, new BigDecimal(usage(b).path("spent_usd").asText()).compareTo(told));
    }
}
