package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisServerFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways on one Redis ({@code state_store: redis}), each with its own state directory and
 * listeners, as two hosts behind a load balancer: what is made or revoked through one gateway's
 * admin API holds on the other within a second, feedback sent to one gateway for an answer of the
 * other moves the shared learning, and {@code :smart} on both learns from the answers of both.
 */
class RedisGatewaysTest {
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String adminToken = "br_admin_" + ApiKeys.generate().substring(ApiKeys.PREFIX.length());
    private final String key = ApiKeys.generate();

    @TempDir
    Path dir;

    private RedisServerFixture redis;
    private FakeUpstream upstream;
    private final List<Gateway> gateways = new ArrayList<>();

    /** One gateway: its registry (on a link of its own, as Main opens it) and its server. */
    private record Gateway(RedisLink link, Registry registry, GatewayServer server) implements AutoCloseable {
        String base() {
            return "http://127.0.0.1:" + server.port();
        }

        String admin() {
            return "http://127.0.0.1:" + server.adminPort() + "/admin/v1";
        }

        @Override
        public void close() {
            server.close();
            registry.close();
            link.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        redis = RedisServerFixture.start(dir.resolve("redis"), true);
        upstream = new FakeUpstream();
        Files.writeString(dir.resolve("models.yaml"), """
                models:
                  - id: sim/alpha
                    context_length: 128000
                    max_output_tokens: 16384
                    capabilities: [json]
                    created: 1767225600
                    endpoints:
                      - id: sim-east
                        price: {input: 0.50, cached_input: 0.25, output: 1.50}
                        sim: {latency_ms: 0, quality: 0.95, failure_rate: 0}
                      - id: sim-west
                        price: {input: 0.50, cached_input: 0.25, output: 1.50}
                        sim: {latency_ms: 0, quality: 0.80, failure_rate: 0}
                  - id: openai/gpt-4o-mini
                    context_length: 128000
                    max_output_tokens: 16384
                    price: {input: 0.15, cached_input: 0.075, output: 0.60}
                    created: 1767225600
                """);
        // one master key for both, as BR_MASTER_KEY would be: provider keys made on one decrypt on the other
        byte[] master = new byte[32];
        new java.security.SecureRandom().nextBytes(master);
        Files.writeString(
                dir.resolve("master.key"), java.util.Base64.getEncoder().encodeToString(master));
        Files.setPosixFilePermissions(
                dir.resolve("master.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        gateways.add(gateway("a"));
        gateways.add(gateway("b"));
    }

    @AfterEach
    void stop() throws Exception {
        for (Gateway g : gateways) {
            g.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private Gateway gateway(String name) throws Exception {
        Path state = dir.resolve("state-" + name);
        Files.createDirectories(state);
        String yaml =
                """
                server: {host: 127.0.0.1, port: 0, shutdown_grace_seconds: 1}
                admin: {port: 0}
                sim: {enabled: true, seed: 16, random_faults: false}
                routing: {seed: 16}
                catalog: %s
                state_dir: %s
                state_store: redis
                redis: {url: "%s", key_prefix: "two:"}
                providers:
                  - {name: openai, type: openai, base_url: "%s", api_key: configured-provider-key}
                keys:
                  - {name: app, sha256: %s}
                """.formatted(dir.resolve("models.yaml"), state, redis.uri(), upstream.baseUrl(), ApiKeys.sha256(key));
        GatewayConfig config = ConfigLoader.load(yaml, dir, Map.of());
        Registry.Bootstrap boot = Registry.Bootstrap.of(config, Map.of("BR_ADMIN_TOKEN", adminToken));
        boot = new Registry.Bootstrap(
                boot.keys(), boot.providerKeys(), boot.providers(), null, adminToken, null, dir.resolve("master.key"));
        RedisLink link = RedisLink.connect(config.store().requireRedis());
        Registry registry = Registry.openShared(link, state, boot, InstantSource.system());
        return new Gateway(link, registry, GatewayServer.start(config, registry, 2));
    }

    private HttpResponse<String> send(String method, String url, String bearer, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json");
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chat(Gateway g, String bearer, String model, String extra) throws Exception {
        return send(
                "POST",
                g.base() + "/v1/chat/completions",
                bearer,
                "{\"model\":\"" + model + "\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":"
                        + "\"The capital of France, as JSON\"}]" + extra + "}");
    }

    /** Millis until {@code condition} held, polled every 10 ms; fails after 5 s. */
    private static long within(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        long t0 = System.nanoTime();
        while (!condition.call()) {
            if (System.nanoTime() - t0 > 5_000_000_000L) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(10);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void keysTenantsAndProviderKeysMadeOrRevokedOnOneGatewayHoldOnTheOtherWithinASecond() throws Exception {
        Gateway a = gateways.get(0);
        Gateway b = gateways.get(1);
        assertEquals(
                201,
                send("POST", a.admin() + "/tenants", adminToken, "{\"id\":\"acme\"}")
                        .statusCode());
        HttpResponse<String> made =
                send("POST", a.admin() + "/tenants/acme/keys", adminToken, "{\"name\":\"checkout\"}");
        assertEquals(201, made.statusCode(), made.body());
        JsonNode k = Json.MAPPER.readTree(made.body());
        String secret = k.get("key").asText();
        String id = k.get("id").asText();
        HttpResponse<String> provider = send(
                "PUT", a.admin() + "/tenants/acme/providers/openai", adminToken, "{\"api_key\":\"sk-acme-own-key\"}");
        assertEquals(201, provider.statusCode(), provider.body());

        long seen = within(
                "the key made on A works on B",
                () -> chat(b, secret, "openai/gpt-4o-mini", "").statusCode() == 200);
        assertTrue(seen < 1_000, "B accepted the new key " + seen + " ms after A made it (bound: 1 s)");
        // B sent acme's own provider key, made on A and sealed under the shared master key
        within(
                "acme's provider key used by B",
                () -> upstream.requests.stream()
                        .anyMatch(
                                r -> "Bearer sk-acme-own-key".equals(r.headers().get("authorization"))));

        assertEquals(
                200, send("DELETE", a.admin() + "/keys/" + id, adminToken, null).statusCode());
        long refused = within(
                "the key revoked on A is refused by B",
                () -> chat(b, secret, "openai/gpt-4o-mini", "").statusCode() == 401);
        assertTrue(refused < 1_000, "B refused the revoked key " + refused + " ms after A revoked it (bound: 1 s)");
        assertEquals(401, chat(a, secret, "openai/gpt-4o-mini", "").statusCode());
    }

    @Test
    void feedbackSentToOneGatewayForAnAnswerOfTheOtherMovesTheSharedLearning() throws Exception {
        Gateway a = gateways.get(0);
        Gateway b = gateways.get(1);
        HttpResponse<String> answered = chat(a, key, "sim/alpha", "");
        assertEquals(200, answered.statusCode(), answered.body());
        String requestId = answered.headers().firstValue("x-br-request-id").orElseThrow();
        String endpoint = answered.headers().firstValue("x-br-endpoint").orElseThrow();
        // A writes which endpoint answered within its flush (100 ms); B finds it in Redis
        HttpResponse<String>[] fb = new HttpResponse[1];
        within("B finds A's answer", () -> {
            fb[0] = send("POST", b.base() + "/v1/feedback", key, "{\"request_id\":\"" + requestId + "\",\"score\":0}");
            return fb[0].statusCode() == 200;
        });
        assertEquals(
                "sim/alpha@" + endpoint,
                Json.MAPPER.readTree(fb[0].body()).get("endpoint").asText());
        // the tenant's own belief about that endpoint, read through A, holds B's verdict
        within("A's routing report shows the feedback given to B", () -> {
            JsonNode own = tenantBelief(a, "sim/alpha@" + endpoint);
            return own != null && own.path("beta").asDouble() > 1.5;
        });
    }

    @Test
    void smartOnBothGatewaysLearnsFromTheAnswersOfBoth() throws Exception {
        Gateway a = gateways.get(0);
        Gateway b = gateways.get(1);
        int perGateway = 60;
        for (int i = 0; i < perGateway; i++) {
            for (Gateway g : gateways) {
                HttpResponse<String> r = chat(g, key, "sim/alpha:smart", JSON_FORMAT);
                assertEquals(200, r.statusCode(), r.body());
            }
        }
        // both gateways read the same shared beliefs, holding every answer of both
        within("A and B report the same shared beliefs, counting the answers of both", () -> {
            double[] ia = observations(a);
            double[] ib = observations(b);
            return ia[0] == 2 * perGateway && ia[0] == ib[0] && ia[1] == ib[1];
        });
    }

    @Test
    void aRedisOutageIsOnTheAuditTrailOfTheGatewayWhoseWritesWaited() throws Exception {
        Gateway a = gateways.get(0);
        redis.stop();
        // a key without limits is served while Redis is away; its spend waits in the journal
        HttpResponse<String> served = chat(a, key, "sim/alpha", "");
        assertEquals(200, served.statusCode(), served.body());
        Thread.sleep(300);
        redis.start();
        long t0 = System.nanoTime();
        List<JsonNode> states = List.of();
        while (states.size() < 2 && System.nanoTime() - t0 < 20_000_000_000L) {
            Thread.sleep(50);
            states = auditRecords(a, "state");
        }
        assertEquals(2, states.size(), states.toString());
        assertEquals("writes_waiting", states.get(0).path("event").asText(), states.toString());
        assertEquals("journal", states.get(0).path("first_write").asText(), states.toString());
        JsonNode written = states.get(1);
        assertEquals("waiting_written", written.path("event").asText(), written.toString());
        assertEquals(1, written.path("writes").asLong(), written.toString());
        List<JsonNode> requests = auditRecords(a, "request");
        assertEquals(1, requests.size(), requests.toString());
        assertEquals(
                requests.get(0).path("cost_usd").decimalValue(),
                written.path("journaled_usd").decimalValue(),
                "the journal batch that waited holds the spend of the request served meanwhile");
        assertEquals(List.of(), auditRecords(gateways.get(1), "state"), "B had nothing waiting");
    }

    /** Today's records of {@code type} on {@code g}'s audit trail, through its admin API. */
    private List<JsonNode> auditRecords(Gateway g, String type) throws Exception {
        HttpResponse<String> r = send("GET", g.admin() + "/audit?limit=1000", adminToken, null);
        assertEquals(200, r.statusCode(), r.body());
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode rec : Json.MAPPER.readTree(r.body()).path("data")) {
            if (rec.path("type").asText().equals(type)) {
                out.add(rec);
            }
        }
        return out;
    }

    private static final String JSON_FORMAT = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
            + "{\"name\":\"city\",\"schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
            + "\"required\":[\"city\"]}}}";

    /** The shared beliefs' answers over every endpoint and class, and their summed alpha, as {@code gateway} reports them. */
    private double[] observations(Gateway g) throws Exception {
        HttpResponse<String> r = send("GET", g.admin() + "/routing", adminToken, null);
        assertEquals(200, r.statusCode(), r.body());
        double n = 0;
        double alpha = 0;
        for (JsonNode e : Json.MAPPER.readTree(r.body()).path("endpoints")) {
            for (JsonNode q : e.path("quality")) {
                n += q.path("observations").asDouble();
                alpha += q.path("alpha").asDouble();
            }
        }
        return new double[] {n, alpha};
    }

    /** The default tenant's own belief about {@code id} in any class, or null. */
    private JsonNode tenantBelief(Gateway g, String id) throws Exception {
        HttpResponse<String> r = send("GET", g.admin() + "/routing?tenant=default", adminToken, null);
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode e : Json.MAPPER.readTree(r.body()).path("endpoints")) {
            if (e.path("id").asText().equals(id)) {
                for (JsonNode q : e.path("tenant_quality")) {
                    return q.path("own");
                }
            }
        }
        return null;
    }
}
