package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.KeyConfig;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.RequestAggregator;
import io.brainstorm.proxy.testing.Firings;
import io.brainstorm.proxy.testing.TestRouters;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AdminHandler} behind the {@link RequestAggregator}, as on an admin connection after the
 * codec, with a direct executor so each request is answered before {@code writeInbound} returns. The
 * registry is the real one, on the heap: a super-admin token, one key from config, a provider key
 * from config, and provider accounts {@code openai} and {@code groq}.
 */
class AdminHandlerTest {
    /** Keeps decimals exact, as money must be compared. */
    private static final ObjectMapper JSON = io.brainstorm.proxy.api.Json.MAPPER;

    private static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    private static final String SUPER = "Bearer " + ADMIN_TOKEN;
    private static final String CONFIG_PROVIDER_SECRET = "gsk-config-secret-do-not-show";

    private final String configKeySecret = ApiKeys.generate();
    private final String configKeyId = io.brainstorm.proxy.auth.ApiKey.idOf(ApiKeys.sha256(configKeySecret));
    /** Every response body this test saw, to look for secrets in. */
    private final List<String> bodies = new ArrayList<>();

    private final List<String> logLines = new CopyOnWriteArrayList<>();
    private final Handler logCapture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logLines.add(new java.util.logging.SimpleFormatter().formatMessage(r)
                    + (r.getThrown() == null ? "" : " " + r.getThrown()));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final Logger adminLog = Logger.getLogger("io.brainstorm.proxy.admin");
    private Registry registry;
    private io.brainstorm.proxy.route.Router router;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        adminLog.addHandler(logCapture);
        registry = Registry.inMemory(
                new Registry.Bootstrap(
                        List.of(new KeyConfig("from-config", ApiKeys.sha256(configKeySecret), "default")),
                        List.of(new Registry.ProviderSecret("default", "groq", CONFIG_PROVIDER_SECRET)),
                        Set.of("openai", "groq"),
                        null,
                        ADMIN_TOKEN,
                        null,
                        null),
                InstantSource.system());
        Gateway gateway = new Gateway(ConfigLoader.load("""
                sim:
                  enabled: false
                state_store: memory
                providers:
                  - {name: openai, base_url: "https://api.openai.com/v1"}
                  - {name: groq, base_url: "https://api.groq.com/openai/v1"}
                """, Path.of("."), Map.of()), registry, null);
        router = TestRouters.empty();
        TestRouters.start(gateway, router);
        channel = new EmbeddedChannel(
                new RequestAggregator(AdminServer.MAX_BODY_BYTES), new AdminHandler(gateway, Runnable::run));
    }

    @AfterEach
    void tearDown() {
        adminLog.removeHandler(logCapture);
        channel.finishAndReleaseAll();
        registry.close();
    }

    private record Answer(int status, HttpHeaders headers, String body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private Answer send(HttpMethod method, String uri, String authorization, String body) {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        // head and body apart, as the codec delivers them, so the aggregator counts the body
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        request.headers().set(HttpHeaderNames.HOST, "admin");
        if (authorization != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        }
        if (body != null) {
            request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        }
        HttpUtil.setContentLength(request, bytes.length);
        channel.writeInbound(request, new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes)));
        FullHttpResponse response = channel.readOutbound();
        assertNotNull(response, "a response was written for " + method + " " + uri);
        try {
            assertNull(channel.readOutbound(), "exactly one response per request");
            assertTrue(channel.config().isAutoRead(), "reading resumes once the answer is written");
            String text = response.content().toString(StandardCharsets.UTF_8);
            bodies.add(text);
            assertEquals("application/json", response.headers().get(HttpHeaderNames.CONTENT_TYPE), text);
            assertEquals(response.content().readableBytes(), response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH));
            return new Answer(response.status().code(), response.headers().copy(), text);
        } finally {
            response.release();
        }
    }

    private Answer get(String uri, String auth) {
        return send(HttpMethod.GET, uri, auth, null);
    }

    private Answer ok(int status, Answer a) {
        assertEquals(status, a.status(), a.body());
        assertEquals("no-store", a.headers().get(HttpHeaderNames.CACHE_CONTROL), a.body());
        return a;
    }

    /** OpenAI's error shape, exactly, with the given status, type, code and param. */
    private static JsonNode assertError(Answer a, int status, String type, String code, String param) throws Exception {
        assertEquals(status, a.status(), a.body());
        JsonNode root = a.json();
        assertEquals(Set.of("error"), names(root), a.body());
        JsonNode e = root.get("error");
        assertEquals(Set.of("message", "type", "param", "code"), names(e), a.body());
        assertEquals(type, e.get("type").asText(), a.body());
        assertEquals(code, e.get("code").asText(), a.body());
        if (param == null) {
            assertTrue(e.get("param").isNull(), a.body());
        } else {
            assertEquals(param, e.get("param").asText(), a.body());
        }
        assertFalse(e.get("message").asText().isBlank());
        assertFalse(a.body().contains("Exception") || a.body().contains("\tat "), "no stack trace: " + a.body());
        return e;
    }

    private static Set<String> names(JsonNode n) {
        Set<String> out = new TreeSet<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private void createTenant(String id) throws Exception {
        ok(
                201,
                send(
                        HttpMethod.POST,
                        "/admin/v1/tenants",
                        SUPER,
                        "{\"id\":\"" + id + "\",\"name\":\"" + id + " Inc.\"}"));
    }

    /** Creates tenants acme and globex; returns the authorization of an admin key of acme's. */
    private String acmeAndGlobexWithAcmesAdmin() throws Exception {
        createTenant("acme");
        createTenant("globex");
        return "Bearer "
                + createKey("acme", "{\"name\":\"ops\",\"kind\":\"admin\"}", SUPER)
                        .get("key")
                        .asText();
    }

    /** Creates a key; returns its create answer (holding the secret). */
    private JsonNode createKey(String tenant, String body, String auth) throws Exception {
        return ok(201, send(HttpMethod.POST, "/admin/v1/tenants/" + tenant + "/keys", auth, body))
                .json();
    }

    private void assertNoSecretAnywhere(String secret) {
        for (String body : bodies) {
            assertFalse(body.contains(secret), "a response body holds a secret: " + body);
        }
        for (String line : logLines) {
            assertFalse(line.contains(secret), "a log line holds a secret: " + line);
        }
    }

    // ---- authentication ----

    @Test
    void missingWrongOrApiKeyTokenIs401() throws Exception {
        for (String auth : new String[] {
            null, "Bearer wrong-token-wrong-token-123", "Basic " + ADMIN_TOKEN, "Bearer " + configKeySecret, ADMIN_TOKEN
        }) {
            Answer a = get("/admin/v1/tenants", auth);
            assertError(a, 401, "authentication_error", "invalid_api_key", null);
            assertTrue(a.headers().get(HttpHeaderNames.WWW_AUTHENTICATE).startsWith("Bearer"));
            assertEquals("no-store", a.headers().get(HttpHeaderNames.CACHE_CONTROL));
        }
        assertFalse(channel.finish());
    }

    @Test
    void whoamiNamesTheRole() throws Exception {
        JsonNode me = ok(200, get("/admin/v1/whoami", SUPER)).json();
        assertEquals("principal", me.get("object").asText());
        assertEquals("super_admin", me.get("role").asText());
        assertTrue(me.get("tenant").isNull());

        createTenant("acme");
        JsonNode created = createKey("acme", "{\"name\":\"ops\",\"kind\":\"admin\"}", SUPER);
        String adminKey = created.get("key").asText();
        assertTrue(adminKey.startsWith("br_admin_"), adminKey);
        me = ok(200, get("/admin/v1/whoami", "Bearer " + adminKey)).json();
        assertEquals("tenant_admin", me.get("role").asText());
        assertEquals("acme", me.get("tenant").asText());
        assertEquals(created.get("id").asText(), me.get("key_id").asText());
        assertFalse(channel.finish());
    }

    // ---- tenants ----

    @Test
    void superAdminCreatesListsAndDeletesTenants() throws Exception {
        Answer created =
                ok(201, send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":\"acme\",\"name\":\"Acme Inc.\"}"));
        JsonNode t = created.json();
        assertEquals("tenant", t.get("object").asText());
        assertEquals("acme", t.get("id").asText());
        assertEquals("Acme Inc.", t.get("name").asText());
        assertEquals("admin", t.get("source").asText());
        assertEquals(0, t.get("keys").asInt());
        assertEquals(0, t.get("provider_keys").asInt());
        assertTrue(t.get("created_at").isTextual(), created.body());
        java.time.Instant.parse(t.get("created_at").asText());

        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":\"acme\"}"),
                409,
                "invalid_request_error",
                "conflict",
                null);

        JsonNode list = ok(200, get("/admin/v1/tenants", SUPER)).json();
        assertEquals("list", list.get("object").asText());
        Set<String> ids = new TreeSet<>();
        list.get("data").forEach(n -> ids.add(n.get("id").asText()));
        assertEquals(Set.of("default", "acme"), ids);

        createKey("acme", "{\"name\":\"a\"}", SUPER);
        ok(201, send(HttpMethod.PUT, "/admin/v1/tenants/acme/providers/openai", SUPER, "{\"api_key\":\"sk-acme\"}"));
        JsonNode one = ok(200, get("/admin/v1/tenants/acme", SUPER)).json();
        assertEquals(1, one.get("keys").asInt());
        assertEquals(1, one.get("provider_keys").asInt());

        JsonNode deleted = ok(200, send(HttpMethod.DELETE, "/admin/v1/tenants/acme", SUPER, null))
                .json();
        assertEquals("tenant", deleted.get("object").asText());
        assertEquals("acme", deleted.get("id").asText());
        assertTrue(deleted.get("deleted").asBoolean());
        assertError(get("/admin/v1/tenants/acme", SUPER), 404, "invalid_request_error", "not_found", null);
        assertError(
                send(HttpMethod.DELETE, "/admin/v1/tenants/default", SUPER, null),
                409,
                "invalid_request_error",
                "conflict",
                null);
        assertFalse(channel.finish());
    }

    @Test
    void tenantIdIsValidatedAndRequired() throws Exception {
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"name\":\"x\"}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "id");
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":7}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "id");
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":\"Not Valid!\"}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "id");
        assertFalse(channel.finish());
    }

    // ---- keys ----

    @Test
    void keySecretIsShownOnlyInTheCreateAnswer() throws Exception {
        createTenant("acme");
        JsonNode k = createKey("acme", """
                {"name": "checkout-service", "kind": "api", "daily_budget_usd": 5, "rpm": 600, "tpm": 200000,
                 "allowed_models": ["sim/alpha", "openai/*"], "time_zone": "Europe/Berlin"}""", SUPER);
        String secret = k.get("key").asText();
        String id = k.get("id").asText();
        assertTrue(secret.startsWith("br_live_"), secret);
        assertTrue(id.startsWith("key_"), id);
        assertEquals("key", k.get("object").asText());
        assertEquals("checkout-service", k.get("name").asText());
        assertEquals("acme", k.get("tenant").asText());
        assertEquals("api", k.get("kind").asText());
        assertEquals(0, k.get("daily_budget_usd").decimalValue().compareTo(java.math.BigDecimal.valueOf(5)));
        assertEquals(600, k.get("rpm").asInt());
        assertEquals(200000, k.get("tpm").asLong());
        assertEquals("[\"sim/alpha\",\"openai/*\"]", k.get("allowed_models").toString());
        assertEquals("Europe/Berlin", k.get("time_zone").asText());
        assertTrue(k.get("revoked_at").isNull());
        assertEquals("admin", k.get("source").asText());
        assertEquals(
                Set.of(
                        "object",
                        "id",
                        "name",
                        "tenant",
                        "kind",
                        "daily_budget_usd",
                        "rpm",
                        "tpm",
                        "allowed_models",
                        "time_zone",
                        "created_at",
                        "revoked_at",
                        "source",
                        "key"),
                names(k));
        int createAnswer = bodies.size() - 1;

        JsonNode shown = ok(200, get("/admin/v1/keys/" + id, SUPER)).json();
        assertNull(shown.get("key"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) k).remove("key");
        assertEquals(k, shown, "the key as shown is the create answer without the secret");

        assertEquals(
                1,
                ok(200, get("/admin/v1/tenants/acme/keys", SUPER))
                        .json()
                        .get("data")
                        .size());
        assertEquals(
                1,
                ok(200, get("/admin/v1/keys?tenant=acme", SUPER))
                        .json()
                        .get("data")
                        .size());
        JsonNode all = ok(200, get("/admin/v1/keys", SUPER)).json();
        Set<String> ids = new TreeSet<>();
        all.get("data").forEach(n -> ids.add(n.get("id").asText()));
        assertTrue(ids.contains(id) && ids.contains(configKeyId), all.toString());
        ok(200, get("/admin/v1/keys/" + id + "/usage", SUPER));
        ok(200, get("/admin/v1/tenants/acme/usage", SUPER));

        bodies.remove(createAnswer);
        assertNoSecretAnywhere(secret);
        assertNoSecretAnywhere(configKeySecret);
        assertFalse(channel.finish());
    }

    @Test
    void aKeyWithNothingButANameHasNoLimits() throws Exception {
        JsonNode k = createKey("default", "{\"name\":\"plain\"}", SUPER);
        assertTrue(k.get("daily_budget_usd").isNull(), k.toString());
        assertEquals(0, k.get("rpm").asInt());
        assertEquals(0, k.get("tpm").asInt());
        assertEquals(0, k.get("allowed_models").size());
        assertEquals("api", k.get("kind").asText());
        // a budget written with every decimal a nano-USD has comes back exactly
        k = createKey("default", "{\"name\":\"tiny\",\"daily_budget_usd\":0.000000001}", SUPER);
        assertEquals("0.000000001", k.get("daily_budget_usd").decimalValue().toPlainString());
        assertFalse(channel.finish());
    }

    @Test
    void patchChangesOnlyTheFieldsGiven() throws Exception {
        JsonNode k = createKey("default", """
                {"name": "svc", "daily_budget_usd": 5, "rpm": 600, "tpm": 1000, "allowed_models": ["sim/alpha"]}""", SUPER);
        String uri = "/admin/v1/keys/" + k.get("id").asText();
        assertEquals("UTC", k.get("time_zone").asText(), "no zone given: UTC, by that name");
        JsonNode p = ok(
                        200,
                        send(
                                HttpMethod.PATCH,
                                uri,
                                SUPER,
                                "{\"daily_budget_usd\": 2.5, \"time_zone\": \"Asia/Tokyo\"}"))
                .json();
        assertEquals("2.5", p.get("daily_budget_usd").decimalValue().toPlainString());
        assertEquals("Asia/Tokyo", p.get("time_zone").asText());
        assertEquals(600, p.get("rpm").asInt(), "left out, so kept");
        assertEquals(1000, p.get("tpm").asInt());
        assertEquals("svc", p.get("name").asText());
        assertEquals("[\"sim/alpha\"]", p.get("allowed_models").toString());

        p = ok(
                        200,
                        send(
                                HttpMethod.PATCH,
                                uri,
                                SUPER,
                                "{\"name\":\"renamed\",\"daily_budget_usd\":null,\"rpm\":null,\"allowed_models\":[],\"time_zone\":null}"))
                .json();
        assertEquals("renamed", p.get("name").asText());
        assertEquals("UTC", p.get("time_zone").asText());
        assertTrue(p.get("daily_budget_usd").isNull(), "null: no budget");
        assertEquals(0, p.get("rpm").asInt());
        assertEquals(1000, p.get("tpm").asInt());
        assertEquals(0, p.get("allowed_models").size());
        assertEquals(p, ok(200, get(uri, SUPER)).json(), "the change is kept");

        assertError(
                send(HttpMethod.PATCH, uri, SUPER, "{\"kind\":\"admin\"}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "kind");
        assertError(
                send(HttpMethod.PATCH, "/admin/v1/keys/" + configKeyId, SUPER, "{\"rpm\":5}"),
                409,
                "invalid_request_error",
                "conflict",
                null);
        assertFalse(channel.finish());
    }

    @Test
    void deleteRevokesAtOnce() throws Exception {
        createTenant("acme");
        JsonNode admin = createKey("acme", "{\"name\":\"ops\",\"kind\":\"admin\"}", SUPER);
        String adminAuth = "Bearer " + admin.get("key").asText();
        ok(200, get("/admin/v1/whoami", adminAuth));

        JsonNode r = ok(
                        200,
                        send(
                                HttpMethod.DELETE,
                                "/admin/v1/keys/" + admin.get("id").asText(),
                                SUPER,
                                null))
                .json();
        assertTrue(r.get("revoked_at").isTextual(), r.toString());
        java.time.Instant.parse(r.get("revoked_at").asText());
        assertError(get("/admin/v1/whoami", adminAuth), 401, "authentication_error", "invalid_api_key", null);
        assertError(
                send(HttpMethod.PATCH, "/admin/v1/keys/" + admin.get("id").asText(), SUPER, "{\"rpm\":1}"),
                409,
                "invalid_request_error",
                "conflict",
                null);
        // revoked keys are still listed, and not counted by their tenant
        assertEquals(
                1,
                ok(200, get("/admin/v1/tenants/acme/keys", SUPER))
                        .json()
                        .get("data")
                        .size());
        assertEquals(
                0,
                ok(200, get("/admin/v1/tenants/acme", SUPER)).json().get("keys").asInt());
        assertFalse(channel.finish());
    }

    @Test
    void badKeyFieldsAre400NamingTheParam() throws Exception {
        String[][] cases = {
            {"{\"daily_budget_usd\":\"5\"}", "daily_budget_usd"},
            {"{\"daily_budget_usd\":-1}", "daily_budget_usd"},
            {"{\"daily_budget_usd\":0.0000000001}", "daily_budget_usd"},
            {"{\"daily_budget_usd\":1000000000.5}", "daily_budget_usd"},
            {"{\"daily_budget_usd\":1e-999999999}", "daily_budget_usd"},
            {"{\"rpm\":1.5}", "rpm"},
            {"{\"rpm\":-1}", "rpm"},
            {"{\"rpm\":3000000000}", "rpm"},
            {"{\"rpm\":1e999999999}", "rpm"},
            {"{\"tpm\":\"x\"}", "tpm"},
            {"{\"allowed_models\":\"sim/alpha\"}", "allowed_models"},
            {"{\"allowed_models\":[1]}", "allowed_models"},
            {"{\"time_zone\":\"Mars/Olympus\"}", "time_zone"},
            {"{\"time_zone\":3}", "time_zone"},
            {"{\"kind\":\"root\"}", "kind"},
            {"{\"daily_budget\":5}", "daily_budget"},
        };
        for (String[] c : cases) {
            String body = "{\"name\":\"k\"," + c[0].substring(1);
            JsonNode e = assertError(
                    send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, body),
                    400,
                    "invalid_request_error",
                    "invalid_request",
                    c[1]);
            assertTrue(
                    e.get("message").asText().startsWith(c[1])
                            || e.get("message").asText().contains("'" + c[1] + "'"),
                    e.toString());
        }
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, "{}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "name");
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, "{\"name\":"),
                400,
                "invalid_request_error",
                "invalid_request",
                null);
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, "[1]"),
                400,
                "invalid_request_error",
                "invalid_request",
                null);
        assertError(
                send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, null),
                400,
                "invalid_request_error",
                "invalid_request",
                null);
        JsonNode e = assertError(
                send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, "{\"name\":\"k\",\"rpm\":-1}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "rpm");
        assertEquals(
                "rpm: -1 (expected: an integer from 0 to 2147483647, 0 or null for no limit).",
                e.get("message").asText());
        assertEquals(1, ok(200, get("/admin/v1/keys", SUPER)).json().get("data").size(), "nothing was created");
        assertFalse(channel.finish());
    }

    // ---- provider keys ----

    @Test
    void providerKeysAreNeverReturned() throws Exception {
        String secret = "sk-proj-acme-very-secret-123456";
        String replaced = "sk-proj-acme-second-secret-654321";
        createTenant("acme");
        JsonNode set = ok(
                        201,
                        send(
                                HttpMethod.PUT,
                                "/admin/v1/tenants/acme/providers/openai",
                                SUPER,
                                "{\"api_key\":\"" + secret + "\"}"))
                .json();
        assertEquals("provider_key", set.get("object").asText());
        assertEquals("acme", set.get("tenant").asText());
        assertEquals("openai", set.get("provider").asText());
        assertTrue(set.get("fingerprint").asText().matches("sha256:[0-9a-f]{8}"), set.toString());
        assertEquals("admin", set.get("source").asText());
        JsonNode again = ok(
                        200,
                        send(
                                HttpMethod.PUT,
                                "/admin/v1/tenants/acme/providers/openai",
                                SUPER,
                                "{\"api_key\":\"" + replaced + "\"}"))
                .json();
        assertFalse(set.get("fingerprint").equals(again.get("fingerprint")), "a new key, a new fingerprint");

        JsonNode list = ok(200, get("/admin/v1/tenants/acme/providers", SUPER)).json();
        assertEquals("list", list.get("object").asText());
        assertEquals(1, list.get("data").size());
        assertEquals(again, list.get("data").get(0));
        assertEquals("[\"openai\",\"groq\"]", list.get("providers").toString());
        JsonNode defaults =
                ok(200, get("/admin/v1/tenants/default/providers", SUPER)).json();
        assertEquals("config", defaults.get("data").get(0).get("source").asText());

        assertError(
                send(
                        HttpMethod.PUT,
                        "/admin/v1/tenants/acme/providers/nosuch",
                        SUPER,
                        "{\"api_key\":\"sk-x-unknown-provider\"}"),
                404,
                "invalid_request_error",
                "not_found",
                null);
        JsonNode e = assertError(
                send(HttpMethod.PUT, "/admin/v1/tenants/acme/providers/openai", SUPER, "{\"api_key\":42}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "api_key");
        assertFalse(e.get("message").asText().contains("42"), "a secret's value is not repeated: " + e);
        assertError(
                send(HttpMethod.PUT, "/admin/v1/tenants/acme/providers/openai", SUPER, "{}"),
                400,
                "invalid_request_error",
                "invalid_request",
                "api_key");

        JsonNode deleted = ok(200, send(HttpMethod.DELETE, "/admin/v1/tenants/acme/providers/openai", SUPER, null))
                .json();
        assertEquals("provider_key", deleted.get("object").asText());
        assertEquals("openai", deleted.get("provider").asText());
        assertTrue(deleted.get("deleted").asBoolean());
        assertError(
                send(HttpMethod.DELETE, "/admin/v1/tenants/acme/providers/openai", SUPER, null),
                404,
                "invalid_request_error",
                "not_found",
                null);
        assertEquals(
                0,
                ok(200, get("/admin/v1/tenants/acme/providers", SUPER))
                        .json()
                        .get("data")
                        .size());
        assertError(
                send(HttpMethod.DELETE, "/admin/v1/tenants/default/providers/groq", SUPER, null),
                409,
                "invalid_request_error",
                "conflict",
                null);

        assertNoSecretAnywhere(secret);
        assertNoSecretAnywhere(replaced);
        assertNoSecretAnywhere(CONFIG_PROVIDER_SECRET);
        assertFalse(channel.finish());
    }

    // ---- scope ----

    @Test
    void aTenantAdminSeesOnlyItsTenantAndAnotherTenantIsA404LikeNone() throws Exception {
        String acme = acmeAndGlobexWithAcmesAdmin();
        String acmeKey =
                createKey("acme", "{\"name\":\"svc\"}", SUPER).get("id").asText();
        String globexKey =
                createKey("globex", "{\"name\":\"svc\"}", SUPER).get("id").asText();
        ok(
                201,
                send(
                        HttpMethod.PUT,
                        "/admin/v1/tenants/globex/providers/openai",
                        SUPER,
                        "{\"api_key\":\"sk-globex-1\"}"));

        JsonNode tenants = ok(200, get("/admin/v1/tenants", acme)).json();
        assertEquals(1, tenants.get("data").size());
        assertEquals("acme", tenants.get("data").get(0).get("id").asText());
        JsonNode keys = ok(200, get("/admin/v1/keys", acme)).json();
        keys.get("data").forEach(k -> assertEquals("acme", k.get("tenant").asText(), keys.toString()));
        assertEquals(2, keys.get("data").size());
        ok(200, get("/admin/v1/tenants/acme", acme));
        ok(200, get("/admin/v1/keys/" + acmeKey, acme));
        ok(201, send(HttpMethod.POST, "/admin/v1/tenants/acme/keys", acme, "{\"name\":\"own\"}"));

        // another tenant's resources answer exactly what a tenant that does not exist answers
        String[][] tenantScoped = {
            {"GET", "/admin/v1/tenants/%s", null},
            {"GET", "/admin/v1/tenants/%s/keys", null},
            {"POST", "/admin/v1/tenants/%s/keys", "{\"name\":\"x\"}"},
            {"GET", "/admin/v1/keys?tenant=%s", null},
            {"GET", "/admin/v1/tenants/%s/providers", null},
            {"PUT", "/admin/v1/tenants/%s/providers/openai", "{\"api_key\":\"sk-intruder\"}"},
            {"DELETE", "/admin/v1/tenants/%s/providers/openai", null},
            {"GET", "/admin/v1/tenants/%s/usage", null},
        };
        for (String[] c : tenantScoped) {
            HttpMethod m = HttpMethod.valueOf(c[0]);
            Answer other = send(m, c[1].formatted("globex"), acme, c[2]);
            Answer none = send(m, c[1].formatted("nosuch"), acme, c[2]);
            assertError(other, 404, "invalid_request_error", "not_found", null);
            assertEquals(none.body().replace("nosuch", "globex"), other.body(), c[0] + " " + c[1]);
            assertEquals(
                    "tenant 'globex' not found",
                    other.json().get("error").get("message").asText());
        }
        String[][] keyScoped = {
            {"GET", "/admin/v1/keys/%s", null},
            {"PATCH", "/admin/v1/keys/%s", "{\"rpm\":1}"},
            {"DELETE", "/admin/v1/keys/%s", null},
            {"GET", "/admin/v1/keys/%s/usage", null},
        };
        for (String[] c : keyScoped) {
            HttpMethod m = HttpMethod.valueOf(c[0]);
            Answer other = send(m, c[1].formatted(globexKey), acme, c[2]);
            Answer none = send(m, c[1].formatted("key_000000000000"), acme, c[2]);
            assertError(other, 404, "invalid_request_error", "not_found", null);
            assertEquals(none.body().replace("key_000000000000", globexKey), other.body(), c[0] + " " + c[1]);
        }
        // nothing of globex changed
        JsonNode g = ok(200, get("/admin/v1/keys/" + globexKey, SUPER)).json();
        assertTrue(g.get("revoked_at").isNull());
        assertEquals(0, g.get("rpm").asInt());
        assertEquals(
                1,
                ok(200, get("/admin/v1/tenants/globex/providers", SUPER))
                        .json()
                        .get("data")
                        .size());

        for (Answer a : List.of(
                send(HttpMethod.POST, "/admin/v1/tenants", acme, "{\"id\":\"mine\"}"),
                send(HttpMethod.DELETE, "/admin/v1/tenants/globex", acme, null),
                send(HttpMethod.DELETE, "/admin/v1/tenants/acme", acme, null))) {
            assertError(a, 403, "permission_error", "permission_error", null);
        }
        ok(200, get("/admin/v1/tenants/globex", SUPER));
        assertEquals(
                3, ok(200, get("/admin/v1/tenants", SUPER)).json().get("data").size());
        assertNoSecretAnywhere("sk-globex-1");
        assertFalse(channel.finish());
    }

    // ---- usage and routing ----

    @Test
    void usageAndRouting() throws Exception {
        createTenant("acme");
        JsonNode k = createKey("acme", "{\"name\":\"svc\",\"daily_budget_usd\":3}", SUPER);
        createKey("acme", "{\"name\":\"ops\",\"kind\":\"admin\"}", SUPER);
        JsonNode u = ok(200, get("/admin/v1/keys/" + k.get("id").asText() + "/usage", SUPER))
                .json();
        assertEquals("usage", u.get("object").asText());
        assertEquals(k.get("id").asText(), u.get("key_id").asText());
        assertEquals("3.0", u.get("daily_budget_usd").decimalValue().toPlainString());

        JsonNode t = ok(200, get("/admin/v1/tenants/acme/usage", SUPER)).json();
        assertEquals("tenant_usage", t.get("object").asText());
        assertEquals("acme", t.get("tenant").asText());
        assertEquals(0, t.get("spent_usd").decimalValue().signum());
        assertEquals(0, t.get("reserved_usd").decimalValue().signum());
        assertEquals(0, t.get("requests").asLong());
        assertEquals(1, t.get("keys").size(), "API keys only: " + t);

        JsonNode r = ok(200, get("/admin/v1/routing", SUPER)).json();
        assertTrue(r.get("strategies").isArray(), r.toString());
        assertTrue(r.get("endpoints").isArray(), r.toString());
        assertFalse(channel.finish());
    }

    @Test
    void routingShowsLearntBeliefsAndDetectorFiringsAndATenantsViewOnlyToItsAdmins() throws Exception {
        String acme = acmeAndGlobexWithAcmesAdmin();
        String candidate = "sim/alpha@sim-east";
        String cls = Firings.CLASS.key();
        long now = System.currentTimeMillis();
        io.brainstorm.proxy.route.Learning learning = router.state().learning();
        Firings.drop(learning, "acme", candidate, now); // acme's belief, then the shared one
        Firings.dropByFeedback(learning, "globex", candidate, now + 1); // globex's only

        // the operator: the shared belief, and every firing, newest first
        JsonNode all = ok(200, get("/admin/v1/routing", SUPER)).json();
        assertTrue(all.get("tenant").isNull(), all.toString());
        JsonNode shared = endpoint(all, candidate).get("quality").get(cls);
        assertTrue(shared.get("dropped").asBoolean(), shared.toString());
        assertEquals(1, shared.get("resets").asInt(), shared.toString());
        assertEquals(Firings.ANSWERS, shared.get("observations").asInt(), shared.toString());
        assertTrue(shared.get("mean").asDouble() < 0.2, shared.toString());
        assertEquals(
                java.time.Instant.ofEpochMilli(now).toString(),
                shared.get("last_reset_at").asText());
        assertFalse(endpoint(all, candidate).has("tenant_quality"), "no tenant's view without a tenant");
        JsonNode events = all.get("learning_events");
        assertEquals(List.of("globex", "shared", "acme"), scopes(events), events.toString());
        JsonNode e = events.get(1);
        assertEquals(candidate, e.get("candidate").asText());
        assertEquals("shared", e.get("scope").asText());
        assertTrue(e.get("tenant").isNull());
        assertEquals(cls, e.get("class").asText());
        assertEquals("down", e.get("direction").asText());
        assertTrue(e.get("mean_before").asDouble() > 0.5, e.toString());
        assertTrue(e.get("mean_after").asDouble() < 0.2, e.toString());
        assertTrue(e.get("answers").asDouble() >= 5, e.toString());
        assertEquals(java.time.Instant.ofEpochMilli(now).toString(), e.get("at").asText());

        // one tenant's view, beside the shared belief: its own belief and what routing sees for it
        JsonNode g = ok(200, get("/admin/v1/routing?tenant=globex", SUPER)).json();
        assertEquals("globex", g.get("tenant").asText());
        assertEquals(List.of("globex", "shared"), scopes(g.get("learning_events")), g.toString());
        JsonNode view = endpoint(g, candidate).get("tenant_quality").get(cls);
        assertTrue(view.get("own").get("dropped").asBoolean(), view.toString());
        assertEquals(Firings.ANSWERS, view.get("own").get("observations").asInt(), view.toString());
        assertTrue(view.get("combined").get("mean").asDouble() < 0.2, view.toString());
        assertEquals(
                endpoint(all, candidate).get("quality"),
                endpoint(g, candidate).get("quality"),
                "the shared belief is the same in every view");

        // a tenant admin gets its own tenant's view by default; another tenant is a 404 like none
        JsonNode mine = ok(200, get("/admin/v1/routing", acme)).json();
        assertEquals("acme", mine.get("tenant").asText());
        assertEquals(List.of("shared", "acme"), scopes(mine.get("learning_events")), mine.toString());
        assertTrue(
                endpoint(mine, candidate)
                        .get("tenant_quality")
                        .get(cls)
                        .get("own")
                        .get("dropped")
                        .asBoolean(),
                mine.toString());
        assertFalse(get("/admin/v1/routing", acme).body().contains("globex"));
        JsonNode named = ok(200, get("/admin/v1/routing?tenant=acme", acme)).json();
        ((com.fasterxml.jackson.databind.node.ObjectNode) named).set("time", mine.get("time"));
        assertEquals(mine, named, "?tenant= of its own tenant is the same view");
        Answer other = get("/admin/v1/routing?tenant=globex", acme);
        Answer none = get("/admin/v1/routing?tenant=nosuch", acme);
        assertError(other, 404, "invalid_request_error", "not_found", null);
        assertEquals(none.body().replace("nosuch", "globex"), other.body());
        assertError(get("/admin/v1/routing?tenant=nosuch", SUPER), 404, "invalid_request_error", "not_found", null);
        assertFalse(channel.finish());
    }

    private static JsonNode endpoint(JsonNode report, String id) {
        for (JsonNode e : report.get("endpoints")) {
            if (e.get("id").asText().equals(id)) {
                return e;
            }
        }
        throw new AssertionError(id + " not in " + report);
    }

    /** Each event's tenant, or {@code shared}, in the report's order. */
    private static List<String> scopes(JsonNode events) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            out.add(
                    e.get("tenant").isNull()
                            ? e.get("scope").asText()
                            : e.get("tenant").asText());
        }
        return out;
    }

    // ---- HTTP ----

    @Test
    void unknownPathIs404AndWrongMethodIs405WithAllow() throws Exception {
        for (String uri : new String[] {
            "/admin/v1/nope",
            "/admin/v2/tenants",
            "/admin/v1/tenants/",
            "/",
            "/admin/v1/tenants/acme/keys/extra",
            "/admin/v1//keys"
        }) {
            assertError(get(uri, SUPER), 404, "invalid_request_error", "not_found", null);
        }
        Answer a = send(HttpMethod.DELETE, "/admin/v1/whoami", SUPER, null);
        assertError(a, 405, "invalid_request_error", "method_not_allowed", null);
        assertEquals("GET", a.headers().get(HttpHeaderNames.ALLOW));
        a = send(HttpMethod.PUT, "/admin/v1/tenants", null, "{}");
        assertError(a, 405, "invalid_request_error", "method_not_allowed", null);
        assertEquals("GET, POST", a.headers().get(HttpHeaderNames.ALLOW));
        a = send(HttpMethod.POST, "/admin/v1/keys/key_0123", SUPER, "{}");
        assertEquals("GET, PATCH, DELETE", a.headers().get(HttpHeaderNames.ALLOW));
        assertFalse(channel.finish());
    }

    @Test
    void bodyOver64KiBIs413() throws Exception {
        String big = "{\"name\":\"" + "x".repeat(AdminServer.MAX_BODY_BYTES) + "\"}";
        Answer a = send(HttpMethod.POST, "/admin/v1/tenants/default/keys", SUPER, big);
        assertError(a, 413, "invalid_request_error", "request_too_large", null);
        assertFalse(channel.isOpen(), "an embedded channel is not duplex, so the connection closes");
        assertFalse(channel.finish());
    }

    @Test
    void notReadyIs503AndAFailureInsideIs500WithoutDetail() throws Exception {
        // no admission yet: usage answers 503, the gateway is starting
        Gateway starting = new Gateway(null, registry, null);
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(starting, Runnable::run));
        assertEquals(503, status(ch, "/admin/v1/tenants/default/usage"));
        assertEquals(503, status(ch, "/admin/v1/routing"));
        // no config: listing provider accounts fails inside
        assertEquals(500, status(ch, "/admin/v1/tenants/default/providers"));
        assertTrue(
                logLines.stream().anyMatch(l -> l.contains("GET /admin/v1/tenants/default/providers failed")),
                logLines.toString());
        assertFalse(ch.finish());
        assertFalse(channel.finish());
    }

    @Test
    void aRequestTheExecutorRefusesIsReleasedAndItsConnectionClosed() {
        Gateway gateway = new Gateway(null, registry, null);
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(gateway, task -> {
            throw new java.util.concurrent.RejectedExecutionException("stopped");
        }));
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/admin/v1/whoami");
        ch.writeInbound(request);
        assertEquals(0, request.refCnt());
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    /** The status of a GET as the super-admin on {@code ch}; the body must be OpenAI's error shape without detail. */
    private int status(EmbeddedChannel ch, String uri) throws Exception {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        request.headers().set(HttpHeaderNames.AUTHORIZATION, SUPER);
        ch.writeInbound(request);
        FullHttpResponse r = ch.readOutbound();
        try {
            Answer a = new Answer(r.status().code(), r.headers(), r.content().toString(StandardCharsets.UTF_8));
            if (a.status() >= 500) {
                assertError(
                        a, a.status(), "api_error", a.status() == 500 ? "internal_error" : "service_unavailable", null);
            }
            return a.status();
        } finally {
            r.release();
        }
    }
}
