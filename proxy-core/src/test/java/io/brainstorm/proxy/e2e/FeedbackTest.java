package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/feedback}: an application's verdict moves the learning state of the endpoint that
 * answered, also after a restart of the gateway on the same state files.
 */
class FeedbackTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newHttpClient();
    private final String otherTenantKey = ApiKeys.generate();
    private final String yaml = """
            routing:
              learning: {discount: 1, feedback_weight: 2}
            keys:
              - {name: other, sha256: %s, tenant: acme}
            """.formatted(ApiKeys.sha256(otherTenantKey));
    private GatewayHarness gateway;

    @TempDir
    Path stateDir;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private HttpResponse<String> post(String path, String key, String body) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                        .header("Authorization", "Bearer " + key)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String verdict(String requestId, double score) {
        return "{\"request_id\":\"" + requestId + "\",\"score\":" + score + "}";
    }

    private Posterior east() {
        return east("default");
    }

    /** What routing sees for {@code tenant}'s plain requests of sim-east. */
    private Posterior east(String tenant) {
        return gateway.server
                .gateway()
                .router()
                .state()
                .learning()
                .posterior(tenant, "sim/alpha@sim-east", TaskClass.of(false, false, 10));
    }

    @Test
    void aVerdictCountsForTheEndpointThatAnsweredAndOnlyItsTenantMayGiveIt() throws Exception {
        gateway = new GatewayHarness(yaml);
        HttpResponse<String> answer = post("/chat/completions", gateway.apiKey, GatewayHarness.chatBody(""));
        assertEquals(200, answer.statusCode(), answer.body());
        String requestId = answer.headers().firstValue("x-br-request-id").orElseThrow();
        Posterior before = east();
        assertEquals(2.0, before.alpha(), 1e-9, "the answer itself counted once as good: " + before);
        Posterior acmeBefore = east("acme");
        assertEquals(2.0, acmeBefore.alpha(), 1e-9, "acme starts from the shared belief: " + acmeBefore);

        HttpResponse<String> other =
                post("/feedback", otherTenantKey, "{\"request_id\":\"" + requestId + "\",\"score\":0}");
        assertEquals(404, other.statusCode(), "another tenant cannot score it, nor learn it exists: " + other.body());
        assertEquals(before, east());

        HttpResponse<String> r =
                post("/feedback", gateway.apiKey, "{\"request_id\":\"" + requestId + "\",\"score\":0}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = JSON.readTree(r.body());
        assertEquals("sim/alpha@sim-east", o.path("endpoint").asText());
        assertEquals("plain/0-1k", o.path("task_class").asText());
        Posterior after = east();
        assertEquals(before.alpha(), after.alpha(), 1e-9);
        assertEquals(before.beta() + 2, after.beta(), 1e-9, "a bad verdict counts feedback_weight (2) answers");
        assertEquals(acmeBefore, east("acme"), "another tenant's feedback leaves acme's routing as it was");

        assertEquals(
                404,
                post("/feedback", gateway.apiKey, "{\"request_id\":\"req_nosuch\",\"score\":1}")
                        .statusCode());
        HttpResponse<String> bad =
                post("/feedback", gateway.apiKey, "{\"request_id\":\"" + requestId + "\",\"score\":1.5}");
        assertEquals(400, bad.statusCode());
        assertEquals(
                "score", JSON.readTree(bad.body()).path("error").path("param").asText());
        assertTrue(post("/feedback", "br_live_00000000000000000000000000000000", "{}")
                        .statusCode()
                == 401);
    }

    @Test
    void anAnswerFromBeforeARestartOnTheSameStateFilesCanBeScored() throws Exception {
        gateway = new GatewayHarness(yaml, InstantSource.system(), stateDir);
        HttpResponse<String> answer = post("/chat/completions", gateway.apiKey, GatewayHarness.chatBody(""));
        assertEquals(200, answer.statusCode(), answer.body());
        String requestId = answer.headers().firstValue("x-br-request-id").orElseThrow();
        gateway.close();

        gateway = new GatewayHarness(yaml, InstantSource.system(), stateDir);
        Posterior before = east();
        assertEquals(2.0, before.alpha(), 1e-9, "the answer itself counted once as good, and was kept: " + before);
        assertEquals(
                404,
                post("/feedback", otherTenantKey, verdict(requestId, 0)).statusCode(),
                "another tenant still cannot score it");

        HttpResponse<String> r = post("/feedback", gateway.apiKey, verdict(requestId, 0));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(
                "sim/alpha@sim-east", JSON.readTree(r.body()).path("endpoint").asText());
        Posterior after = east();
        assertEquals(before.alpha(), after.alpha(), 1e-9);
        assertEquals(before.beta() + 2, after.beta(), 1e-9, "a bad verdict counts feedback_weight (2) answers");
    }
}
