package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.spi.TaskClass;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scorer end to end (docs/architecture.md §8): two provider accounts serve {@code openai/gpt-4o-mini}; one
 * answers JSON-mode requests with broken JSON, the other with valid JSON. The scores reach the
 * learning state of each endpoint for the JSON task class (and not the plain one), the completion
 * records, and {@code :best}, which then sends JSON requests to the account that gets them right.
 */
class ScoringTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final TaskClass JSON_SMALL = TaskClass.of(false, true, 10);
    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Completion> seen = new CopyOnWriteArrayList<>();
    private FakeUpstream broken;
    private FakeUpstream good;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        broken = new FakeUpstream().behave(FakeUpstream.Behaviour.answer(answer("{\\\"city\\\": \\\"Par")));
        good = new FakeUpstream().behave(FakeUpstream.Behaviour.answer(answer("{\\\"city\\\": \\\"Paris\\\"}")));
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: broken-key
                  - name: backup
                    type: openai
                    base_url: %s
                    api_key: good-key
                    models: [%s]
                routing:
                  seed: 5
                  learning: {discount: 1}
                """.formatted(broken.baseUrl(), good.baseUrl(), MODEL));
        gateway.server.gateway().completions().add(seen::add);
    }

    @AfterEach
    void stop() {
        gateway.close();
        broken.close();
        good.close();
    }

    private static String answer(String content) {
        return """
                {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",\
                "choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],\
                "usage":{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16}}""".formatted(content);
    }

    private HttpResponse<String> jsonRequest(String model) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Capital of France as"
                + " JSON\"}],\"response_format\":{\"type\":\"json_object\"}}";
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Posterior posterior(String endpoint, TaskClass c) {
        return gateway.server
                .gateway()
                .router()
                .state()
                .learning()
                .store()
                .belief(MODEL + "@" + endpoint, c)
                .posterior();
    }

    private Completion completionOf(HttpResponse<String> r) throws InterruptedException {
        String id = r.headers().firstValue("x-br-request-id").orElseThrow();
        assertTrue(
                GatewayHarness.eventually(
                        2_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(id))),
                id);
        return seen.stream().filter(c -> c.requestId().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void scoresReachTheLearningStateAndBestFollowsThem() throws Exception {
        // the named model's endpoints in configured order: the first account, which breaks its JSON
        HttpResponse<String> first = jsonRequest(MODEL);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("openai", first.headers().firstValue("x-br-endpoint").orElseThrow());
        Completion c = completionOf(first);
        assertEquals(0.0, c.score());
        assertEquals(ScoreOutcome.INVALID_JSON, c.scoreOutcome());
        assertEquals("json_object", c.format());
        assertTrue(
                GatewayHarness.eventually(
                        2_000, () -> posterior("openai", JSON_SMALL).beta() > 1.5),
                "the zero reached the JSON task class: " + posterior("openai", JSON_SMALL));
        assertEquals(0, posterior("openai", TaskClass.of(false, false, 10)).observations(), "and not the plain one");

        // :best with no data ties; after the broken account's zero, it goes to the other
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = jsonRequest(MODEL + ":best");
            assertEquals(200, r.statusCode(), r.body());
            Completion rc = completionOf(r);
            assertEquals(r.headers().firstValue("x-br-endpoint").orElseThrow(), rc.endpoint());
            assertEquals(rc.endpoint().equals("backup") ? 1.0 : 0.0, rc.score(), rc.toString());
        }
        HttpResponse<String> last = jsonRequest(MODEL + ":best");
        assertEquals(
                "backup",
                last.headers().firstValue("x-br-endpoint").orElseThrow(),
                "best follows the scores: openai " + posterior("openai", JSON_SMALL) + ", backup "
                        + posterior("backup", JSON_SMALL));
        JsonNode body = JSON.readTree(last.body());
        assertEquals(
                "{\"city\": \"Paris\"}",
                body.path("choices").path(0).path("message").path("content").asText(),
                "the answer itself is relayed untouched");
    }
}
