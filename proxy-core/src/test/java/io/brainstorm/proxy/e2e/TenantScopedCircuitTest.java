package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.testing.ManualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two tenants on one endpoint, each with its own provider key (BYOK): what the provider says to
 * one tenant's key (429, 401) is that key's business, and the other tenant's requests keep being
 * answered (docs/architecture.md §7). One endpoint serves the model, so before this, one tenant's 429 or 401s
 * were a 503 {@code no_healthy_endpoint} for everyone.
 */
class TenantScopedCircuitTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String ACME_OPENAI = "sk-acme-openai-" + "A".repeat(24);
    private static final String GLOBEX_OPENAI = "sk-globex-openai-" + "G".repeat(24);
    private static final int ROUNDS = 25;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final ManualClock clock = new ManualClock();
    private ScriptedUpstream upstream;
    private GatewayHarness gw;
    private String acmeKey;
    private String globexKey;

    /** A gateway whose only openai endpoint answers acme's key with {@code acmeReply}, globex's with 200. */
    private void start(ScriptedUpstream.Reply acmeReply) throws Exception {
        upstream = new ScriptedUpstream(
                (auth, n) -> auth.equals("Bearer " + ACME_OPENAI) ? acmeReply : ScriptedUpstream.Reply.OK);
        gw = new GatewayHarness("""
                providers:
                  - name: openai
                    base_url: %s
                routing:
                  circuit: {window_seconds: 30, min_requests: 4, failure_rate: 0.5, open_seconds: 5,
                            max_cool_down_seconds: 300}
                """.formatted(upstream.baseUrl()), clock, true);
        acmeKey = tenant("acme", ACME_OPENAI);
        globexKey = tenant("globex", GLOBEX_OPENAI);
    }

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void aTenantsRateLimitCoolsOnlyItsOwnKeyAndTheOtherTenantIsAnsweredThroughout() throws Exception {
        start(new ScriptedUpstream.Reply(429, "60"));
        for (int i = 0; i < ROUNDS; i++) {
            HttpResponse<String> a = chat(acmeKey);
            if (i == 0) {
                assertEquals(502, a.statusCode(), "the provider's 429 itself: " + a.body());
            } else {
                assertEquals(503, a.statusCode(), a.body());
                assertEquals(
                        "no_healthy_endpoint",
                        JSON.readTree(a.body()).path("error").path("code").asText());
                assertEquals("60", a.headers().firstValue("retry-after").orElse(null), "the provider's Retry-After");
            }
            HttpResponse<String> g = chat(globexKey);
            assertEquals(200, g.statusCode(), "globex's request " + i + ": " + g.body());
        }
        assertEquals(1, upstream.requestsWith("Bearer " + ACME_OPENAI), "acme's key rests for its Retry-After");
        assertEquals(ROUNDS, upstream.requestsWith("Bearer " + GLOBEX_OPENAI));
        JsonNode circuit = circuit();
        assertEquals("closed", circuit.path("state").asText(), circuit.toString());
        assertEquals(1, circuit.path("keys_held").path("rate_limited").asInt(), circuit.toString());

        clock.advance(Duration.ofSeconds(60));
        assertEquals(502, chat(acmeKey).statusCode(), "the provider's 429 again");
        assertEquals(2, upstream.requestsWith("Bearer " + ACME_OPENAI), "after 60 s acme's key is tried again");
    }

    @Test
    void aTenantsRejectedKeyFailsOnlyItsOwnRequestsAndTheOtherTenantIsAnsweredThroughout() throws Exception {
        start(new ScriptedUpstream.Reply(401, null));
        for (int i = 0; i < ROUNDS; i++) {
            HttpResponse<String> a = chat(acmeKey);
            assertEquals(502, a.statusCode(), a.body());
            assertTrue(a.body().contains("HTTP 401"), "acme sees why: its provider key was refused: " + a.body());
            HttpResponse<String> g = chat(globexKey);
            assertEquals(200, g.statusCode(), "globex's request " + i + ": " + g.body());
        }
        JsonNode circuit = circuit();
        assertEquals(
                "closed", circuit.path("state").asText(), "401s of one key are no verdict on the endpoint: " + circuit);
        assertEquals(0, circuit.path("trips").asInt(), circuit.toString());
        assertEquals(1, circuit.path("keys_held").path("rejected").asInt(), circuit.toString());
    }

    private JsonNode circuit() throws Exception {
        return gw.routingEntry(http, MODEL + "@openai")
                .orElseThrow(() -> new AssertionError("no " + MODEL + "@openai in the routing report"))
                .path("circuit");
    }

    /** Creates tenant {@code id} with an API key and {@code providerKey} for openai; returns the API key. */
    private String tenant(String id, String providerKey) throws Exception {
        assertEquals(
                201,
                admin("POST", "/admin/v1/tenants", "{\"id\":\"" + id + "\"}").statusCode());
        HttpResponse<String> k = admin("POST", "/admin/v1/tenants/" + id + "/keys", "{\"name\":\"" + id + "-app\"}");
        assertEquals(201, k.statusCode(), k.body());
        assertEquals(
                201,
                admin("PUT", "/admin/v1/tenants/" + id + "/providers/openai", "{\"api_key\":\"" + providerKey + "\"}")
                        .statusCode());
        return JSON.readTree(k.body()).get("key").asText();
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.server.adminPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + gw.adminToken)
                        .header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chat(String key) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/chat/completions"))
                        .timeout(Duration.ofSeconds(20))
                        .header("Authorization", "Bearer " + key)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":50,"
                                + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
