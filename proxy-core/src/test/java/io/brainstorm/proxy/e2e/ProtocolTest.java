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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/2 cleartext (upgrade and prior knowledge) and HTTP/1.1 keep-alive and pipelining, with real clients. */
class ProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayHarness gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = new GatewayHarness();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static HttpRequest chat(String extra) {
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + gateway.apiKey)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(GatewayHarness.chatBody(extra)))
                .build();
    }

    private static String content(String body) throws Exception {
        return JSON.readTree(body)
                .path("choices")
                .path(0)
                .path("message")
                .path("content")
                .asText();
    }

    @Test
    void h2cUpgradeFromJavaHttpClient() throws Exception {
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        // a fresh client: its first request carries Upgrade: h2c, the answer comes back as HTTP/2 stream 1
        HttpResponse<String> first = client.send(chat(""), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, first.statusCode(), first.body());
        assertEquals(HttpClient.Version.HTTP_2, first.version());
        assertTrue(content(first.body()).contains("sim/alpha"), first.body());
        assertEquals("sim-east", first.headers().firstValue("x-br-endpoint").orElse(null));

        HttpResponse<java.util.stream.Stream<String>> streamed = client.send(
                chat("\"stream\":true,\"sim\":{\"chunks\":6,\"interval_ms\":10}"), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, streamed.statusCode());
        assertEquals(HttpClient.Version.HTTP_2, streamed.version());
        List<String> data = streamed.body()
                .filter(l -> l.startsWith("data: "))
                .map(l -> l.substring(6))
                .toList();
        assertEquals("[DONE]", data.get(data.size() - 1), data.toString());
        StringBuilder text = new StringBuilder();
        int contentChunks = 0;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode delta =
                    JSON.readTree(d).path("choices").path(0).path("delta").path("content");
            if (delta.isTextual() && !delta.asText().isEmpty()) {
                contentChunks++;
                text.append(delta.asText());
            }
        }
        assertEquals(6, contentChunks, data.toString());
        assertFalse(text.isEmpty());
    }

    @Test
    void h2PriorKnowledgeManyStreamsOnOneConnection() throws Exception {
        try (H2Client h2 = new H2Client(gateway.port())) {
            List<CompletableFuture<H2Client.Response>> answers = new ArrayList<>();
            String[] models = {
                "sim/alpha", "sim/beta", "sim/gamma", "sim/alpha", "sim/beta", "sim/gamma", "sim/alpha", "sim/beta"
            };
            for (String model : models) {
                answers.add(h2.post(
                        "/v1/chat/completions",
                        gateway.apiKey,
                        GatewayHarness.chatBody("").replace("sim/alpha", model),
                        Map.of()));
            }
            Set<String> requestIds = new HashSet<>();
            for (int i = 0; i < models.length; i++) {
                H2Client.Response r = answers.get(i).get(20, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.body());
                assertTrue(content(r.body()).contains(models[i]), models[i] + " answered " + r.body());
                assertEquals(models[i], r.headers().get("x-br-selected-model"));
                assertNotNull(r.headers().get("x-br-endpoint"));
                assertNotNull(r.headers().get("x-br-actual-cost"));
                requestIds.add(r.headers().get("x-br-request-id"));
            }
            assertEquals(models.length, requestIds.size(), "one request id per stream");
            assertTrue(h2.connection.isActive(), "all streams shared one connection");
        }
    }

    @Test
    void h2PriorKnowledgeStream() throws Exception {
        try (H2Client h2 = new H2Client(gateway.port())) {
            H2Client.Response r = h2.post(
                            "/v1/chat/completions",
                            gateway.apiKey,
                            GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":4}"),
                            Map.of())
                    .get(20, TimeUnit.SECONDS);
            assertEquals(200, r.status());
            assertTrue(r.headers().get("content-type").startsWith("text/event-stream"));
            assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
            assertEquals(
                    4,
                    r.body()
                            .lines()
                            .filter(l -> l.matches(".*\"content\":\"[^\"].*"))
                            .count(),
                    r.body());
        }
    }

    @Test
    void http11KeepAliveServesTwoRequestsOnOneConnection() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, GatewayHarness.chatBody("")));
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status(), first.body());
            assertTrue(content(first.body()).contains("sim/alpha"));
            raw.write(RawHttp.post(
                    "/v1/chat/completions",
                    gateway.apiKey,
                    GatewayHarness.chatBody("").replace("sim/alpha", "sim/beta")));
            RawHttp.Response second = raw.read();
            assertEquals(200, second.status(), second.body());
            assertTrue(content(second.body()).contains("sim/beta"));
            assertFalse(first.header("x-br-request-id").equals(second.header("x-br-request-id")));
        }
        HttpClient h1 =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = h1.send(chat(""), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(HttpClient.Version.HTTP_1_1, r.version());
        }
    }

    @Test
    void http11PipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            // the first answer is a slow stream, the others are instant: answers must still leave in order
            String pipelined = RawHttp.post(
                            "/v1/chat/completions",
                            gateway.apiKey,
                            GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":5,\"interval_ms\":40}"))
                    + RawHttp.get("/healthz")
                    + RawHttp.post(
                            "/v1/chat/completions",
                            gateway.apiKey,
                            GatewayHarness.chatBody("").replace("sim/alpha", "sim/gamma"))
                    + RawHttp.get("/readyz");
            raw.write(pipelined);
            RawHttp.Response stream = raw.read();
            assertEquals(200, stream.status());
            assertTrue(
                    stream.header("content-type").startsWith("text/event-stream"),
                    stream.headers().toString());
            assertTrue(stream.body().endsWith("data: [DONE]\n\n"), stream.body());
            RawHttp.Response health = raw.read();
            assertEquals(200, health.status());
            assertEquals("{\"status\":\"ok\"}", health.body());
            RawHttp.Response gamma = raw.read();
            assertEquals(200, gamma.status(), gamma.body());
            assertTrue(content(gamma.body()).contains("sim/gamma"), gamma.body());
            RawHttp.Response ready = raw.read();
            assertEquals(200, ready.status());
            assertEquals("{\"status\":\"ready\"}", ready.body());
        }
    }
}
