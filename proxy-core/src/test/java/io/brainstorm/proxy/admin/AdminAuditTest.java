package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.AuditConfig;
import io.brainstorm.proxy.config.ConfigException;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.RequestAggregator;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.state.StoreEvents;
import io.brainstorm.proxy.testing.TestRouters;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /admin/v1/audit} and {@code /admin/v1/audit/head} through {@link AdminHandler} (direct
 * executor), over a trail of 250 records on 2025-01-01 and 2025-01-02 written by a real {@link AuditLog}.
 * Record {@code i}: tenant {@code acme} when i % 5 == 0, else {@code default}; key {@code key_k1} when
 * even, else {@code key_k2}; model {@code sim/beta} when i % 3 == 0, else {@code sim/alpha}; status
 * 429 when i % 7 == 0, else 200; time T0 + i s, plus a day from i = 150 on.
 */
class AdminAuditTest {
    private static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    private static final String SUPER = "Bearer " + ADMIN_TOKEN;
    /** 2025-01-01T00:00:00Z. */
    private static final long T0 = 1_735_689_600_000L;

    private static final int N = 250;

    @TempDir
    Path state;

    private Registry registry;
    private AuditLog audit;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        registry = Registry.inMemory(
                new Registry.Bootstrap(List.of(), List.of(), Set.of(), null, ADMIN_TOKEN, null, null),
                InstantSource.system());
        audit = AuditLog.open(AuditConfig.DEFAULTS, state, Map.of(), InstantSource.system());
        Gateway gateway = TestRouters.start(new Gateway(config(), registry, null), TestRouters.empty(), audit);
        channel = new EmbeddedChannel(
                new RequestAggregator(AdminServer.MAX_BODY_BYTES), new AdminHandler(gateway, Runnable::run));
        for (int i = 0; i < N; i++) {
            long at = T0 + i * 1000L + (i >= 150 ? 86_400_000L : 0);
            audit.accept(Completion.builder("req-" + i, 0)
                    .atMillis(at)
                    .key(i % 5 == 0 ? "acme" : "default", i % 2 == 0 ? "key_k1" : "key_k2")
                    .operation("chat")
                    .requestedModel(i % 3 == 0 ? "sim/beta" : "sim/alpha")
                    .strategy("floor")
                    .selected("sim/alpha", "sim-east")
                    .status(i % 7 == 0 ? 429 : 200, i % 7 == 0 ? "rate_limited" : null)
                    .tokens(1, 2)
                    .cost(3, false)
                    .latencyMicros(4)
                    .build());
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (audit.written() < N && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(N, audit.written());
    }

    private static GatewayConfig config() throws ConfigException {
        return ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of());
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        audit.close();
        registry.close();
    }

    private record Answer(int status, JsonNode json) {}

