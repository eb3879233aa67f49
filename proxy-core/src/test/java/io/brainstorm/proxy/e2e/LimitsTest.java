package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Request limits and malformed requests: OpenAI-shaped errors, no hangs, and the gateway keeps serving. */
class LimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 1_048_576;
    private static GatewayHarness gateway;
    private static HttpClient h1;

    @BeforeAll
    static void start() throws Exception {
        gateway = new GatewayHarness();
        h1 = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** After every error: a fresh chat completion still succeeds. */
    @AfterEach
    void gatewayStillServes() throws Exception {
        HttpResponse<String> r = send("POST", "/v1/chat/completions", GatewayHarness.chatBody(""));
        assertEquals(200, r.statusCode(), r.body());
        // the answer may reach us a moment before the event loop counts the request as ended
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.server.gateway().inFlight() == 0),
                "requests left in flight: " + gateway.server.gateway().inFlight());
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .header("Authorization", "Bearer " + gateway.apiKey)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(10));
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return h1.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(String body, int status, int expectedStatus) throws Exception {
        assertEquals(expectedStatus, status, body);
        JsonNode e = JSON.readTree(body).path("error");
        assertTrue(e.isObject(), body);
        assertTrue(e.path("message").isTextual() && !e.path("message").asText().isEmpty(), body);
        assertTrue(e.has("type") && e.has("code") && e.has("param"), body);
        return e;
    }

    private static String oversizedBody() {
        return GatewayHarness.chatBody("").replace("Say hello", "x".repeat(MAX_BODY + 10));
    }

    @Test
    void bodyOverTheLimitIs413OverHttp1() throws Exception {
        // headers first, as a real client does; the limit is known from content-length before the body is read
        String body = oversizedBody();
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + gateway.apiKey
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n");
            RawHttp.Response r = raw.read();
            JsonNode e = error(r.body(), r.status(), 413);
            assertEquals("request_too_large", e.path("code").asText());
            assertEquals("invalid_request_error", e.path("type").asText());
            assertTrue(raw.closedByPeer(), "the unread body makes the connection unusable, so it is closed");
        }
    }

    /**
     * A real client writes the whole body before it reads. The gateway answers 413 and closes at
     * once, with the body unread, so the kernel resets the connection and the client often sees
     * "broken pipe" instead of the 413 (an SDK then retries). Needs a lingering close: answer, keep
     * reading and discarding the body for a bounded time or size, then close.
     */
    @Test
    void bodyOverTheLimitSentInFullByARealClientIs413() throws Exception {
        String body = oversizedBody();
        HttpResponse<String> r;
        try {
            r = send("POST", "/v1/chat/completions", body);
        } catch (java.io.IOException e) {
            throw new AssertionError("the client saw no 413, only " + e, e);
        }
        assertEquals(
                "request_too_large",
                error(r.body(), r.statusCode(), 413).path("code").asText());
    }

    @Test
    void chunkedBodyOverTheLimitIs413() throws Exception {
        byte[] chunk = "x".repeat(64 * 1024).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + gateway.apiKey
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            try {
                // nothing is written after the chunk that crosses the limit, so no reset can overtake the 413
                for (int i = 0; i < 17; i++) {
                    raw.write((i == 0 ? "" : "\r\n") + Integer.toHexString(chunk.length) + "\r\n");
                    raw.write(chunk);
                }
            } catch (java.io.IOException closedEarly) {
                // the gateway may answer and close before the client has written everything
            }
            RawHttp.Response r = raw.read();
            assertEquals(
                    "request_too_large",
                    error(r.body(), r.status(), 413).path("code").asText());
        }
    }

    @Test
    void bodyOverTheLimitIs413OverHttp2() throws Exception {
        try (H2Client h2 = new H2Client(gateway.port())) {
            H2Client.Response r = h2.post("/v1/chat/completions", gateway.apiKey, oversizedBody(), Map.of())
                    .get(10, TimeUnit.SECONDS);
            assertEquals(
                    "request_too_large",
                    error(r.body(), r.status(), 413).path("code").asText());
            // the connection survives: only the stream was refused
            H2Client.Response ok = h2.post(
                            "/v1/chat/completions", gateway.apiKey, GatewayHarness.chatBody(""), Map.of())
                    .get(10, TimeUnit.SECONDS);
            assertEquals(200, ok.status(), ok.body());
        }
    }

    @Test
    void headersOverTheLimitAre431NotAHang() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n");
            RawHttp.Response r = raw.read();
            JsonNode e = error(r.body(), r.status(), 431);
            assertEquals("invalid_request_error", e.path("type").asText());
        }
    }

    @Test
    void badJsonIs400() throws Exception {
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"sim/alpha\",\"messages\":[");
        assertEquals(
                "invalid_request",
                error(r.body(), r.statusCode(), 400).path("code").asText());
        HttpResponse<String> notAnObject = send("POST", "/v1/chat/completions", "[1,2]");
        assertEquals(
                "invalid_request",
                error(notAnObject.body(), notAnObject.statusCode(), 400)
                        .path("code")
                        .asText());
    }

    @Test
    void missingMessagesIs400NamingTheParam() throws Exception {
        HttpResponse<String> r = send("POST", "/v1/chat/completions", "{\"model\":\"sim/alpha\"}");
        JsonNode e = error(r.body(), r.statusCode(), 400);
        assertEquals("invalid_request", e.path("code").asText());
        assertEquals("messages", e.path("param").asText());
        assertTrue(r.body().contains("\"param\":\"messages\""), r.body());
    }

    @Test
    void unsupportedEndpointsAre404InOpenAiShape() throws Exception {
        HttpResponse<String> responses = send("GET", "/v1/responses", null);
        JsonNode e = error(responses.body(), responses.statusCode(), 404);
        assertEquals("invalid_request_error", e.path("type").asText());
        assertTrue(
                e.path("message").asText().contains("/v1/chat/completions"),
                "names what is supported: " + responses.body());
        HttpResponse<String> speech =
                send("POST", "/v1/audio/speech", "{\"model\":\"tts-1\",\"input\":\"hi\",\"voice\":\"alloy\"}");
        error(speech.body(), speech.statusCode(), 404);
    }

    @Test
    void healthAndReadiness() throws Exception {
        HttpResponse<String> health = send("GET", "/healthz", null);
        assertEquals(200, health.statusCode());
        assertEquals("ok", JSON.readTree(health.body()).path("status").asText());
        HttpResponse<String> ready = send("GET", "/readyz", null);
        assertEquals(200, ready.statusCode());
        assertEquals("ready", JSON.readTree(ready.body()).path("status").asText());
    }

    @Test
    void errorsOnAKeptAliveConnectionLeaveItUsable() throws Exception {
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, "{oops"));
            assertEquals(400, raw.read().status());
            raw.write(RawHttp.get("/v1/responses"));
            assertEquals(404, raw.read().status());
            raw.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, GatewayHarness.chatBody("")));
            RawHttp.Response ok = raw.read();
            assertEquals(200, ok.status(), ok.body());
        }
    }
}
