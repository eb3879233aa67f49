package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
 * Panic mode end to end (docs/architecture.md §7, as Envoy's): a model with one endpoint that fails 3 requests
 * in 5. Its circuit opens, and stays open (the clock does not move); with nowhere else to go the
 * gateway keeps trying it rather than refusing everyone, so the 2 in 5 it answers still reach
 * their clients.
 */
class PanicModeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final int REQUESTS = 100;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final ManualClock clock = new ManualClock();
    private ScriptedUpstream upstream;
    private GatewayHarness gw;

    @BeforeEach
    void start() throws Exception {
        upstream = new ScriptedUpstream(
                (auth, n) -> n % 5 < 3 ? new ScriptedUpstream.Reply(500, null) : ScriptedUpstream.Reply.OK);
        gw = new GatewayHarness("""
                providers:
                  - name: openai
                    base_url: %s
                    api_key: sk-openai-shared-key
                """.formatted(upstream.baseUrl()), clock);
    }

    @AfterEach
    void stop() {
        gw.close();
        upstream.close();
    }

    @Test
    void whenTheOnlyEndpointIsOpenItIsStillTriedAndItsSuccessesGetThrough() throws Exception {
        int ok = 0;
        int okSinceOpen = 0;
        int sinceOpen = 0;
        boolean open = false;
        for (int i = 0; i < REQUESTS; i++) {
            HttpResponse<String> r = chat();
            String code = r.statusCode() == 200
                    ? ""
                    : JSON.readTree(r.body()).path("error").path("code").asText();
            assertNotEquals("no_healthy_endpoint", code, "request " + i + ": " + r.body());
            assertTrue(
                    r.statusCode() == 200 || r.statusCode() == 502,
                    "request " + i + ": " + r.statusCode() + " " + r.body());
            if (r.statusCode() == 200) {
                ok++;
            }
            if (open) {
                sinceOpen++;
                okSinceOpen += r.statusCode() == 200 ? 1 : 0;
            } else {
                open = circuit().path("state").asText().equals("open");
            }
        }
        assertEquals(REQUESTS, upstream.authorizations.size(), "every request reached the provider");
        assertTrue(open, "the circuit opened (60 % failures over the 10-request minimum): " + circuit());
        assertTrue(ok >= REQUESTS * 2 / 5 - 1, ok + " answered of " + REQUESTS + " (the provider answers 2 in 5)");
        assertTrue(
                sinceOpen >= REQUESTS / 2 && okSinceOpen >= sinceOpen * 2 / 5 - 1,
                okSinceOpen + " answered of the " + sinceOpen + " requests after the circuit opened");
    }

    private JsonNode circuit() throws Exception {
        return gw.routingEntry(http, MODEL + "@openai")
                .map(e -> e.path("circuit"))
                .orElse(JSON.createObjectNode());
    }

    private HttpResponse<String> chat() throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/chat/completions"))
                        .timeout(Duration.ofSeconds(20))
                        .header("Authorization", "Bearer " + gw.apiKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":50,"
                                + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
