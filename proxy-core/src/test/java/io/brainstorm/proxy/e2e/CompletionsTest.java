package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every API call ends in exactly one {@link Completion} (what the audit trail, metrics and the live
 * feed get), whether it was answered, streamed, refused before routing, or left by its client; and
 * its fields agree with what the client saw.
 */
class CompletionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Completion> seen = new CopyOnWriteArrayList<>();
    private GatewayHarness gateway;
    private FakeUpstream upstream;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(String yaml) throws Exception {
        gateway = new GatewayHarness(yaml);
        gateway.server.gateway().completions().add(seen::add);
    }

    private HttpResponse<String> post(String key, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The one completion of {@code requestId}, waiting up to 2 s for it; fails on none or two. */
    private Completion completionOf(String requestId) throws InterruptedException {
        assertTrue(
                GatewayHarness.eventually(
                        2_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(requestId))),
                "no completion for " + requestId + " in " + seen);
        Thread.sleep(50);
        List<Completion> mine =
                seen.stream().filter(c -> c.requestId().equals(requestId)).toList();
        assertEquals(1, mine.size(), "one completion per request: " + mine);
        return mine.get(0);
    }

    private String keyId() {
        return gateway.registry.authenticate("Bearer " + gateway.apiKey).id();
    }

    @Test
    void anAnswerIsRecordedWithWhoAskedWhatAnsweredAndWhatItCost() throws Exception {
        start("");
        HttpResponse<String> r = post(gateway.apiKey, GatewayHarness.chatBody(""), "X-Title", "checkout-service");
        assertEquals(200, r.statusCode(), r.body());
        Completion c = completionOf(r.headers().firstValue("x-br-request-id").orElseThrow());
        assertEquals("default", c.tenant());
        assertEquals(keyId(), c.keyId());
        assertEquals("checkout-service", c.app());
        assertEquals("chat", c.operation());
        assertEquals("sim/alpha", c.requestedModel());
        assertEquals(r.headers().firstValue("x-br-selected-model").orElseThrow(), c.selectedModel());
        assertEquals(r.headers().firstValue("x-br-endpoint").orElseThrow(), c.endpoint());
        assertEquals(r.headers().firstValue("x-br-strategy").orElseThrow(), c.strategy());
        assertEquals(200, c.status());
        assertNull(c.errorCode());
        assertTrue(c.promptTokens() > 0 && c.completionTokens() > 0, c.toString());
        assertEquals(
                r.headers().firstValue("x-br-actual-cost").orElseThrow(),
                io.brainstorm.proxy.settle.Cost.formatUsd(c.costNanoUsd()));
        assertTrue(c.latencyMicros() > 0, c.toString());
        assertEquals(-1, c.ttftMicros(), "not a stream");
        assertEquals(1.0, c.score());
        assertEquals(ScoreOutcome.PLAIN_OK, c.scoreOutcome());
        assertEquals("plain", c.format());
        assertNull(c.prompt(), "content is not recorded unless the audit asks for it");
        assertNull(c.answer());
        assertTrue(!c.toString().contains(gateway.apiKey), "never the secret");
    }

    @Test
    void callsRefusedBeforeAnyProviderAreRecordedWithTheErrorTheClientGot() throws Exception {
        start("");
        HttpResponse<String> unknownKey = post("br_live_" + "x".repeat(43), GatewayHarness.chatBody(""));
        assertEquals(401, unknownKey.statusCode());
        Completion c =
                completionOf(unknownKey.headers().firstValue("x-br-request-id").orElseThrow());
        assertEquals(401, c.status());
        assertEquals("invalid_api_key", c.errorCode());
        assertNull(c.keyId());
        assertNull(c.tenant());
        assertNull(c.requestedModel(), "the body is not read for an unknown key");

        HttpResponse<String> unknownModel = post(
                gateway.apiKey,
                "{\"model\":\"<script>x</script>\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(404, unknownModel.statusCode());
        c = completionOf(unknownModel.headers().firstValue("x-br-request-id").orElseThrow());
        assertEquals("model_not_found", c.errorCode());
        assertEquals("<script>x</script>", c.requestedModel());
        assertEquals(keyId(), c.keyId());
        assertNull(c.selectedModel());
        assertEquals(Completion.NO_SCORE, c.score());

        HttpResponse<String> badJson = post(gateway.apiKey, "{\"model\":");
        assertEquals(400, badJson.statusCode());
        c = completionOf(badJson.headers().firstValue("x-br-request-id").orElseThrow());
        assertEquals("invalid_request", c.errorCode());
    }

    @Test
    void aStreamIsRecordedWithItsTimeToFirstTokenAndItsScoreRidesInTheFinalXbr() throws Exception {
        start("");
        HttpResponse<String> r = post(
                gateway.apiKey, GatewayHarness.chatBody("\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode xbr = null;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: {") && line.contains("\"x_br\"")) {
                xbr = JSON.readTree(line.substring(6)).get("x_br");
            }
        }
        assertNotNull(xbr, r.body());
        Completion c = completionOf(r.headers().firstValue("x-br-request-id").orElseThrow());
        assertTrue(c.stream());
        assertTrue(c.ttftMicros() > 0 && c.ttftMicros() <= c.latencyMicros(), c.toString());
        assertEquals(c.score(), xbr.path("score").asDouble(-1), xbr.toString());
        assertEquals(ScoreOutcome.PLAIN_OK, c.scoreOutcome(), "a plain stream with content is scored 1");
        assertEquals(
                new java.math.BigDecimal(io.brainstorm.proxy.settle.Cost.formatUsd(c.costNanoUsd())).doubleValue(),
                xbr.path("actual_cost").asDouble(),
                1e-12);
    }

    @Test
    void aStructuredStreamEndsOnlyOnceItIsScored() throws Exception {
        start("");
        HttpResponse<String> r = post(
                gateway.apiKey,
                GatewayHarness.chatBody("\"stream\":true,\"response_format\":{\"type\":\"json_object\"}"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
        JsonNode xbr = null;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(": x-br ")) {
                xbr = JSON.readTree(line.substring(": x-br ".length()));
            }
        }
        assertNotNull(xbr, r.body());
        Completion c = completionOf(r.headers().firstValue("x-br-request-id").orElseThrow());
        assertTrue(c.scored(), c.toString());
        assertEquals("json_object", c.format());
        assertEquals(c.score(), xbr.path("score").asDouble(-1), xbr.toString());
    }

    @Test
    void contentIsRecordedOnlyWhenTheAuditAsksForIt() throws Exception {
        start("audit: {record_content: true}\n");
        HttpResponse<String> r = post(gateway.apiKey, GatewayHarness.chatBody(""));
        Completion c = completionOf(r.headers().firstValue("x-br-request-id").orElseThrow());
        assertTrue(c.prompt().contains("Say hello"), c.prompt());
        String content = JSON.readTree(r.body())
                .path("choices")
                .path(0)
                .path("message")
                .path("content")
                .asText();
        assertEquals(content, c.answer());

        HttpResponse<String> s = post(gateway.apiKey, GatewayHarness.chatBody("\"stream\":true"));
        Completion sc = completionOf(s.headers().firstValue("x-br-request-id").orElseThrow());
        StringBuilder streamed = new StringBuilder();
        for (String line : s.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode d = JSON.readTree(line.substring(6))
                        .path("choices")
                        .path(0)
                        .path("delta")
                        .path("content");
                if (d.isTextual()) {
                    streamed.append(d.asText());
                }
            }
        }
        assertEquals(streamed.toString(), sc.answer());
    }

    @Test
    void anUpstreamErrorAndAClientThatLeftAreRecorded() throws Exception {
        upstream = new FakeUpstream();
        start("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: provider-key
                    timeouts: {first_byte_ms: 5000}
                """.formatted(upstream.baseUrl()));
        String body = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        upstream.behave(
                FakeUpstream.Behaviour.status(
                        400,
                        "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}"));
        HttpResponse<String> r = post(gateway.apiKey, body);
        assertEquals(400, r.statusCode());
        Completion c = completionOf(r.headers().firstValue("x-br-request-id").orElseThrow());
        assertEquals("context_length_exceeded", c.errorCode());
        assertEquals("openai/gpt-4o-mini", c.selectedModel(), "the provider gave this answer");
        assertEquals(Completion.NO_SCORE, c.score());

        upstream.behave(FakeUpstream.Behaviour.hanging());
        var pending = client.sendAsync(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(GatewayHarness.eventually(2_000, () -> upstream.requests.size() == 2));
        pending.cancel(true);
        assertTrue(
                GatewayHarness.eventually(3_000, () -> seen.stream().anyMatch(x -> x.status() == 499)),
                "the client's leaving is recorded: " + seen);
        Completion left =
                seen.stream().filter(x -> x.status() == 499).findFirst().orElseThrow();
        assertEquals("client_closed", left.errorCode());
        assertTrue(left.costNanoUsd() > 0, "the provider had the prompt: its estimate is charged " + left);
    }
}
