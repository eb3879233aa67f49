package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.testing.ManualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Circuit breakers, cool-downs and failover end to end (docs/architecture.md §7): two scripted provider accounts
 * serve {@code openai/gpt-4o-mini}; the gateway's breakers read a {@link ManualClock} that the test
 * moves instead of sleeping. Circuit: 4 attempts in the window, half failing, open 5 s doubling.
 */
class CircuitFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ManualClock clock = new ManualClock();
    private FakeUpstream primary;
    private FakeUpstream backup;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        primary = new FakeUpstream();
        backup = new FakeUpstream();
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: primary-provider-key
                    timeouts: {first_byte_ms: 300, idle_ms: 300}
                  - name: backup
                    type: openai
                    base_url: %s
                    api_key: backup-provider-key
                    models: [%s]
                routing:
                  seed: 11
                  circuit: {window_seconds: 30, min_requests: 4, failure_rate: 0.5, open_seconds: 5,
                            max_open_seconds: 60, half_open_probes: 1, max_cool_down_seconds: 120}
                """.formatted(primary.baseUrl(), backup.baseUrl(), MODEL), clock);
    }

    @AfterEach
    void stop() {
        gateway.close();
        primary.close();
        backup.close();
    }

    private HttpResponse<String> chat(String model, String extra) throws Exception {
        String body = GatewayHarness.chatBody(extra).replace("sim/alpha", model);
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chat() throws Exception {
        return chat(MODEL, "");
    }

    private static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    private static void answeredBy(HttpResponse<String> r, String endpoint, int fallbacks) {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(endpoint, header(r, "x-br-endpoint"), r.body());
        assertEquals(String.valueOf(fallbacks), header(r, "x-br-fallbacks"));
    }

    @Test
    void aFailingEndpointOpensIsProbedLaterAndGetsTrafficBackOnceItRecovers() throws Exception {
        primary.behave(FakeUpstream.Behaviour.status(500, null));
        for (int i = 0; i < 4; i++) {
            answeredBy(chat(), "backup", 1);
        }
        assertEquals(4, primary.requests.size(), "each request tried the primary first");

        // the circuit is open: requests go straight to the backup, the primary is left alone
        for (int i = 0; i < 5; i++) {
            answeredBy(chat(), "backup", 0);
        }
        assertEquals(4, primary.requests.size(), "no traffic to an endpoint whose circuit is open");

        // it recovers, but nobody knows before the open time has passed
        primary.behave(FakeUpstream.Behaviour.ok());
        clock.advance(Duration.ofSeconds(4));
        answeredBy(chat(), "backup", 0);
        assertEquals(4, primary.requests.size());

        // after 5 s one probe goes through; it succeeds and traffic returns
        clock.advance(Duration.ofSeconds(1));
        answeredBy(chat(), "openai", 0);
        for (int i = 0; i < 3; i++) {
            answeredBy(chat(), "openai", 0);
        }
        assertEquals(8, primary.requests.size());
    }

    @Test
    void aProbeIsJudgedAtItsResponseHeadNotAtTheEndOfItsAnswer() throws Exception {
        primary.behave(FakeUpstream.Behaviour.status(500, null));
        for (int i = 0; i < 4; i++) {
            answeredBy(chat(), "backup", 1);
        }
        clock.advance(Duration.ofSeconds(5));
        // the one probe (half_open_probes: 1) is a stream that sends its head and a chunk, then stalls
        primary.behave(FakeUpstream.Behaviour.stallingStream());
        HttpResponse<java.io.InputStream> probe = client.sendAsync(
                        HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                                .header("Authorization", "Bearer " + gateway.apiKey)
                                .header("Content-Type", "application/json")
                                .timeout(Duration.ofSeconds(20))
                                .POST(HttpRequest.BodyPublishers.ofString(GatewayHarness.chatBody("\"stream\":true")
                                        .replace("sim/alpha", MODEL)))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream())
                .get(20, java.util.concurrent.TimeUnit.SECONDS);
        try (java.io.InputStream body = probe.body()) {
            assertEquals(200, probe.statusCode());
            assertEquals("openai", header(probe, "x-br-endpoint"));
            primary.behave(FakeUpstream.Behaviour.ok());
            answeredBy(chat(), "openai", 0);
            body.readAllBytes();
        }
    }

    @Test
    void aFailedProbeReopensForLonger() throws Exception {
        primary.behave(FakeUpstream.Behaviour.status(503, null));
        for (int i = 0; i < 4; i++) {
            answeredBy(chat(), "backup", 1);
        }
        clock.advance(Duration.ofSeconds(5));
        answeredBy(chat(), "backup", 1);
        assertEquals(5, primary.requests.size(), "the half-open probe went to the primary and failed");

        // open again, now for 10 s: at 9 s still closed to traffic, at 10 s probed again
        clock.advance(Duration.ofSeconds(9));
        answeredBy(chat(), "backup", 0);
        assertEquals(5, primary.requests.size());
        primary.behave(FakeUpstream.Behaviour.ok());
        clock.advance(Duration.ofSeconds(1));
        answeredBy(chat(), "openai", 0);
    }

    @Test
    void a429CoolsTheEndpointDownForItsRetryAfter() throws Exception {
        primary.behave(FakeUpstream.Behaviour.rateLimited("30"));
        answeredBy(chat(), "backup", 1);
        primary.behave(FakeUpstream.Behaviour.ok());
        for (int i = 0; i < 3; i++) {
            answeredBy(chat(), "backup", 0);
        }
        assertEquals(1, primary.requests.size(), "no request during the 30 s cool-down");

        clock.advance(Duration.ofSeconds(29));
        answeredBy(chat(), "backup", 0);
        clock.advance(Duration.ofSeconds(1));
        answeredBy(chat(), "openai", 0);
        answeredBy(chat(), "openai", 0);
        assertEquals(3, primary.requests.size());
    }

    @Test
    void resetsAndFirstByteStallsFailOver() throws Exception {
        primary.behave(FakeUpstream.Behaviour.resetting());
        answeredBy(chat(), "backup", 1);
        primary.behave(FakeUpstream.Behaviour.hanging());
        long t0 = System.nanoTime();
        answeredBy(chat(), "backup", 1);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(
                ms >= 300 && ms < 5_000,
                "answered after " + ms + " ms (expected: just after the 300 ms first-byte timeout)");
    }

    @Test
    void whenEveryCircuitIsOpenTheOneThatOpensSoonestIsStillTried() throws Exception {
        primary.behave(FakeUpstream.Behaviour.status(500, null));
        for (int i = 0; i < 4; i++) {
            answeredBy(chat(), "backup", 1);
        }
        // the backup fails and opens a second after the primary: the primary half-opens first
        clock.advance(Duration.ofSeconds(1));
        backup.behave(FakeUpstream.Behaviour.status(500, null));
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = chat();
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("false", header(r, "x-should-retry"));
        }
        int backupCalls = backup.requests.size();
        primary.behave(FakeUpstream.Behaviour.ok());
        // panic mode: both open, no 503; the primary (open 4 s more, the backup 5 s) is tried
        for (int i = 0; i < 3; i++) {
            answeredBy(chat(), "openai", 0);
        }
        assertEquals(backupCalls, backup.requests.size(), "one endpoint per request in panic mode");
    }

    @Test
    void onlyWhenEveryEndpointCoolsDownUnderRetryAfterTheAnswerIs503() throws Exception {
        primary.behave(FakeUpstream.Behaviour.rateLimited("30"));
        backup.behave(FakeUpstream.Behaviour.rateLimited("20"));
        assertEquals(502, chat().statusCode(), "both providers' 429s themselves");
        int before = primary.requests.size() + backup.requests.size();
        HttpResponse<String> r = chat();
        assertEquals(503, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals("no_healthy_endpoint", e.path("code").asText(), r.body());
        assertEquals("api_error", e.path("type").asText());
        assertEquals("20", header(r, "retry-after"), "seconds until the first cool-down ends");
        assertEquals(before, primary.requests.size() + backup.requests.size(), "no provider was called");

        clock.advance(Duration.ofSeconds(20));
        backup.behave(FakeUpstream.Behaviour.ok());
        answeredBy(chat(), "backup", 0);
    }

    @Test
    void noFailoverOnceTheStreamBegan() throws Exception {
        primary.behave(FakeUpstream.Behaviour.streamThenReset());
        HttpResponse<String> r = chat(MODEL, "\"stream\":true");
        assertEquals(200, r.statusCode(), "the stream had begun");
        assertTrue(r.body().contains("\"content\":\"stall\""), r.body());
        assertTrue(r.body().contains("\"finish_reason\":\"error\""), r.body());
        assertFalse(r.body().contains("[DONE]"), "a cut stream is never presented as complete");
        assertEquals(0, backup.requests.size(), "no failover once bytes reached the client");
    }

    @Test
    void openRouterProviderOrderAndAllowFallbacks() throws Exception {
        answeredBy(chat(MODEL, "\"provider\":{\"order\":[\"backup\"]}"), "backup", 0);
        assertEquals(0, primary.requests.size());
        assertFalse(backup.lastRequest().body().contains("\"provider\""), "the gateway's own field is not forwarded");

        backup.behave(FakeUpstream.Behaviour.status(500, null));
        answeredBy(chat(MODEL, "\"provider\":{\"order\":[\"backup\"]}"), "openai", 1);

        HttpResponse<String> only = chat(MODEL, "\"provider\":{\"order\":[\"backup\"],\"allow_fallbacks\":false}");
        assertEquals(502, only.statusCode(), only.body());
        assertEquals(1, primary.requests.size(), "allow_fallbacks false: the other provider is never tried");
    }

    @Test
    void openRouterModelsListFallsBackToTheNextModel() throws Exception {
        primary.behave(FakeUpstream.Behaviour.status(500, null));
        backup.behave(FakeUpstream.Behaviour.status(500, null));
        HttpResponse<String> r = chat(MODEL, "\"models\":[\"" + MODEL + "\",\"sim/gamma\"]");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("sim/gamma", header(r, "x-br-selected-model"));
        assertEquals("2", header(r, "x-br-fallbacks"));
        assertFalse(primary.lastRequest().body().contains("\"models\""), "the gateway's own field is not forwarded");

        HttpResponse<String> typo = chat(MODEL, "\"models\":[\"sim/nosuch\"]");
        assertEquals(400, typo.statusCode(), typo.body());
        assertEquals(
                "models[0]",
                JSON.readTree(typo.body()).path("error").path("param").asText());
    }

    @Test
    void variantsRouteByTheirRule() throws Exception {
        // both accounts charge the catalog price: floor keeps configured order on the tie
        HttpResponse<String> floor = chat(MODEL + ":floor", "");
        answeredBy(floor, "openai", 0);
        assertEquals("floor", header(floor, "x-br-strategy"));
        HttpResponse<String> nitro = chat(MODEL + ":nitro", "");
        assertEquals(200, nitro.statusCode(), nitro.body());
        assertEquals("fast", header(nitro, "x-br-strategy"), "OpenRouter's :nitro is :fast");
        HttpResponse<String> online = chat(MODEL + ":online", "");
        assertEquals(404, online.statusCode());
    }
}
