package io.brainstorm.proxy.e2e;

import static io.brainstorm.proxy.metrics.ExpositionText.sample;
import static io.brainstorm.proxy.metrics.ExpositionText.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.metrics.Promtool;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.testing.Firings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} on a running gateway's admin listener, as Prometheus scrapes it: no token,
 * text format 0.0.4, and the requests made through the gateway counted in it.
 */
class MetricsEndpointTest {
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        gateway = new GatewayHarness();
    }

    @AfterEach
    void stop() {
        gateway.close();
    }

    private HttpResponse<String> admin(String method, String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.server.adminPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = admin("GET", "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private HttpResponse<String> chat(String key, String extra) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(GatewayHarness.chatBody(extra)));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servedWithoutATokenInTheTextFormat() throws Exception {
        HttpResponse<String> r = admin("GET", "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(
                "text/plain; version=0.0.4; charset=utf-8",
                r.headers().firstValue("content-type").orElseThrow());
        assertEquals("no-store", r.headers().firstValue("cache-control").orElseThrow());
        String x = r.body();
        assertEquals("1", sample(x, "brainstorm_ready"));
        for (String family : new String[] {
            "brainstorm_jvm_memory_used_bytes",
            "brainstorm_jvm_gc_collections_total",
            "brainstorm_jvm_threads",
            "brainstorm_process_uptime_seconds",
            "brainstorm_buffer_pool_used_bytes",
            "brainstorm_netty_allocator_used_bytes",
            "brainstorm_circuit_state"
        }) {
            assertTrue(x.contains("\n# TYPE " + family + " "), family + " missing in\n" + x);
        }
        // every simulated endpoint of the sim models, closed
        for (String ep : new String[] {"sim-east", "sim-west", "sim-budget"}) {
            assertEquals(
                    "1",
                    sample(x, "brainstorm_circuit_state{model=\"sim/alpha\",endpoint=\"" + ep + "\",state=\"closed\"}"),
                    ep + " in\n" + x);
            assertEquals(
                    "0",
                    sample(x, "brainstorm_circuit_state{model=\"sim/alpha\",endpoint=\"" + ep + "\",state=\"open\"}"));
        }
    }

    @Test
    void headAnswersHeadersOnlyAndOtherMethodsAre405() throws Exception {
        HttpResponse<String> head = admin("HEAD", "/metrics");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertTrue(
                head.headers().firstValueAsLong("content-length").orElseThrow() > 1000,
                head.headers().toString());

        HttpResponse<String> post = admin("POST", "/metrics");
        assertEquals(405, post.statusCode(), post.body());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElseThrow());
        assertTrue(post.body().contains("method_not_allowed"), post.body());

        // the admin API beside it still wants its token
        assertEquals(401, admin("GET", "/admin/v1/whoami").statusCode());
        assertEquals(404, admin("GET", "/metrics/extra").statusCode());
    }

    @Test
    void requestsThroughTheGatewayAreCounted() throws Exception {
        int plain = 8;
        int streamed = 4;
        for (int i = 0; i < plain; i++) {
            HttpResponse<String> r = chat(gateway.apiKey, "");
            assertEquals(200, r.statusCode(), r.body());
        }
        for (int i = 0; i < streamed; i++) {
            HttpResponse<String> r = chat(gateway.apiKey, "\"stream\":true");
            assertEquals(200, r.statusCode(), r.body());
        }
        assertEquals(401, chat("br_live_" + "0".repeat(32), "").statusCode());
        int n = plain + streamed + 1;
        // a completion is handed over once the answer's last byte is written: just after the client has it
        assertTrue(
                GatewayHarness.eventually(2_000, () -> {
                    try {
                        return sum(scrape(), "brainstorm_requests_total") == n;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }),
                "brainstorm_requests_total never summed to " + n);

        String x = scrape();
        assertEquals(
                plain + streamed,
                sum(
                                x,
                                "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"sim-east\","
                                        + "strategy=\"direct\",status=\"200\"}")
                        + sum(
                                x,
                                "brainstorm_requests_total{model=\"sim/alpha\","
                                        + "endpoint=\"sim-west\",strategy=\"direct\",status=\"200\"}")
                        + sum(
                                x,
                                "brainstorm_requests_total{"
                                        + "model=\"sim/alpha\",endpoint=\"sim-budget\",strategy=\"direct\",status=\"200\"}"),
                x);
        // refused before its body was read: no model
        assertEquals(
                "1",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"none\",endpoint=\"none\","
                                + "strategy=\"none\",status=\"401\"}"),
                x);
        assertEquals(n, sum(x, "brainstorm_request_duration_seconds_count"));
        assertEquals(streamed, sum(x, "brainstorm_time_to_first_token_seconds_count"));
        assertTrue(sum(x, "brainstorm_request_duration_seconds_sum") > 0);
        assertTrue(sum(x, "brainstorm_cost_usd_total") > 0, x);
        assertTrue(sum(x, "brainstorm_prompt_tokens_total") > 0, x);
        assertTrue(sum(x, "brainstorm_completion_tokens_total") > 0, x);
        assertEquals(1, sum(x, "brainstorm_errors_total"));
        // the audit trail wrote every request (its writer may trail the scrape by a batch)
        assertTrue(
                GatewayHarness.eventually(2_000, () -> {
                    try {
                        return sum(scrape(), "brainstorm_audit_records_written_total") == n;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }),
                "brainstorm_audit_records_written_total never reached " + n);
        assertEquals(0, sum(x, "brainstorm_audit_records_lost_total"), x);

        // who asked is nowhere
        String keyId = gateway.registry.authenticate("Bearer " + gateway.apiKey).id();
        assertFalse(x.contains(keyId), x);
        // no tenant label (brainstorm_learning_resets_total's scope="tenant" names none)
        assertFalse(x.contains("tenant="), x);

        if (java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/promtool"))) {
            Promtool.Verdict v = Promtool.check(x);
            assertTrue(v.clean(), "promtool check metrics: exit " + v.exitCode() + "\n" + v.output() + "\n" + x);
        }
    }

    @Test
    void aChangeDetectorFiringIsCounted() throws Exception {
        String before = scrape();
        assertEquals(0, sum(before, "brainstorm_learning_resets_total"), before);

        Learning learning = gateway.server.gateway().router().state().learning();
        Firings.drop(learning, "default", "sim/alpha@sim-east", System.currentTimeMillis());
        // the state store's writer applies the answers, and reports the firings, within its round
        assertTrue(
                GatewayHarness.eventually(5_000, () -> {
                    try {
                        return sum(scrape(), "brainstorm_learning_resets_total") == 2;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }),
                "brainstorm_learning_resets_total never summed to 2:\n" + scrape());
        String x = scrape();
        assertEquals("1", sample(x, "brainstorm_learning_resets_total{scope=\"shared\",direction=\"down\"}"), x);
        assertEquals("1", sample(x, "brainstorm_learning_resets_total{scope=\"tenant\",direction=\"down\"}"), x);
        assertEquals("0", sample(x, "brainstorm_learning_resets_total{scope=\"shared\",direction=\"up\"}"), x);
        if (java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/promtool"))) {
            Promtool.Verdict v = Promtool.check(x);
            assertTrue(v.clean(), "promtool check metrics: exit " + v.exitCode() + "\n" + v.output() + "\n" + x);
        }
    }

    @Test
    void promtoolAcceptsTheServedExposition() throws Exception {
        Promtool.assumeInstalled();
        assertEquals(200, chat(gateway.apiKey, "\"stream\":true").statusCode());
        Promtool.Verdict v = Promtool.check(scrape());
        assertTrue(v.clean(), "promtool check metrics: exit " + v.exitCode() + "\n" + v.output());
    }
}