    private Answer send(HttpMethod method, String uri, String auth, String body) throws Exception {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        DefaultFullHttpRequest request =
                new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri, Unpooled.wrappedBuffer(bytes));
        request.headers().set(HttpHeaderNames.HOST, "admin");
        request.headers().set(HttpHeaderNames.AUTHORIZATION, auth);
        HttpUtil.setContentLength(request, bytes.length);
        channel.writeInbound(request);
        FullHttpResponse response = channel.readOutbound();
        assertNotNull(response);
        try {
            return new Answer(
                    response.status().code(),
                    Json.MAPPER.readTree(response.content().toString(StandardCharsets.UTF_8)));
        } finally {
            response.release();
        }
    }

    private Answer get(String uri, String auth) throws Exception {
        return send(HttpMethod.GET, uri, auth, null);
    }

    /** Every record of the query, following next_cursor; checks each page's shape. */
    private List<JsonNode> all(String query, String auth, int limit) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Answer a = get(
                    "/admin/v1/audit?" + query + "&limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor), auth);
            assertEquals(200, a.status(), a.json().toString());
            assertEquals("list", a.json().get("object").asText());
            assertTrue(a.json().get("data").size() <= limit);
            a.json().get("data").forEach(out::add);
            cursor = a.json().get("next_cursor").isNull()
                    ? null
                    : a.json().get("next_cursor").asText();
            assertTrue(++pages < 1000);
        } while (cursor != null);
        return out;
    }

    private static final String BOTH_DAYS = "from=2025-01-01&to=2025-01-03";

    @Test
    void pagingCoversEveryRecordOnceOldestFirst() throws Exception {
        List<JsonNode> records = all(BOTH_DAYS, SUPER, 37);
        assertEquals(N, records.size());
        for (int i = 0; i < N; i++) {
            assertEquals(i + 1, records.get(i).get("seq").asLong());
            assertEquals("req-" + i, records.get(i).get("request_id").asText());
        }
        assertEquals(
                100,
                get("/admin/v1/audit?" + BOTH_DAYS, SUPER).json().get("data").size(),
                "limit 100 by default");
    }

    @Test
    void filtersByKeyModelStatusAndTime() throws Exception {
        List<JsonNode> k1 = all(BOTH_DAYS + "&key_id=key_k1", SUPER, 50);
        assertEquals(125, k1.size());
        assertTrue(k1.stream().allMatch(r -> r.get("key_id").asText().equals("key_k1")));
        List<JsonNode> beta = all(BOTH_DAYS + "&model=sim/beta", SUPER, 1000);
        assertEquals(84, beta.size());
        List<JsonNode> limited = all(BOTH_DAYS + "&status=429", SUPER, 1000);
        assertEquals(36, limited.size());
        assertTrue(limited.stream()
                .allMatch(r -> r.get("status").asInt() == 429
                        && r.get("error_code").asText().equals("rate_limited")));
        // seconds 10 to 19 of the first day: records 10..19
        List<JsonNode> window = all("from=2025-01-01T00:00:10Z&to=2025-01-01T00:00:20Z", SUPER, 1000);
        assertEquals(
                List.of(10L, 19L),
                List.of(
                        window.get(0).get("seq").asLong() - 1,
                        window.get(window.size() - 1).get("seq").asLong() - 1));
        assertEquals(10, window.size());
        assertEquals(100, all("from=2025-01-02", SUPER, 1000).size(), "the second day alone (to: now)");
        List<JsonNode> combined = all(BOTH_DAYS + "&key_id=key_k1&model=sim/beta&status=200", SUPER, 7);
        long expected = java.util.stream.IntStream.range(0, N)
                .filter(i -> i % 2 == 0 && i % 3 == 0 && i % 7 != 0)
                .count();
        assertEquals(expected, combined.size());
    }

    @Test
    void aTenantAdminSeesOnlyItsTenantsRecordsAndNotTheHead() throws Exception {
        assertEquals(
                201,
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":\"acme\"}")
                        .status());
        Answer created = send(
                HttpMethod.POST, "/admin/v1/tenants/acme/keys", SUPER, "{\"name\":\"acme-admin\",\"kind\":\"admin\"}");
        assertEquals(201, created.status(), created.json().toString());
        String acme = "Bearer " + created.json().get("key").asText();
        List<JsonNode> records = all(BOTH_DAYS, acme, 20);
        assertEquals(N / 5, records.size());
        assertTrue(records.stream().allMatch(r -> r.get("tenant").asText().equals("acme")));
        assertEquals(
                0,
                all(BOTH_DAYS + "&key_id=key_k2&model=sim/alpha", acme, 20).stream()
                        .filter(r -> !r.get("tenant").asText().equals("acme"))
                        .count());
        Answer head = get("/admin/v1/audit/head", acme);
        assertEquals(403, head.status());
        assertEquals("permission_error", head.json().get("error").get("code").asText());
    }

    @Test
    void stateRecordsAreListedToTheSuperAdminOnlyAndFiltersLeaveThemOut() throws Exception {
        long at = T0 + 86_400_000L + 300_000L;
        StoreEvents events = audit.storeEvents("redis");
        events.writesWaiting(at, "settle");
        events.waitingWritten(3, 1_200, 700, at, at + 2_000);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (audit.head().seq() < N + 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(N + 2, audit.head().seq());

        List<JsonNode> all = all(BOTH_DAYS, SUPER, 1000);
        assertEquals(N + 2, all.size());
        List<JsonNode> states =
                all.stream().filter(r -> r.get("type").asText().equals("state")).toList();
        assertEquals(
                List.of("writes_waiting", "waiting_written"),
                states.stream().map(r -> r.get("event").asText()).toList());
        // a filter by key, model or status is about requests: no state record matches it
        assertEquals(125, all(BOTH_DAYS + "&key_id=key_k1", SUPER, 50).size());
        assertEquals(84, all(BOTH_DAYS + "&model=sim/beta", SUPER, 1000).size());
        assertEquals(36, all(BOTH_DAYS + "&status=429", SUPER, 1000).size());

        assertEquals(
                201,
                send(HttpMethod.POST, "/admin/v1/tenants", SUPER, "{\"id\":\"acme\"}")
                        .status());
        Answer created = send(
                HttpMethod.POST, "/admin/v1/tenants/acme/keys", SUPER, "{\"name\":\"acme-admin\",\"kind\":\"admin\"}");
        assertEquals(201, created.status(), created.json().toString());
        String acme = "Bearer " + created.json().get("key").asText();
        List<JsonNode> tenants = all(BOTH_DAYS, acme, 1000);
        assertEquals(N / 5, tenants.size());
        assertTrue(tenants.stream().allMatch(r -> r.get("type").asText().equals("request")));
    }

    @Test
    void theHeadIsTheLastLinesMac() throws Exception {
        Answer a = get("/admin/v1/audit/head", SUPER);
        assertEquals(200, a.status());
        List<String> lines = Files.readAllLines(audit.dir().resolve("audit-2025-01-02.jsonl"));
        JsonNode last = Json.MAPPER.readTree(lines.get(lines.size() - 1));
        assertEquals(last.get("mac").asText(), a.json().get("mac").asText());
        assertEquals(N, a.json().get("seq").asLong());
        assertEquals("audit-2025-01-02.jsonl", a.json().get("file").asText());
        assertEquals(N, a.json().get("written").asLong());
        assertEquals(0, a.json().get("lost").asLong());
    }

    @Test
    void badParametersAre400NamingThem() throws Exception {
        for (String[] c : new String[][] {
            {"limit=0", "limit"},
            {"limit=1001", "limit"},
            {"from=yesterday", "from"},
            {"cursor=bm9wZQ", "cursor"},
            {"status=ok", "status"},
            {"from=2025-01-02&to=2025-01-01", "from"}
        }) {
            Answer a = get("/admin/v1/audit?" + c[0], SUPER);
            assertEquals(400, a.status(), c[0]);
            assertEquals(c[1], a.json().get("error").get("param").asText(), c[0]);
        }
        assertEquals(405, send(HttpMethod.POST, "/admin/v1/audit", SUPER, "{}").status());
        assertEquals(404, get("/admin/v1/audit/tail", SUPER).status());
    }

    @Test
    void withoutAnAuditTrailBothAre404() throws Exception {
        channel.finishAndReleaseAll();
        channel = new EmbeddedChannel(
                new RequestAggregator(AdminServer.MAX_BODY_BYTES),
                new AdminHandler(
                        TestRouters.start(new Gateway(config(), registry, null), TestRouters.empty()), Runnable::run));
        assertEquals(404, get("/admin/v1/audit/head", SUPER).status());
        assertEquals(404, get("/admin/v1/audit", SUPER).status());
    }

    @Test
    void byDefaultTodaysRecords() throws Exception {
        long now = System.currentTimeMillis();
        audit.accept(Completion.builder("req-now", 0)
                .atMillis(now)
                .key("default", "key_k1")
                .operation("chat")
                .requestedModel("sim/alpha")
                .strategy("floor")
                .selected("sim/alpha", "sim-east")
                .status(200, null)
                .tokens(1, 2)
                .cost(3, false)
                .latencyMicros(4)
                .score(1, ScoreOutcome.PLAIN_OK)
                .build());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (audit.written() < N + 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        JsonNode data = get("/admin/v1/audit", SUPER).json().get("data");
        assertEquals(1, data.size(), data.toString());
        assertEquals("req-now", data.get(0).get("request_id").asText());
    }
}
