package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failover and TLS against scripted fake upstreams: two provider accounts serving
 * {@code openai/gpt-4o-mini}, tried in configured order.
 */
class UpstreamFailureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private FakeUpstream first;
    private FakeUpstream second;
    private GatewayHarness gateway;

    @BeforeEach
    void upstreams() throws Exception {
        first = new FakeUpstream();
        second = new FakeUpstream();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        first.close();
        second.close();
    }

    /** Providers "openai" (first) and "backup" (second), both serving {@value #MODEL}. */
    private GatewayHarness gateway(String firstBaseUrl, String firstExtra, String secondBaseUrl) throws Exception {
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: first-provider-key
                %s
                  - name: backup
                    type: openai
                    base_url: %s
                    api_key: second-provider-key
                    models: [%s]
                """.formatted(firstBaseUrl, firstExtra, secondBaseUrl, MODEL));
        return gateway;
    }

    private HttpResponse<String> chat() throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                GatewayHarness.chatBody("").replace("sim/alpha", MODEL)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void answeredBy(HttpResponse<String> r, String endpoint, int fallbacks) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(
                "hello from the fake upstream",
                JSON.readTree(r.body())
                        .path("choices")
                        .path(0)
                        .path("message")
                        .path("content")
                        .asText(),
                r.body());
        assertEquals(endpoint, r.headers().firstValue("x-br-endpoint").orElse(null));
        assertEquals(
                String.valueOf(fallbacks),
                r.headers().firstValue("x-br-fallbacks").orElse(null));
        assertEquals(MODEL, r.headers().firstValue("x-br-selected-model").orElse(null));
    }

    @Test
    void connectRefusedFailsOverToTheNextEndpoint() throws Exception {
        gateway("http://127.0.0.1:" + closedPort() + "/v1", "", second.baseUrl());
        answeredBy(chat(), "backup", 1);
        assertEquals(1, second.requests.size());
    }

    @Test
    void healthyFirstEndpointAnswersWithoutFallback() throws Exception {
        gateway(first.baseUrl(), "", second.baseUrl());
        answeredBy(chat(), "openai", 0);
        assertEquals(0, second.requests.size());
    }

    @Test
    void aStreamThatStallsEndsWithAnErrorEventAfterTheIdleTimeout() throws Exception {
        first.behave(FakeUpstream.Behaviour.stallingStream());
        gateway(first.baseUrl(), "    timeouts: {idle_ms: 300}", second.baseUrl());
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                GatewayHarness.chatBody("\"stream\":true").replace("sim/alpha", MODEL)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, r.statusCode(), "the stream had begun");
        assertTrue(r.body().contains("\"content\":\"stall\""), r.body());
        assertTrue(
                r.body().contains("\"finish_reason\":\"error\"") && r.body().contains("no data for 300 ms"), r.body());
        assertFalse(r.body().contains("[DONE]"), "a cut stream is never presented as complete");
        assertTrue(ms >= 300 && ms < 5_000, "ended after " + ms + " ms (expected: just after the 300 ms idle timeout)");
        assertEquals(0, second.requests.size(), "no failover once bytes reached the client");
    }

    @Test
    void theTotalTimeoutEndsAHungRequestWithA504() throws Exception {
        first.behave(FakeUpstream.Behaviour.hanging());
        second.behave(FakeUpstream.Behaviour.hanging());
        gateway(first.baseUrl(), "    timeouts: {total_ms: 500, first_byte_ms: 10000}", second.baseUrl());
        long start = System.nanoTime();
        HttpResponse<String> r = chat();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, r.statusCode(), r.body());
        assertEquals(
                "upstream_timeout",
                JSON.readTree(r.body()).path("error").path("code").asText(),
                r.body());
        assertTrue(ms >= 500 && ms < 5_000, "answered after " + ms + " ms (expected: just after the 500 ms total)");
    }

    @Test
    void firstByteTimeoutFailsOver() throws Exception {
        first.behave(FakeUpstream.Behaviour.hanging());
        gateway(first.baseUrl(), "    timeouts: {first_byte_ms: 300}", second.baseUrl());
        long start = System.nanoTime();
        HttpResponse<String> r = chat();
        long ms = (System.nanoTime() - start) / 1_000_000;
        answeredBy(r, "backup", 1);
        assertEquals(1, first.requests.size(), "the hanging endpoint got the request first");
        assertTrue(ms >= 300 && ms < 5_000, "answered after " + ms + " ms (expected: just after the 300 ms timeout)");
        // the hung upstream connection is not kept for reuse
        assertTrue(
                GatewayHarness.eventually(2_000, () -> first.openConnections.get() == 0),
                "connections still open to the hung upstream: " + first.openConnections.get());
    }

    @Test
    void upstream429And500FailOverAndAllFailingIsA502() throws Exception {
        first.behave(FakeUpstream.Behaviour.status(500, null));
        gateway(first.baseUrl(), "", second.baseUrl());
        answeredBy(chat(), "backup", 1);

        second.behave(FakeUpstream.Behaviour.resetting());
        HttpResponse<String> r = chat();
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("false", r.headers().firstValue("x-should-retry").orElse(null));
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals("upstream_error", e.path("code").asText());
        assertEquals("api_error", e.path("type").asText());
        String message = e.path("message").asText();
        assertTrue(message.contains("openai") && message.contains("backup"), message);
        assertTrue(message.contains("500"), message);
        assertFalse(message.contains("first-provider-key") || message.contains("second-provider-key"), message);

        // a 429 fails over too (and cools the endpoint down: CircuitFailoverTest)
        first.behave(FakeUpstream.Behaviour.status(429, null));
        second.behave(FakeUpstream.Behaviour.ok());
        answeredBy(chat(), "backup", 1);
    }

    @Test
    void upstream400IsPassedThroughWithoutFailover() throws Exception {
        String error =
                "{\"error\":{\"message\":\"Invalid 'messages[0].role': 'robot'.\",\"type\":\"invalid_request_error\","
                        + "\"param\":\"messages[0].role\",\"code\":\"invalid_value\"}}";
        first.behave(FakeUpstream.Behaviour.status(400, error));
        gateway(first.baseUrl(), "", second.baseUrl());
        HttpResponse<String> r = chat();
        assertEquals(400, r.statusCode());
        assertEquals(error, r.body());
        assertEquals("openai", r.headers().firstValue("x-br-endpoint").orElse(null));
        assertEquals(0, second.requests.size(), "a client error is not the provider's fault: no failover");
    }

    @Test
    void tlsUpstreamWithPrivateCa() throws Exception {
        X509Bundle ca = new CertificateBuilder()
                .subject("CN=brainstorm test CA")
                .setIsCertificateAuthority(true)
                .ecp256()
                .buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder()
                .subject("CN=fake upstream")
                .addSanIpAddress("127.0.0.1")
                .ecp256()
                .buildIssuedBy(ca);
        X509Bundle stranger = new CertificateBuilder()
                .subject("CN=someone else's CA")
                .setIsCertificateAuthority(true)
                .ecp256()
                .buildSelfSigned();
        X509Bundle strangerLeaf = new CertificateBuilder()
                .subject("CN=impostor")
                .addSanIpAddress("127.0.0.1")
                .ecp256()
                .buildIssuedBy(stranger);
        Path caFile = Files.createTempFile("br-test-ca", ".pem");
        Files.writeString(caFile, ca.getCertificatePEM());
        SslContext good = SslContextBuilder.forServer(leaf.toKeyManagerFactory())
                .sslProvider(SslProvider.JDK)
                .build();
        SslContext bad = SslContextBuilder.forServer(strangerLeaf.toKeyManagerFactory())
                .sslProvider(SslProvider.JDK)
                .build();
        try (FakeUpstream tls = new FakeUpstream(good);
                FakeUpstream impostor = new FakeUpstream(bad)) {
            assertTrue(tls.baseUrl().startsWith("https://127.0.0.1:"));
            gateway = new GatewayHarness("""
                    providers:
                      - name: openai
                        type: openai
                        base_url: %s
                        api_key: sk-tls-provider-key
                        ca_file: %s
                      - name: groq
                        type: openai
                        base_url: %s
                        api_key: gsk-impostor-key
                        ca_file: %s
                    """.formatted(tls.baseUrl(), caFile, impostor.baseUrl(), caFile));
            answeredBy(chat(), "openai", 0);
            FakeUpstream.Recorded seen = tls.lastRequest();
            assertNotNull(seen);
            assertEquals("Bearer sk-tls-provider-key", seen.headers().get("authorization"));
            assertEquals("gpt-4o-mini", JSON.readTree(seen.body()).path("model").asText(), seen.body());
            assertEquals("/v1/chat/completions", seen.path());
            assertFalse(seen.toString().contains("br_live_"), "the gateway key never goes upstream: " + seen);

            // groq/llama… is served only by the impostor, whose certificate the CA did not sign
            String groqModel = firstModelOf("groq/");
            HttpResponse<String> r = client.send(
                    HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                            .header("Authorization", "Bearer " + gateway.apiKey)
                            .header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(20))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    GatewayHarness.chatBody("").replace("sim/alpha", groqModel)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, r.statusCode(), r.body());
            JsonNode e = JSON.readTree(r.body()).path("error");
            assertEquals("upstream_error", e.path("code").asText());
            assertTrue(e.path("message").asText().contains("groq"), r.body());
            assertTrue(impostor.requests.isEmpty(), "no request may reach an untrusted upstream");
        } finally {
            Files.deleteIfExists(caFile);
        }
    }

    private String firstModelOf(String prefix) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/models"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        for (JsonNode m : JSON.readTree(r.body()).path("data")) {
            if (m.path("id").asText().startsWith(prefix)) {
                return m.path("id").asText();
            }
        }
        throw new AssertionError("no " + prefix + " model listed: " + r.body());
    }
}
