package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.ManualClock;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Budgets and rate limits end to end (docs/architecture.md §6) against a scripted upstream whose every answer
 * costs the same: 10 prompt and 5 completion tokens of {@code openai/gpt-4o-mini} ($0.15 / $0.60 per
 * million) = $0.0000045.
 */
class BudgetTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final BigDecimal ANSWER_USD = new BigDecimal("0.0000045");
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final ManualClock clock = new ManualClock();
    private final String limitedKey = ApiKeys.generate();
    private FakeUpstream upstream;
    private GatewayHarness gateway;

    private void start(String limits, boolean stateFiles) throws Exception {
        upstream = new FakeUpstream();
        gateway = new GatewayHarness(
                """
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: provider-key
                keys:
                  - {name: limited, sha256: %s, %s}
                """.formatted(upstream.baseUrl(), ApiKeys.sha256(limitedKey), limits), clock, stateFiles);
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private HttpRequest chat(String key) {
        String body = GatewayHarness.chatBody("\"max_tokens\":5").replace("sim/alpha", MODEL);
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private JsonNode usage(String key) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/usage"))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void fiveHundredConcurrentRequestsNeverOverspendAndTheRestAreRefusedBeforeAnyProvider() throws Exception {
        BigDecimal budget = ANSWER_USD.multiply(BigDecimal.valueOf(20));
        start("daily_budget_usd: " + budget.toPlainString(), true);
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            calls.add(client.sendAsync(chat(limitedKey), HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int refused = 0;
        BigDecimal told = BigDecimal.ZERO;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.join();
            if (r.statusCode() == 200) {
                ok++;
                told = told.add(new BigDecimal(
                        r.headers().firstValue("x-br-actual-cost").orElseThrow()));
                assertTrue(
                        r.headers().firstValue("x-br-budget-remaining").isPresent(), "every answer says what is left");
            } else if (r.statusCode() == 429) {
                // refused while requests in flight held the rest (BudgetBusyTest has the details)
                JsonNode e = JSON.readTree(r.body()).path("error");
                assertEquals("budget_busy", e.path("code").asText(), r.body());
                assertTrue(r.headers().firstValue("retry-after").isPresent(), "a busy refusal says when to retry");
                refused++;
            } else {
                assertEquals(402, r.statusCode(), r.body());
                JsonNode e = JSON.readTree(r.body()).path("error");
                assertEquals("budget_exceeded", e.path("code").asText());
                assertEquals("insufficient_quota", e.path("type").asText());
                assertTrue(e.path("message").asText().contains("resets at"), r.body());
                refused++;
            }
        }
        assertEquals(500, ok + refused);
        assertTrue(told.compareTo(budget) <= 0, "told " + told + " > budget " + budget);
        assertEquals(ok, upstream.requests.size(), "a refused request never reaches the provider");
        assertTrue(ok >= 12, "the budget covers 20 answers; " + ok + " got through");
        JsonNode u = usage(limitedKey);
        assertEquals(0, new BigDecimal(u.path("spent_usd").asText()).compareTo(told), u.toString());
        assertEquals(0, new BigDecimal(u.path("reserved_usd").asText()).signum(), "nothing left reserved: " + u);
        assertEquals(ok, u.path("requests").asInt());
        assertEquals(0, new BigDecimal(u.path("daily_budget_usd").asText()).compareTo(budget));

        // the next UTC day has a fresh budget
        clock.advance(Duration.ofDays(1));
        HttpResponse<String> tomorrow = client.send(chat(limitedKey), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, tomorrow.statusCode(), tomorrow.body());
    }

    @Test
    void aKeyWithoutABudgetIsStillCountedInUsage() throws Exception {
        start("rpm: 0", false);
        for (int i = 0; i < 3; i++) {
            assertEquals(
                    200,
                    client.send(chat(gateway.apiKey), HttpResponse.BodyHandlers.ofString())
                            .statusCode());
        }
        JsonNode u = usage(gateway.apiKey);
        assertEquals(3, u.path("requests").asInt());
        assertEquals(
                0, new BigDecimal(u.path("spent_usd").asText()).compareTo(ANSWER_USD.multiply(BigDecimal.valueOf(3))));
        assertTrue(u.path("daily_budget_usd").isNull());
    }

    @Test
    void requestsPerMinuteAre429WithRetryAfterUntilTheMinuteTurns() throws Exception {
        start("rpm: 3", false);
        for (int i = 0; i < 3; i++) {
            assertEquals(
                    200,
                    client.send(chat(limitedKey), HttpResponse.BodyHandlers.ofString())
                            .statusCode());
        }
        HttpResponse<String> r = client.send(chat(limitedKey), HttpResponse.BodyHandlers.ofString());
        assertEquals(429, r.statusCode(), r.body());
        assertEquals(
                "rate_limited",
                JSON.readTree(r.body()).path("error").path("code").asText());
        long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "retry-after " + retryAfter);
        assertEquals(3, upstream.requests.size(), "the limited request never reached the provider");
        assertEquals(
                200,
                client.send(chat(gateway.apiKey), HttpResponse.BodyHandlers.ofString())
                        .statusCode(),
                "another key is not limited");
        clock.advance(Duration.ofSeconds(retryAfter));
        assertEquals(
                200,
                client.send(chat(limitedKey), HttpResponse.BodyHandlers.ofString())
                        .statusCode());
    }
}
