package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.Transport;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.testing.TestRouters;
import io.netty.channel.EventLoopGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's server side on a real {@link AdminServer}: login, the session cookie standing in
 * for the bearer token, CSRF, logout and revocation, the live feed's event stream and the
 * per-model figures, over HTTP as a browser would use them.
 */
class DashboardServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "dashboard-test-admin-token-0123456789";
    private static final int API_PORT = 18080;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    /** Everything the server answered, to look for the token in. */
    private final List<String> seen = new ArrayList<>();

    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Registry registry;
    private Gateway gateway;
    private AdminServer server;

    @BeforeEach
    void setUp(org.junit.jupiter.api.TestInfo test) throws Exception {
        Transport transport = Transport.best();
        boss = transport.newGroup(1, "test-dash-accept");
        workers = transport.newGroup(2, "test-dash-io");
        registry = Registry.inMemory(
                new Registry.Bootstrap(List.of(), List.of(), Set.of("openai"), null, TOKEN, null, null),
                InstantSource.system());
        // a 1 s idle timeout: the event stream's heartbeats (every 500 ms) must keep it open; but a
        // stream that reads nothing writes nothing, and would be closed as idle while the test fills it
        int idle = test.getTestMethod().orElseThrow().getName().startsWith("aStreamThatIsNotRead") ? 60 : 1;
        gateway = TestRouters.start(
                new Gateway(
                        ConfigLoader.load(
                                "server:\n  idle_timeout_seconds: " + idle
                                        + "\nsim:\n  enabled: false\nstate_store: memory\n",
                                Path.of("."),
                                Map.of()),
                        registry,
                        null),
                TestRouters.empty());
        server = AdminServer.start(gateway, "127.0.0.1", 0, API_PORT, boss, workers, transport.serverChannel());
    }

    @AfterEach
    void tearDown() {
        server.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        registry.close();
        for (String s : seen) {
            assertFalse(s.contains(TOKEN), "the admin token came back in an answer: " + s);
        }
    }

    // ---- login, cookie, CSRF ----

    @Test
    void loginSetsAnHttpOnlyStrictCookieAndAnswersThePrincipalAndACsrfToken() throws Exception {
        HttpResponse<String> r = login(TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        String cookie = r.headers().firstValue("set-cookie").orElseThrow();
        assertTrue(cookie.startsWith("br_session="), cookie);
        assertTrue(cookie.toLowerCase(java.util.Locale.ROOT).contains("; httponly"), cookie);
        assertTrue(cookie.contains("SameSite=Strict"), cookie);
        assertTrue(cookie.contains("Path=/"), cookie);
        assertTrue(cookie.contains("Max-Age=28800"), cookie);
        assertFalse(cookie.contains("Secure"), "the admin listener is plain HTTP: " + cookie);
        assertTrue(sessionId(r).length() >= 43, "a 256-bit id: " + cookie);
        JsonNode body = JSON.readTree(r.body());
        assertEquals("super_admin", body.get("principal").get("role").asText());
        assertEquals(API_PORT, body.get("api_port").asInt());
        String csrf = body.get("csrf_token").asText();
        assertTrue(csrf.length() >= 43, csrf);
        assertEquals("no-store", r.headers().firstValue("cache-control").orElse(null));

        // a second login is another session, with another CSRF token
        HttpResponse<String> again = login(TOKEN);
        assertFalse(sessionId(again).equals(sessionId(r)));
        assertFalse(JSON.readTree(again.body()).get("csrf_token").asText().equals(csrf));
    }

    @Test
    void everyWrongTokenGetsTheSame401AndNoCookie() throws Exception {
        String tenantAdmin = createTenantAdminKey("acme");
        String apiKey = JSON.readTree(bearer("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"svc\"}")
                        .body())
                .get("key")
                .asText();
        revoke(keyIdOf(tenantAdmin));
        List<String> messages = new ArrayList<>();
        for (String wrong : List.of("nope", "br_admin_" + "x".repeat(32), tenantAdmin, apiKey, TOKEN + "x")) {
            HttpResponse<String> r = login(wrong);
            assertEquals(401, r.statusCode(), wrong + ": " + r.body());
            assertTrue(r.headers().firstValue("set-cookie").isEmpty(), wrong);
            assertFalse(r.body().contains(wrong), "the token is not repeated: " + r.body());
            messages.add(JSON.readTree(r.body()).get("error").get("message").asText());
        }
        assertEquals(1, Set.copyOf(messages).size(), "one answer whatever the token: " + messages);
        // a token in the URL is no login at all
        assertEquals(
                405,
                send("GET", "/dashboard/login?token=" + TOKEN, null, Map.of()).statusCode());
    }

    @Test
    void theCookieOpensTheAdminApiForReads() throws Exception {
        String cookie = cookie(login(TOKEN));
        HttpResponse<String> r = send("GET", "/admin/v1/whoami", null, Map.of("Cookie", cookie));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("super_admin", JSON.readTree(r.body()).get("role").asText());
        assertEquals(401, send("GET", "/admin/v1/whoami", null, Map.of()).statusCode());
        assertEquals(
                401,
                send("GET", "/admin/v1/whoami", null, Map.of("Cookie", "br_session=forged"))
                        .statusCode());
    }

    @Test
    void aChangeWithTheCookieNeedsTheSessionsCsrfToken() throws Exception {
        HttpResponse<String> login = login(TOKEN);
        String cookie = cookie(login);
        String csrf = JSON.readTree(login.body()).get("csrf_token").asText();

        HttpResponse<String> r = send("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}", Map.of("Cookie", cookie));
        assertEquals(403, r.statusCode(), r.body());
        assertEquals(
                "csrf_failed", JSON.readTree(r.body()).get("error").get("code").asText());
        r = send("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}", Map.of("Cookie", cookie, "X-CSRF-Token", "wrong"));
        assertEquals(403, r.statusCode(), r.body());
        assertEquals(404, bearer("GET", "/admin/v1/tenants/acme", null).statusCode(), "nothing was created");

        // another session's token is no good either
        String otherCsrf = JSON.readTree(login(TOKEN).body()).get("csrf_token").asText();
        r = send("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}", Map.of("Cookie", cookie, "X-CSRF-Token", otherCsrf));
        assertEquals(403, r.statusCode(), r.body());

        r = send("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}", Map.of("Cookie", cookie, "X-CSRF-Token", csrf));
        assertEquals(201, r.statusCode(), r.body());
        // bearer callers (the CLI) have no CSRF token and need none
        assertEquals(
                201, bearer("POST", "/admin/v1/tenants", "{\"id\":\"beta\"}").statusCode());
    }

    @Test
    void aForeignOriginIsRefusedEvenWithTheCsrfToken() throws Exception {
        HttpResponse<String> login = login(TOKEN);
        String cookie = cookie(login);
        String csrf = JSON.readTree(login.body()).get("csrf_token").asText();
        HttpResponse<String> r = send(
                "POST",
                "/admin/v1/tenants",
                "{\"id\":\"acme\"}",
                Map.of("Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "http://evil.example"));
        assertEquals(403, r.statusCode(), r.body());
        assertEquals(
                "csrf_failed", JSON.readTree(r.body()).get("error").get("code").asText());
        r = send(
                "POST",
                "/admin/v1/tenants",
                "{\"id\":\"acme\"}",
                Map.of("Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "http://127.0.0.1:" + (server.port() + 1)));
        assertEquals(403, r.statusCode(), "another port is another origin: " + r.body());
        assertEquals(403, login(TOKEN, "http://evil.example").statusCode(), "no login from another site");

        r = send(
                "POST",
                "/admin/v1/tenants",
                "{\"id\":\"acme\"}",
                Map.of("Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "http://127.0.0.1:" + server.port()));
        assertEquals(201, r.statusCode(), r.body());
    }

    @Test
    void logoutEndsTheSession() throws Exception {
        HttpResponse<String> login = login(TOKEN);
        String cookie = cookie(login);
        String csrf = JSON.readTree(login.body()).get("csrf_token").asText();
        assertEquals(
                403,
                send("POST", "/dashboard/logout", null, Map.of("Cookie", cookie))
                        .statusCode(),
                "logout needs the CSRF token too");
        HttpResponse<String> r =
                send("POST", "/dashboard/logout", null, Map.of("Cookie", cookie, "X-CSRF-Token", csrf));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("set-cookie").orElseThrow().contains("Max-Age=0"));
        assertEquals(
                401,
                send("GET", "/admin/v1/whoami", null, Map.of("Cookie", cookie)).statusCode());
        assertEquals(
                401,
                send("GET", "/dashboard/session", null, Map.of("Cookie", cookie))
                        .statusCode());
    }

    @Test
    void revokingATenantAdminKeyEndsItsSessions() throws Exception {
        String key = createTenantAdminKey("acme");
        HttpResponse<String> login = login(key);
        assertEquals(200, login.statusCode(), login.body());
        String cookie = cookie(login);
        HttpResponse<String> r = send("GET", "/admin/v1/whoami", null, Map.of("Cookie", cookie));
        assertEquals("tenant_admin", JSON.readTree(r.body()).get("role").asText());
        assertEquals("acme", JSON.readTree(r.body()).get("tenant").asText());
        assertFalse(login.body().contains(key), "the key is not echoed");

        revoke(keyIdOf(key));
        assertEquals(
                401,
                send("GET", "/admin/v1/whoami", null, Map.of("Cookie", cookie)).statusCode());
        assertEquals(
                401,
                send("GET", "/dashboard/session", null, Map.of("Cookie", cookie))
                        .statusCode());
    }

    @Test
    void theSessionReadOutGivesTheCsrfTokenBackForAPageReload() throws Exception {
        HttpResponse<String> login = login(TOKEN);
        HttpResponse<String> r = send("GET", "/dashboard/session", null, Map.of("Cookie", cookie(login)));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(
                JSON.readTree(login.body()).get("csrf_token"),
                JSON.readTree(r.body()).get("csrf_token"));
        assertEquals(401, send("GET", "/dashboard/session", null, Map.of()).statusCode());
    }

    // ---- static files ----

    @Test
    void staticFilesCarryTheSecurityHeaders() throws Exception {
        for (String[] f : new String[][] {
            {"/dashboard", "text/html; charset=utf-8", "no-store"},
            {"/dashboard/", "text/html; charset=utf-8", "no-store"},
            {"/dashboard/app.js", "text/javascript; charset=utf-8", "no-cache"},
            {"/dashboard/app.css", "text/css; charset=utf-8", "no-cache"}
        }) {
            HttpResponse<String> r = send("GET", f[0], null, Map.of());
            assertEquals(200, r.statusCode(), f[0]);
            assertEquals(f[1], r.headers().firstValue("content-type").orElse(null), f[0]);
            assertEquals(f[2], r.headers().firstValue("cache-control").orElse(null), f[0]);
            assertEquals(
                    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                            + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                    r.headers().firstValue("content-security-policy").orElse(null),
                    f[0]);
            assertEquals(
                    "nosniff", r.headers().firstValue("x-content-type-options").orElse(null), f[0]);
            assertEquals(
                    "no-referrer", r.headers().firstValue("referrer-policy").orElse(null), f[0]);
            assertEquals("DENY", r.headers().firstValue("x-frame-options").orElse(null), f[0]);
        }
        assertEquals(
                404,
                send("GET", "/dashboard/../admin/v1/whoami", null, Map.of()).statusCode());
        assertEquals(405, send("POST", "/dashboard/app.js", "", Map.of()).statusCode());
    }

    @Test
    void thePageRunsNoInlineScriptOrStyleAndNeverWritesHtml() throws Exception {
        String html = send("GET", "/dashboard/", null, Map.of()).body();
        Matcher scripts =
                Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(html);
        int n = 0;
        while (scripts.find()) {
            n++;
            assertTrue(scripts.group(1).contains("src=\"/dashboard/app.js\""), scripts.group());
            assertTrue(scripts.group(2).isBlank(), "inline script: " + scripts.group());
        }
        assertEquals(1, n);
        assertFalse(html.contains("<style"), "inline style element");
        assertFalse(Pattern.compile("\\sstyle=").matcher(html).find(), "inline style attribute");
        assertFalse(Pattern.compile("\\son[a-z]+=").matcher(html).find(), "inline event handler");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(html).find(), "something from elsewhere");
        String js = send("GET", "/dashboard/app.js", null, Map.of()).body();
        for (String sink :
                List.of(".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function")) {
            // the header comment names innerHTML to forbid it; code must not use it
            assertFalse(js.replace("never innerHTML", "").contains(sink), "app.js uses " + sink);
        }
    }

    // ---- live feed ----

    @Test
    void aTenantAdminsStreamCarriesOnlyItsTenantsRequests() throws Exception {
        String key = createTenantAdminKey("acme");
        bearer("POST", "/admin/v1/tenants", "{\"id\":\"other\"}");
        gateway.completions().accept(completion("req_acme_before", "acme", "sim/alpha"));
        gateway.completions().accept(completion("req_other_before", "other", "sim/alpha"));
        try (EventStream tenant = EventStream.open(server.port(), cookie(login(key)));
                EventStream all = EventStream.open(server.port(), cookie(login(TOKEN)))) {
            gateway.completions().accept(completion("req_other_1", "other", "sim/alpha"));
            gateway.completions().accept(completion("req_acme_1", "acme", "sim/beta"));
            gateway.completions().accept(completion("req_anonymous", null, null));
            gateway.completions().accept(completion("req_acme_2", "acme", "sim/alpha"));

            List<JsonNode> mine =
                    tenant.dataUntil(d -> d.get("request_id").asText().equals("req_acme_2"));
            assertEquals(
                    List.of("req_acme_before", "req_acme_1", "req_acme_2"),
                    mine.stream().map(d -> d.get("request_id").asText()).toList(),
                    "replay, then live, in order");
            for (JsonNode d : mine) {
                assertFalse(d.has("tenant"), "a tenant admin's feed has no tenant column: " + d);
            }
            List<JsonNode> every =
                    all.dataUntil(d -> d.get("request_id").asText().equals("req_acme_2"));
            assertEquals(
                    List.of(
                            "req_acme_before",
                            "req_other_before",
                            "req_other_1",
                            "req_acme_1",
                            "req_anonymous",
                            "req_acme_2"),
                    every.stream().map(d -> d.get("request_id").asText()).toList());
            JsonNode first = every.get(3);
            assertEquals("acme", first.get("tenant").asText());
            assertEquals("sim/beta", first.get("model").asText());
            assertEquals(0.000046, first.get("cost_usd").asDouble(), 1e-12);
            assertEquals(12.5, first.get("latency_ms").asDouble(), 1e-9);
            assertEquals("valid", first.get("score_outcome").asText());
            assertFalse(every.toString().contains("secret prompt"), "prompts never reach the feed");
        }
        assertTrue(
                GatewayHarnessFree.eventually(2000, () -> server.liveFeed().subscribers() == 0),
                "closed streams unsubscribe");
    }

    @Test
    void aStreamThatIsNotReadDropsAndSaysSoWithoutSlowingRequests() throws Exception {
        try (EventStream stuck = EventStream.open(server.port(), cookie(login(TOKEN)), 4096)) {
            int n = 20_000;
            String padding = "x".repeat(500);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                gateway.completions().accept(completion("req_" + i + "_" + padding, "acme", "sim/alpha"));
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            // 10 MB of events for a client that reads nothing: the connection's buffers fill, then its queue
            assertTrue(millis < 5_000, n + " completions took " + millis + " ms with a stuck stream");
            // reading again: first what it lost, then what waited; a new completion arrives as usual
            long dropped = stuck.dropped();
            assertTrue(dropped > 0 && dropped < n, "dropped " + dropped);
            gateway.completions().accept(completion("req_after", "acme", "sim/alpha"));
            assertTrue(stuck.dataUntilPrefix("req_after"), "the stream goes on after the drops");
        }
    }

    @Test
    void heartbeatsKeepTheStreamOpenPastTheIdleTimeout() throws Exception {
        try (EventStream s = EventStream.open(server.port(), cookie(login(TOKEN)))) {
            int heartbeats = s.heartbeatsDuring(2500);
            assertTrue(heartbeats >= 3, "heartbeats every 500 ms with a 1 s idle timeout: " + heartbeats);
            gateway.completions().accept(completion("req_late", "default", "sim/alpha"));
            assertEquals(
                    "req_late",
                    s.dataUntil(d -> true).get(0).get("request_id").asText(),
                    "still open after 2.5 s of a 1 s idle timeout");
        }
    }

    @Test
    void theStreamEndsWhenTheSessionDoes() throws Exception {
        String key = createTenantAdminKey("acme");
        try (EventStream s = EventStream.open(server.port(), cookie(login(key)))) {
            revoke(keyIdOf(key));
            assertTrue(s.endsWithLogoutWithin(3000), "revoked: told, and closed at the next heartbeat");
        }
        HttpResponse<String> r = send("GET", "/dashboard/events", null, Map.of());
        assertEquals(401, r.statusCode(), "no stream without a session");
    }

    @Test
    void closingTheServerClosesOpenStreams() throws Exception {
        try (EventStream s = EventStream.open(server.port(), cookie(login(TOKEN)))) {
            server.close();
            assertTrue(s.closedWithin(3000));
        }
    }

    // ---- per-model figures ----

    @Test
    void modelStatsAreScopedToTheCallersTenant() throws Exception {
        String key = createTenantAdminKey("acme");
        bearer("POST", "/admin/v1/tenants", "{\"id\":\"other\"}");
        gateway.completions().accept(completion("r1", "acme", "sim/alpha"));
        gateway.completions().accept(completion("r2", "acme", "sim/alpha"));
        gateway.completions().accept(completion("r3", "other", "sim/alpha"));
        gateway.completions().accept(completion("r4", "other", null));

        JsonNode all =
                JSON.readTree(bearer("GET", "/admin/v1/stats/models", null).body());
        assertEquals(2, all.get("data").size(), all.toString());
        JsonNode alpha = all.get("data").get(1);
        assertEquals("sim/alpha", alpha.get("model").asText());
        assertEquals("sim-alpha-1", alpha.get("endpoint").asText());
        assertEquals(3, alpha.get("requests").asInt());
        assertEquals(0.000138, alpha.get("cost_usd").asDouble(), 1e-12);
        assertEquals(12.5, alpha.get("latency_ms").get("p50").asDouble(), 0.2);
        assertEquals(1.0, alpha.get("quality").get("mean").asDouble(), 1e-9);
        assertEquals(3, alpha.get("quality").get("outcomes").get("valid").asInt());
        JsonNode refused = all.get("data").get(0);
        assertEquals(DashboardStats.NOT_ROUTED, refused.get("model").asText());
        assertEquals(1, refused.get("errors").asInt());

        String cookie = cookie(login(key));
        JsonNode mine = JSON.readTree(send("GET", "/admin/v1/stats/models", null, Map.of("Cookie", cookie))
                .body());
        assertEquals("acme", mine.get("tenant").asText());
        assertEquals(1, mine.get("data").size(), mine.toString());
        assertEquals(2, mine.get("data").get(0).get("requests").asInt());
        assertEquals(
                404,
                send("GET", "/admin/v1/stats/models?tenant=other", null, Map.of("Cookie", cookie))
                        .statusCode(),
                "another tenant's figures do not exist for a tenant admin");
        JsonNode other = JSON.readTree(
                bearer("GET", "/admin/v1/stats/models?tenant=other", null).body());
        assertEquals(
                List.of(1, 1),
                List.of(
                        other.get("data").get(0).get("requests").asInt(),
                        other.get("data").get(1).get("requests").asInt()));
    }

    @Test
    void modelStatsTellJsonAccuracySchemaComplianceAndToolCallSuccessApart() throws Exception {
        bearer("POST", "/admin/v1/tenants", "{\"id\":\"fmt\"}");
        gateway.completions().accept(structured("f1", "json_schema", ScoreOutcome.VALID, 1));
        gateway.completions().accept(structured("f2", "json_schema", ScoreOutcome.SCHEMA_MISMATCH, 0));
        gateway.completions().accept(structured("f3", "tools", ScoreOutcome.VALID, 1));
        gateway.completions().accept(structured("f4", "plain", ScoreOutcome.PLAIN_OK, 1));
        JsonNode q = JSON.readTree(
                        bearer("GET", "/admin/v1/stats/models?tenant=fmt", null).body())
                .get("data")
                .get(0)
                .get("quality");
        assertEquals(4, q.get("scored").asInt());
        assertEquals(0.75, q.get("mean").asDouble(), 1e-9);
        assertEquals(
                "{\"json_schema\":{\"valid\":1,\"scored\":2},\"tools\":{\"valid\":1,\"scored\":1}}",
                q.get("formats").toString());
        assertEquals(1, q.get("outcomes").get("schema_mismatch").asInt());
    }

    // ---- helpers ----

    private static Completion structured(String requestId, String format, ScoreOutcome outcome, double score) {
        return Completion.builder(requestId, 0)
                .atMillis(System.currentTimeMillis())
                .key("fmt", "key_fmt")
                .operation("chat")
                .requestedModel("sim/alpha")
                .format(format)
                .strategy("direct")
                .selected("sim/alpha", "sim-east")
                .status(200, null)
                .tokens(10, 20)
                .cost(1_000, false)
                .latencyMicros(5_000)
                .score(score, outcome)
                .build();
    }

    private static Completion completion(String requestId, String tenant, String model) {
        boolean routed = model != null;
        return Completion.builder(requestId, 0)
                .atMillis(System.currentTimeMillis())
                .key(tenant, tenant == null ? null : "key_" + tenant)
                .operation("chat")
                .requestedModel(routed ? model : "no/such-model")
                .strategy(routed ? "floor" : null)
                .selected(model, routed ? model.replace('/', '-') + "-1" : null)
                .status(routed ? 200 : 404, routed ? null : "model_not_found")
                .tokens(10, 20)
                .cost(routed ? 46_000 : 0, false)
                .latencyMicros(12_500)
                .score(routed ? 1.0 : Completion.NO_SCORE, routed ? ScoreOutcome.VALID : ScoreOutcome.NOT_APPLICABLE)
                .prompt("secret prompt")
                .answer("secret answer")
                .build();
    }

    private String createTenantAdminKey(String tenant) throws Exception {
        HttpResponse<String> r = bearer("POST", "/admin/v1/tenants", "{\"id\":\"" + tenant + "\"}");
        assertTrue(r.statusCode() == 201 || r.statusCode() == 409, r.body());
        r = bearer("POST", "/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"ops\",\"kind\":\"admin\"}");
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("key").asText();
    }

    private String keyIdOf(String secret) {
        return io.brainstorm.proxy.auth.ApiKey.idOf(io.brainstorm.proxy.auth.ApiKeys.sha256(secret));
    }

    private void revoke(String keyId) throws Exception {
        assertEquals(200, bearer("DELETE", "/admin/v1/keys/" + keyId, null).statusCode());
    }

    private HttpResponse<String> login(String token) throws Exception {
        return login(token, null);
    }

    private HttpResponse<String> login(String token, String origin) throws Exception {
        return send(
                "POST",
                "/dashboard/login",
                JSON.writeValueAsString(Map.of("token", token)),
                origin == null ? Map.of() : Map.of("Origin", origin));
    }

    private static String sessionId(HttpResponse<String> login) {
        String c = login.headers().firstValue("set-cookie").orElseThrow();
        return c.substring("br_session=".length(), c.indexOf(';'));
    }

    private static String cookie(HttpResponse<String> login) {
        assertEquals(200, login.statusCode(), login.body());
        return "br_session=" + sessionId(login);
    }

    private HttpResponse<String> bearer(String method, String path, String body) throws Exception {
        return send(method, path, body, Map.of("Authorization", "Bearer " + TOKEN));
    }

    private HttpResponse<String> send(String method, String path, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        seen.add(r.headers().map() + " " + r.body());
        return r;
    }

    /** Polling with a bound, as the e2e harness does. */
    private static final class GatewayHarnessFree {
        static boolean eventually(long millis, java.util.function.BooleanSupplier c) throws InterruptedException {
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (System.nanoTime() < deadline) {
                if (c.getAsBoolean()) {
                    return true;
                }
                Thread.sleep(10);
            }
            return c.getAsBoolean();
        }
    }

    /** {@code GET /dashboard/events} on a raw socket, read line by line (chunk sizes are skipped). */
    private static final class EventStream implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;

        private EventStream(Socket socket, BufferedReader in) {
            this.socket = socket;
            this.in = in;
        }

        static EventStream open(int port, String cookie) throws Exception {
            return open(port, cookie, 0);
        }

        /** @param receiveBuffer the socket's receive buffer (0: the system's) */
        static EventStream open(int port, String cookie, int receiveBuffer) throws Exception {
            Socket s = new Socket();
            if (receiveBuffer > 0) {
                s.setReceiveBufferSize(receiveBuffer);
            }
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAccept: text/event-stream\r\n"
                            + "Cookie: " + cookie + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String status = in.readLine();
            assertNotNull(status);
            assertTrue(status.startsWith("HTTP/1.1 200"), status);
            boolean eventStream = false;
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                eventStream |= line.toLowerCase().startsWith("content-type: text/event-stream");
            }
            assertTrue(eventStream, "Content-Type: text/event-stream");
            return new EventStream(s, in);
        }

        /** The data events up to and including the first that {@code last} accepts. */
        List<JsonNode> dataUntil(Predicate<JsonNode> last) throws Exception {
            List<JsonNode> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (String line = in.readLine(); line != null && System.nanoTime() < deadline; line = in.readLine()) {
                if (line.startsWith("data: ") && !line.equals("data: {}")) {
                    JsonNode d = JSON.readTree(line.substring(6));
                    out.add(d);
                    if (last.test(d)) {
                        return out;
                    }
                }
            }
            throw new AssertionError("the stream ended, or 10 s passed, after " + out);
        }

        /** Reads (for at most 10 s) until the first {@code dropped} event; returns its count. */
        long dropped() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean droppedEvent = false;
            for (String line = in.readLine(); line != null && System.nanoTime() < deadline; line = in.readLine()) {
                if (line.equals("event: dropped")) {
                    droppedEvent = true;
                } else if (droppedEvent && line.startsWith("data: ")) {
                    return JSON.readTree(line.substring(6)).get("dropped").asLong();
                }
            }
            throw new AssertionError("no dropped event within 10 s");
        }

        /** Reads (for at most 10 s) until a data event whose request id starts with {@code prefix}. */
        boolean dataUntilPrefix(String prefix) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (String line = in.readLine(); line != null && System.nanoTime() < deadline; line = in.readLine()) {
                if (line.startsWith("data: {") && line.contains("\"request_id\":\"" + prefix)) {
                    return true;
                }
            }
            return false;
        }

        int heartbeatsDuring(long millis) throws Exception {
            int n = 0;
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (System.nanoTime() < deadline) {
                String line = in.readLine();
                if (line == null) {
                    throw new AssertionError("closed after " + n + " heartbeats");
                }
                if (line.equals(": hb")) {
                    n++;
                }
            }
            return n;
        }

        boolean endsWithLogoutWithin(long millis) throws Exception {
            socket.setSoTimeout((int) millis);
            boolean logout = false;
            long deadline = System.nanoTime() + millis * 1_000_000L;
            try {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    logout |= line.equals("event: logout");
                    if (System.nanoTime() > deadline) {
                        return false; // heartbeats go on: not ended
                    }
                }
            } catch (SocketTimeoutException e) {
                return false;
            }
            return logout;
        }

        boolean closedWithin(long millis) throws Exception {
            socket.setSoTimeout((int) millis);
            long deadline = System.nanoTime() + millis * 1_000_000L;
            try {
                while (in.readLine() != null) {
                    if (System.nanoTime() > deadline) {
                        return false; // heartbeats until closed
                    }
                }
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (java.net.SocketException e) {
                return true; // reset
            }
        }

        @Override
        public void close() throws java.io.IOException {
            socket.close();
        }
    }
}
