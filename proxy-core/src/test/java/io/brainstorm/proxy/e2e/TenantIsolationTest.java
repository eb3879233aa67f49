package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two tenants on one gateway, set up through the admin API as an operator would: each brings its
 * own provider key (BYOK) and gets its own API and admin keys. Nothing of one is reachable with the
 * other's credentials, through the OpenAI-compatible API or the admin API, and their provider keys
 * go only to their own upstream calls.
 */
class TenantIsolationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACME_OPENAI = "sk-acme-openai-" + "A".repeat(24);
    private static final String GLOBEX_OPENAI = "sk-globex-openai-" + "G".repeat(24);
    private static final String DEFAULT_GROQ = "sk-default-groq-" + "D".repeat(24);

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final List<String> adminBodies = new ArrayList<>();
    private FakeUpstream upstream;
    private GatewayHarness gw;

    private String acmeKey;
    private String acmeKeyId;
    private String acmeAdmin;
    private String globexKey;
    private String globexKeyId;
    private String globexAdmin;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new FakeUpstream();
        gw = new GatewayHarness(
                """
                providers:
                  - name: openai
                    base_url: %s
                  - name: groq
                    base_url: %s
                    api_key: %s
                """.formatted(upstream.baseUrl(), upstream.baseUrl(), DEFAULT_GROQ), InstantSource.system(), true);
        String root = gw.adminToken;
        for (String t : List.of("acme", "globex")) {
            HttpResponse<String> r =
                    admin(root, "POST", "/admin/v1/tenants", "{\"id\":\"" + t + "\",\"name\":\"" + t + " Inc.\"}");
            assertEquals(201, r.statusCode(), r.body());
        }
        JsonNode k = created(admin(
                root,
                "POST",
                "/admin/v1/tenants/acme/keys",
                "{\"name\":\"acme-app\",\"daily_budget_usd\":5,\"rpm\":600}"));
        acmeKey = k.get("key").asText();
        acmeKeyId = k.get("id").asText();
        acmeAdmin = created(admin(
                        root, "POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-ops\",\"kind\":\"admin\"}"))
                .get("key")
                .asText();
        k = created(admin(root, "POST", "/admin/v1/tenants/globex/keys", "{\"name\":\"globex-app\"}"));
        globexKey = k.get("key").asText();
        globexKeyId = k.get("id").asText();
        globexAdmin = created(admin(
                        root, "POST", "/admin/v1/tenants/globex/keys", "{\"name\":\"globex-ops\",\"kind\":\"admin\"}"))
                .get("key")
                .asText();
        assertTrue(acmeKey.startsWith("br_live_") && acmeAdmin.startsWith("br_admin_"), acmeKey + " " + acmeAdmin);

        // each tenant's own admin brings its provider key
        assertEquals(
                201,
                admin(
                                acmeAdmin,
                                "PUT",
                                "/admin/v1/tenants/acme/providers/openai",
                                "{\"api_key\":\"" + ACME_OPENAI + "\"}")
                        .statusCode());
        assertEquals(
                201,
                admin(
                                globexAdmin,
                                "PUT",
                                "/admin/v1/tenants/globex/providers/openai",
                                "{\"api_key\":\"" + GLOBEX_OPENAI + "\"}")
                        .statusCode());
    }

    @AfterEach
    void tearDown() {
        gw.close();
        upstream.close();
    }

    @Test
    void eachTenantsRequestsCarryItsOwnProviderKeyAndNoOneElses() throws Exception {
        HttpResponse<String> a = chat(acmeKey, "openai/gpt-4o-mini");
        assertEquals(200, a.statusCode(), a.body());
        assertEquals("Bearer " + ACME_OPENAI, upstream.lastRequest().headers().get("authorization"));
        assertEquals("openai", a.headers().firstValue("x-br-endpoint").orElseThrow());

        HttpResponse<String> g = chat(globexKey, "openai/gpt-4o-mini");
        assertEquals(200, g.statusCode(), g.body());
        assertEquals("Bearer " + GLOBEX_OPENAI, upstream.lastRequest().headers().get("authorization"));

        int calls = upstream.requests.size();
        HttpResponse<String> d = chat(gw.apiKey, "openai/gpt-4o-mini");
        assertEquals(404, d.statusCode(), "tenant default has no openai key: " + d.body());
        assertTrue(d.body().contains("model_not_found") && d.body().contains("no provider key"), d.body());
        HttpResponse<String> acmeGroq = chat(acmeKey, "groq/llama-3.1-8b-instant");
        assertEquals(404, acmeGroq.statusCode(), "default's groq key is not acme's: " + acmeGroq.body());
        assertEquals(calls, upstream.requests.size(), "refused requests reach no provider");

        HttpResponse<String> dg = chat(gw.apiKey, "groq/llama-3.1-8b-instant");
        assertEquals(200, dg.statusCode(), dg.body());
        assertEquals("Bearer " + DEFAULT_GROQ, upstream.lastRequest().headers().get("authorization"));

        String acmeModels = get(acmeKey, "/v1/models").body();
        assertTrue(acmeModels.contains("openai/gpt-4o-mini") && !acmeModels.contains("groq/"), acmeModels);
        String defaultModels = get(gw.apiKey, "/v1/models").body();
        assertTrue(defaultModels.contains("groq/") && !defaultModels.contains("openai/gpt-4o-mini"), defaultModels);
        assertEquals(404, get(acmeKey, "/v1/models/groq/llama-3.1-8b-instant").statusCode());
    }

    @Test
    void usageAndFeedbackBelongToTheTenantThatMadeTheRequest() throws Exception {
        HttpResponse<String> a = chat(acmeKey, "sim/alpha");
        assertEquals(200, a.statusCode(), a.body());
        String requestId = a.headers().firstValue("x-br-request-id").orElseThrow();

        String feedback = "{\"request_id\":\"" + requestId + "\",\"score\":1}";
        assertEquals(404, post(globexKey, "/v1/feedback", feedback).statusCode(), "globex cannot score acme's answer");
        assertEquals(404, post(gw.apiKey, "/v1/feedback", feedback).statusCode());
        assertEquals(200, post(acmeKey, "/v1/feedback", feedback).statusCode());

        JsonNode acmeUsage = JSON.readTree(get(acmeKey, "/v1/usage").body());
        assertEquals(acmeKeyId, acmeUsage.get("key_id").asText());
        assertEquals(1, acmeUsage.get("requests").asInt());
        JsonNode globexUsage = JSON.readTree(get(globexKey, "/v1/usage").body());
        assertEquals(globexKeyId, globexUsage.get("key_id").asText());
        assertEquals(0, globexUsage.get("requests").asInt(), "acme's request is not on globex's bill");
    }

    @Test
    void aTenantAdminSeesOnlyItsOwnTenantAndOthersLookNonexistent() throws Exception {
        JsonNode tenants =
                JSON.readTree(admin(acmeAdmin, "GET", "/admin/v1/tenants", null).body());
        assertEquals(1, tenants.get("data").size(), tenants.toString());
        assertEquals("acme", tenants.get("data").get(0).get("id").asText());
        JsonNode keys =
                JSON.readTree(admin(acmeAdmin, "GET", "/admin/v1/keys", null).body());
        assertTrue(keys.get("data").size() >= 2);
        keys.get("data").forEach(k -> assertEquals("acme", k.get("tenant").asText(), k.toString()));

        // another tenant's resources answer exactly as missing ones do
        assertSameAsMissing("GET", "/admin/v1/tenants/globex", "/admin/v1/tenants/nosuch", null);
        assertSameAsMissing("GET", "/admin/v1/tenants/globex/keys", "/admin/v1/tenants/nosuch/keys", null);
        assertSameAsMissing("GET", "/admin/v1/tenants/globex/providers", "/admin/v1/tenants/nosuch/providers", null);
        assertSameAsMissing("GET", "/admin/v1/tenants/globex/usage", "/admin/v1/tenants/nosuch/usage", null);
        assertSameAsMissing(
                "PUT",
                "/admin/v1/tenants/globex/providers/openai",
                "/admin/v1/tenants/nosuch/providers/openai",
                "{\"api_key\":\"sk-evil-" + "x".repeat(20) + "\"}");
        assertSameAsMissing(
                "POST", "/admin/v1/tenants/globex/keys", "/admin/v1/tenants/nosuch/keys", "{\"name\":\"intruder\"}");
        String missingKey = "key_000000000000";
        for (String path : List.of("/admin/v1/keys/%s", "/admin/v1/keys/%s/usage")) {
            assertSameAsMissing("GET", path.formatted(globexKeyId), path.formatted(missingKey), null);
        }
        assertSameAsMissing("PATCH", "/admin/v1/keys/" + globexKeyId, "/admin/v1/keys/" + missingKey, "{\"rpm\":1}");
        assertSameAsMissing("DELETE", "/admin/v1/keys/" + globexKeyId, "/admin/v1/keys/" + missingKey, null);
        assertSameAsMissing(
                "DELETE",
                "/admin/v1/tenants/globex/providers/openai",
                "/admin/v1/tenants/nosuch/providers/openai",
                null);
        assertEquals(200, chat(globexKey, "openai/gpt-4o-mini").statusCode(), "globex's key and provider key survived");
        assertEquals("Bearer " + GLOBEX_OPENAI, upstream.lastRequest().headers().get("authorization"));

        assertEquals(
                403,
                admin(acmeAdmin, "POST", "/admin/v1/tenants", "{\"id\":\"mine\"}")
                        .statusCode());
        assertEquals(
                403, admin(acmeAdmin, "DELETE", "/admin/v1/tenants/acme", null).statusCode());
    }

    @Test
    void adminEndpointsRefuseMissingWrongAndApiCredentials() throws Exception {
        for (String token : Stream.of(null, "", "br_admin_" + "x".repeat(32), "wrong", acmeKey, globexKey)
                .toList()) {
            for (String path : List.of(
                    "/admin/v1/tenants",
                    "/admin/v1/keys",
                    "/admin/v1/whoami",
                    "/admin/v1/tenants/acme/providers",
                    "/admin/v1/routing")) {
                HttpResponse<String> r = admin(token, "GET", path, null);
                assertEquals(401, r.statusCode(), path + " with " + token + ": " + r.body());
                assertTrue(r.body().contains("invalid_api_key"), r.body());
            }
        }
        // and an admin key opens nothing on the API
        assertEquals(401, chat(acmeAdmin, "sim/alpha").statusCode());
        assertEquals(401, get(gw.adminToken, "/v1/models").statusCode());
    }

    @Test
    void aRevokedKeyIsRefusedAtOnce() throws Exception {
        assertEquals(200, chat(acmeKey, "sim/alpha").statusCode());
        HttpResponse<String> r = admin(acmeAdmin, "DELETE", "/admin/v1/keys/" + acmeKeyId, null);
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(JSON.readTree(r.body()).get("revoked_at").isNull());
        HttpResponse<String> after = chat(acmeKey, "sim/alpha");
        assertEquals(401, after.statusCode(), after.body());
        assertTrue(after.body().contains("revoked"), after.body());
        assertEquals(200, chat(globexKey, "sim/alpha").statusCode(), "other keys keep working");
    }

    @Test
    void providerKeysAreNeverShownAndNotStoredInTheClear() throws Exception {
        JsonNode list = JSON.readTree(admin(acmeAdmin, "GET", "/admin/v1/tenants/acme/providers", null)
                .body());
        JsonNode openai = list.get("data").get(0);
        assertEquals("openai", openai.get("provider").asText());
        assertTrue(openai.get("fingerprint").asText().startsWith("sha256:"), openai.toString());
        admin(gw.adminToken, "GET", "/admin/v1/tenants/globex/providers", null);
        admin(gw.adminToken, "GET", "/admin/v1/tenants", null);
        admin(gw.adminToken, "GET", "/admin/v1/keys", null);
        for (String body : adminBodies) {
            assertFalse(
                    body.contains(ACME_OPENAI)
                            || body.contains(GLOBEX_OPENAI)
                            || body.contains(DEFAULT_GROQ)
                            || body.contains("sk-acme")
                            || body.contains("sk-globex"),
                    body);
        }
        try (Stream<Path> files = Files.walk(gw.stateDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(
                        text.contains("sk-acme") || text.contains("sk-globex") || text.contains(acmeKey),
                        f + " holds a secret in the clear");
            }
        }
    }

    private void assertSameAsMissing(String method, String other, String missing, String body) throws Exception {
        HttpResponse<String> a = admin(acmeAdmin, method, other, body);
        HttpResponse<String> b = admin(acmeAdmin, method, missing, body);
        assertEquals(404, a.statusCode(), method + " " + other + ": " + a.body());
        assertEquals(404, b.statusCode(), method + " " + missing + ": " + b.body());
        JsonNode ea = JSON.readTree(a.body()).get("error");
        JsonNode eb = JSON.readTree(b.body()).get("error");
        assertNotNull(ea);
        assertEquals(eb.get("code"), ea.get("code"));
        assertEquals(
                eb.get("message").asText().replace("nosuch", "X").replace("key_000000000000", "X"),
                ea.get("message").asText().replace("globex", "X").replace(globexKeyId, "X"),
                "the answer does not tell another tenant's resource from a missing one");
    }

    private JsonNode created(HttpResponse<String> r) throws Exception {
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> admin(String token, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.server.adminPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        adminBodies.add(r.body());
        return r;
    }

    private HttpResponse<String> chat(String key, String model) throws Exception {
        return post(
                key,
                "/v1/chat/completions",
                "{\"model\":\"" + model + "\",\"max_tokens\":50,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
    }

    private HttpResponse<String> post(String key, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(gw.baseUrl().replace("/v1", "") + path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + key)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String key, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(gw.baseUrl().replace("/v1", "") + path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + key)
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
