package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.settle.audit.AuditKey;
import io.brainstorm.proxy.settle.audit.AuditVerifier;
import io.brainstorm.proxy.sim.SimServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests through a real gateway end up in the audit trail: one record each, with what the client
 * saw, readable through the admin API, verifiable offline up to the published head, and with no
 * secret anywhere in the audit folder.
 */
class AuditTrailTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROVIDER_SECRET = "sk-audit-e2e-provider-secret-000111";
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private GatewayHarness gateway;
    private FakeUpstream upstream;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private HttpResponse<String> chat(String key, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode admin(String pathAndQuery) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + gateway.server.adminPort() + "/admin/v1/" + pathAndQuery))
                        .header("Authorization", "Bearer " + gateway.adminToken)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static String id(HttpResponse<String> r) {
        return r.headers().firstValue("x-br-request-id").orElseThrow();
    }

    @Test
    void requestsThroughTheGatewayAreAuditedVerifiablyAndWithoutSecrets() throws Exception {
        upstream = new FakeUpstream();
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: %s
                """.formatted(upstream.baseUrl(), PROVIDER_SECRET));
        HttpResponse<String> plain = chat(gateway.apiKey, GatewayHarness.chatBody(""), "X-Title", "audit-e2e");
        assertEquals(200, plain.statusCode(), plain.body());
        HttpResponse<String> stream = chat(gateway.apiKey, GatewayHarness.chatBody("\"stream\":true"));
        assertEquals(200, stream.statusCode(), stream.body());
        HttpResponse<String> provider = chat(
                gateway.apiKey,
                "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, provider.statusCode(), provider.body());
        assertTrue(upstream.requests.size() == 1, "the provider key was used");
        HttpResponse<String> unknownModel =
                chat(gateway.apiKey, "{\"model\":\"nope/none\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(404, unknownModel.statusCode());
        HttpResponse<String> unknownKey = chat("br_live_" + "y".repeat(43), GatewayHarness.chatBody(""));
        assertEquals(401, unknownKey.statusCode());
        List<String> ids = List.of(id(plain), id(stream), id(provider), id(unknownModel), id(unknownKey));

        Map<String, JsonNode> byId = new HashMap<>();
        assertTrue(
                GatewayHarness.eventually(5_000, () -> {
                    try {
                        byId.clear();
                        admin("audit?limit=1000")
                                .get("data")
                                .forEach(r -> byId.put(r.get("request_id").asText(), r));
                        return byId.keySet().containsAll(ids);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }),
                () -> "audited: " + byId.keySet() + ", expected " + ids);
        assertEquals(ids.size(), byId.size(), "one record per request: " + byId.keySet());

        String keyId = gateway.registry.authenticate("Bearer " + gateway.apiKey).id();
        JsonNode p = byId.get(id(plain));
        assertEquals("request", p.get("type").asText());
        assertEquals("default", p.get("tenant").asText());
        assertEquals(keyId, p.get("key_id").asText());
        assertEquals("audit-e2e", p.get("app").asText());
        assertEquals("chat", p.get("operation").asText());
        assertEquals("sim/alpha", p.get("requested_model").asText());
        assertEquals(
                plain.headers().firstValue("x-br-selected-model").orElseThrow(),
                p.get("selected_model").asText());
        assertEquals(
                plain.headers().firstValue("x-br-endpoint").orElseThrow(),
                p.get("endpoint").asText());
        assertEquals(
                plain.headers().firstValue("x-br-strategy").orElseThrow(),
                p.get("strategy").asText());
        assertEquals(200, p.get("status").asInt());
        assertTrue(p.get("error_code").isNull());
        assertFalse(p.get("stream").asBoolean());
        assertTrue(
                p.get("prompt_tokens").asLong() > 0
                        && p.get("completion_tokens").asLong() > 0,
                p.toString());
        assertEquals(
                new java.math.BigDecimal(
                        plain.headers().firstValue("x-br-actual-cost").orElseThrow()),
                p.get("cost_usd").decimalValue());
        assertTrue(p.get("latency_ms").asDouble() > 0, p.toString());
        assertTrue(p.get("ttft_ms").isNull());
        assertEquals(1.0, p.get("score").asDouble());
        assertEquals("plain_ok", p.get("score_outcome").asText());
        assertFalse(p.has("prompt") || p.has("answer"), "no content unless audit.record_content");

        JsonNode s = byId.get(id(stream));
        assertTrue(s.get("stream").asBoolean());
        assertTrue(s.get("ttft_ms").asDouble() > 0, s.toString());
        assertEquals(
                "openai/gpt-4o-mini",
                byId.get(id(provider)).get("selected_model").asText());
        assertEquals(
                "model_not_found", byId.get(id(unknownModel)).get("error_code").asText());
        JsonNode refused = byId.get(id(unknownKey));
        assertEquals(401, refused.get("status").asInt());
        assertTrue(refused.get("key_id").isNull() && refused.get("tenant").isNull(), refused.toString());

        // a record is in the file (and the query) a moment before the head moves past it
        assertTrue(GatewayHarness.eventually(5_000, () -> {
            try {
                return admin("audit/head").get("seq").asLong() == ids.size();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
        JsonNode head = admin("audit/head");
        Path auditDir = gateway.stateDir.resolve("audit");
        AuditVerifier.Result r = AuditVerifier.verify(
                List.of(auditDir),
                AuditKey.forVerify(Map.of(), gateway.stateDir.resolve("audit.key")),
                head.get("mac").asText());
        assertTrue(r.intact(), String.valueOf(r.broken()));
        assertEquals(r.records(), r.headFound(), "the published head is the last record");

        gateway.server.close();
        assertTrue(AuditVerifier.verify(
                        List.of(auditDir),
                        AuditKey.forVerify(Map.of(), gateway.stateDir.resolve("audit.key")),
                        head.get("mac").asText())
                .intact());
        List<String> secrets =
                List.of(gateway.apiKey, "br_live_", PROVIDER_SECRET, gateway.adminToken, SimServer.API_KEY);
        List<Path> files = new ArrayList<>();
        try (Stream<Path> all = Files.walk(auditDir)) {
            all.filter(Files::isRegularFile).forEach(files::add);
        }
        assertTrue(files.size() >= 2, "day file and head: " + files);
        for (Path f : files) {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            for (String secret : secrets) {
                int at = text.indexOf(secret);
                assertTrue(
                        at < 0,
                        () -> f + " holds a secret: ..."
                                + text.substring(Math.max(0, at - 80), Math.min(text.length(), at + 20)));
            }
        }
    }

    @Test
    void aKeyFileInsideTheAuditFolderStopsTheStartNamingIt(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path audit = dir.resolve("audit");
        RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
                RuntimeException.class,
                () -> new GatewayHarness(
                        "audit:\n  dir: %s\n  key_file: %s\n".formatted(audit, audit.resolve("audit.key"))));
        assertTrue(
                e.getMessage().contains("opening the audit trail failed")
                        && e.getMessage().contains("audit.key")
                        && e.getMessage().contains("inside the audit folder"),
                e.getMessage());
    }

    @Test
    void aDisabledTrailWritesNothing() throws Exception {
        gateway = new GatewayHarness("audit:\n  enabled: false\n");
        assertEquals(200, chat(gateway.apiKey, GatewayHarness.chatBody("")).statusCode());
        HttpResponse<String> head = client.send(
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + gateway.server.adminPort() + "/admin/v1/audit/head"))
                        .header("Authorization", "Bearer " + gateway.adminToken)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, head.statusCode(), head.body());
        assertFalse(Files.exists(gateway.stateDir.resolve("audit")));
        assertFalse(Files.exists(gateway.stateDir.resolve("audit.key")));
    }
}
