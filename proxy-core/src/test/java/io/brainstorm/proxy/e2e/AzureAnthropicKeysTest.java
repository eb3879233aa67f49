package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.e2e.AzureProviderTest.FakeAzure;
import io.brainstorm.proxy.e2e.AzureProviderTest.Seen;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whose key an {@code azure} or {@code anthropic} account sends, through a running gateway: a
 * Microsoft Entra ID token read from the environment ({@code bearer_token_env}), a tenant's own
 * key set through the admin API (BYOK), and what {@code GET /v1/models} lists for a tenant with
 * and without a key. One gateway with an Azure account of each key kind (deployment form with
 * {@code api_key}, v1 form with an Entra token) and an Anthropic account, all keys of tenant
 * {@code default}; tenant {@code acme} brings its own keys, tenant {@code globex} none.
 */
class AzureAnthropicKeysTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AZURE_KEY = AzureProviderTest.KEY;
    private static final String ENTRA_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra." + "E".repeat(24);
    private static final String ACME_AZURE = "acme-azure-" + "A".repeat(21);
    private static final String ACME_ENTRA = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.acme." + "T".repeat(24);
    private static final String ACME_ANTHROPIC = "sk-ant-api03-acme-" + "C".repeat(24);
    private static final String CLAUDE = "anthropic/claude-sonnet-4-5";

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private @Nullable FakeAzure azure;
    private @Nullable FakeAnthropic anthropic;
    private @Nullable GatewayHarness gw;

    private String acmeKey = "";
    private String acmeAdmin = "";
    private String globexKey = "";

    @BeforeEach
    void start() throws Exception {
        FakeAzure az = new FakeAzure();
        azure = az;
        az.tokens.add(ENTRA_TOKEN);
        FakeAnthropic an = new FakeAnthropic();
        anthropic = an;
        Map<String, String> env = new HashMap<>();
        env.put("AZURE_ENTRA_TOKEN", ENTRA_TOKEN);
        GatewayHarness g = new GatewayHarness(
                """
                providers:
                  - name: azure
                    type: azure
                    base_url: http://127.0.0.1:%1$d
                    api_key: %2$s
                    api_version: "%3$s"
                    deployments:
                      openai/gpt-4o-mini: mini-dep
                  - name: azure-entra
                    type: azure
                    base_url: http://127.0.0.1:%1$d/openai/v1
                    bearer_token_env: AZURE_ENTRA_TOKEN
                    deployments:
                      openai/gpt-4o: gpt4o-dep
                  - name: anthropic
                    type: anthropic
                    base_url: %4$s
                    api_key: %5$s
                """.formatted(
                                az.server.port(),
                                AZURE_KEY,
                                AzureProviderTest.API_VERSION,
                                an.baseUrl(),
                                FakeAnthropic.API_KEY),
                env);
        gw = g;
        String root = g.adminToken;
        for (String t : List.of("acme", "globex")) {
            assertEquals(
                    201,
                    admin(root, "POST", "/admin/v1/tenants", "{\"id\":\"" + t + "\"}")
                            .statusCode());
        }
        acmeKey = created(admin(root, "POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-app\"}"))
                .get("key")
                .asText();
        acmeAdmin = created(admin(
                        root, "POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-ops\",\"kind\":\"admin\"}"))
                .get("key")
                .asText();
        globexKey = created(admin(root, "POST", "/admin/v1/tenants/globex/keys", "{\"name\":\"globex-app\"}"))
                .get("key")
                .asText();
    }

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.close();
        }
        if (azure != null) {
            azure.close();
        }
        if (anthropic != null) {
            anthropic.close();
        }
    }

    @Test
    void anEntraTokenFromTheEnvironmentIsSentAsABearerTokenAndNeverAsAnApiKey() throws Exception {
        HttpResponse<String> r = chat(gw().apiKey, "azure-entra/gpt4o-dep", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("azure-entra", r.headers().firstValue("x-br-endpoint").orElse(null));
        Seen s = azure().only();
        assertEquals("/openai/v1/chat/completions", s.uri());
        assertEquals("gpt4o-dep", s.body().get("model").asText());
        assertEquals("Bearer " + ENTRA_TOKEN, s.authorization());
        assertNull(s.apiKey(), "an Entra token goes in Authorization only");

        azure().seen.clear();
        HttpResponse<String> streamed = chat(gw().apiKey, "openai/gpt-4o", ",\"stream\":true");
        assertEquals(200, streamed.statusCode(), streamed.body());
        assertTrue(streamed.body().trim().endsWith("data: [DONE]"), streamed.body());
        assertEquals("Bearer " + ENTRA_TOKEN, azure().only().authorization());
        assertNull(azure().only().apiKey());
    }

    @Test
    void modelsListsAzureDeploymentsPricedAsTheirModelAndAnthropicModelsOnlyForATenantWithAKey() throws Exception {
        Map<String, JsonNode> listed = models(gw().apiKey);
        JsonNode dep = listed.get("azure/mini-dep");
        assertTrue(dep != null, "azure/mini-dep is listed: " + listed.keySet());
        JsonNode mini = listed.get("openai/gpt-4o-mini");
        assertTrue(mini != null, "the mapped model is routable through the account: " + listed.keySet());
        assertEquals(mini.get("pricing"), dep.get("pricing"), "priced as gpt-4o-mini");
        assertEquals("0.00000015", dep.at("/pricing/prompt").asText(), dep.toString());
        assertEquals("0.0000006", dep.at("/pricing/completion").asText(), dep.toString());
        assertEquals(mini.get("context_length"), dep.get("context_length"));
        assertEquals(List.of("azure"), endpointIds(dep), "served by the account only");
        assertTrue(listed.containsKey("azure-entra/gpt4o-dep"), listed.keySet().toString());
        for (String m : List.of(CLAUDE, "anthropic/claude-haiku-4-5")) {
            JsonNode claude = listed.get(m);
            assertTrue(claude != null, m + " is listed: " + listed.keySet());
            assertEquals(List.of("anthropic"), endpointIds(claude), claude.toString());
        }
        assertEquals(200, get(gw().apiKey, "/v1/models/azure/mini-dep").statusCode(), "and can be read on its own");

        Map<String, JsonNode> none = models(globexKey);
        for (String id : none.keySet()) {
            assertFalse(
                    id.startsWith("azure") || id.startsWith("anthropic/") || id.startsWith("openai/"),
                    "globex holds no key for " + id + ": " + none.keySet());
        }
        assertEquals(404, get(globexKey, "/v1/models/azure/mini-dep").statusCode());
        assertEquals(404, get(globexKey, "/v1/models/" + CLAUDE).statusCode());

        // a tenant's own key makes that account's models its own to list, and no other account's
        assertEquals(201, putKey("anthropic", ACME_ANTHROPIC).statusCode());
        Map<String, JsonNode> acme = models(acmeKey);
        assertTrue(acme.containsKey(CLAUDE), acme.keySet().toString());
        assertFalse(acme.containsKey("azure/mini-dep"), acme.keySet().toString());
    }

    @Test
    void aTenantsOwnAnthropicKeyIsSentForItsRequestsWhileDefaultSendsTheConfiguredOne() throws Exception {
        anthropic().accept(ACME_ANTHROPIC);
        assertEquals(201, putKey("anthropic", ACME_ANTHROPIC).statusCode());

        HttpResponse<String> a = chat(acmeKey, CLAUDE, "");
        assertEquals(200, a.statusCode(), a.body());
        assertEquals(
                "Hello from the fake Anthropic.",
                JSON.readTree(a.body()).at("/choices/0/message/content").asText());
        assertEquals(ACME_ANTHROPIC, anthropic().lastRequest().header("x-api-key"));
        assertNull(anthropic().lastRequest().header("authorization"));

        HttpResponse<String> s = chat(acmeKey, CLAUDE, ",\"stream\":true");
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.body().trim().endsWith("data: [DONE]"), s.body());
        assertEquals(ACME_ANTHROPIC, anthropic().lastRequest().header("x-api-key"));

        HttpResponse<String> d = chat(gw().apiKey, CLAUDE, "");
        assertEquals(200, d.statusCode(), d.body());
        assertEquals(FakeAnthropic.API_KEY, anthropic().lastRequest().header("x-api-key"));

        int calls = anthropic().requests.size();
        assertNoKey(chat(globexKey, CLAUDE, ""));
        assertEquals(calls, anthropic().requests.size(), "a refused request reaches no provider");
    }

    @Test
    void aTenantsOwnAzureKeyIsSentAsItsApiKeyWhileDefaultSendsTheConfiguredOne() throws Exception {
        azure().keys.add(ACME_AZURE);
        assertEquals(201, putKey("azure", ACME_AZURE).statusCode());

        HttpResponse<String> a = chat(acmeKey, "azure/mini-dep", "");
        assertEquals(200, a.statusCode(), a.body());
        Seen s = azure().only();
        assertEquals(
                "/openai/deployments/mini-dep/chat/completions?api-version=" + AzureProviderTest.API_VERSION, s.uri());
        assertEquals(ACME_AZURE, s.apiKey());
        assertNull(s.authorization(), "a tenant's key goes in api-key only");

        azure().seen.clear();
        HttpResponse<String> d = chat(gw().apiKey, "azure/mini-dep", "");
        assertEquals(200, d.statusCode(), d.body());
        assertEquals(AZURE_KEY, azure().only().apiKey());

        azure().seen.clear();
        assertNoKey(chat(globexKey, "azure/mini-dep", ""));
        assertNoKey(chat(acmeKey, "azure-entra/gpt4o-dep", ""));
        assertTrue(azure().seen.isEmpty(), "refused requests reach no provider: " + azure().seen);
    }

    @Test
    void aTenantsOwnKeyForAnEntraAccountIsSentAsABearerTokenAsTheAccountsIs() throws Exception {
        azure().tokens.add(ACME_ENTRA);
        assertEquals(201, putKey("azure-entra", ACME_ENTRA).statusCode());

        HttpResponse<String> a = chat(acmeKey, "azure-entra/gpt4o-dep", "");
        assertEquals(200, a.statusCode(), a.body());
        assertEquals("Bearer " + ACME_ENTRA, azure().only().authorization());
        assertNull(azure().only().apiKey());
    }

    private static void assertNoKey(HttpResponse<String> r) throws Exception {
        assertEquals(404, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("model_not_found", error.get("code").asText(), r.body());
        assertTrue(error.get("message").asText().contains("no provider key"), r.body());
    }

    private GatewayHarness gw() {
        GatewayHarness g = gw;
        if (g == null) {
            throw new IllegalStateException("gateway: not started");
        }
        return g;
    }

    private FakeAzure azure() {
        FakeAzure a = azure;
        if (a == null) {
            throw new IllegalStateException("fake Azure: not started");
        }
        return a;
    }

    private FakeAnthropic anthropic() {
        FakeAnthropic a = anthropic;
        if (a == null) {
            throw new IllegalStateException("fake Anthropic: not started");
        }
        return a;
    }

    private static List<String> endpointIds(JsonNode model) {
        List<String> ids = new java.util.ArrayList<>();
        model.path("endpoints").forEach(e -> ids.add(e.asText()));
        return ids;
    }

    /** {@code GET /v1/models} with {@code key}, by model id. */
    private Map<String, JsonNode> models(String key) throws Exception {
        HttpResponse<String> r = get(key, "/v1/models");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, JsonNode> byId = new java.util.LinkedHashMap<>();
        JSON.readTree(r.body()).path("data").forEach(m -> byId.put(m.path("id").asText(), m));
        return byId;
    }

    /** acme's own admin sets acme's key for {@code provider}. */
    private HttpResponse<String> putKey(String provider, String key) throws Exception {
        return admin(acmeAdmin, "PUT", "/admin/v1/tenants/acme/providers/" + provider, "{\"api_key\":\"" + key + "\"}");
    }

    private static JsonNode created(HttpResponse<String> r) throws Exception {
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> admin(String token, String method, String path, @Nullable String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gw().server.adminPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chat(String key, String model, String extra) throws Exception {
        return send(
                key,
                HttpRequest.newBuilder(URI.create(gw().baseUrl() + "/chat/completions"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                                + "\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]"
                                + extra + "}")));
    }

    private HttpResponse<String> get(String key, String path) throws Exception {
        return send(
                key,
                HttpRequest.newBuilder(URI.create(gw().baseUrl().replace("/v1", "") + path))
                        .GET());
    }

    private HttpResponse<String> send(String key, HttpRequest.Builder b) throws Exception {
        return http.send(
                b.timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
