package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.spi.TaskClass;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A provider's 2xx answer that is not what it claims (docs/architecture.md §3, §7), end to end: a JSON body cut
 * off under a correct {@code Content-Length}, an HTML page under {@code 200}, and a stream request
 * answered with a whole JSON body. With a second endpoint for the model the request fails over to
 * it and the client pays that answer only; with one it is a 502 {@code upstream_invalid_response}
 * charged at the prompt estimate. Either way the bad answer counts as a failure of its endpoint,
 * never as a good answer.
 */
class InvalidAnswerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String TEXT = "hello from the good upstream";
    private static final String GOOD_ANSWER = """
            {"id":"chatcmpl-good","object":"chat.completion","created":1,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],\
            "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}""".formatted(TEXT);
    private static final String GOOD_STREAM = """
            data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"delta":{"content":"%s"}}]}

            data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],\
            "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}

            data: [DONE]

            """.formatted(TEXT);
    /** Something of the upstream's body that must never reach the client in an error message. */
    private static final String MARKER = "ray-id-7f3a9c";

    /** The bad answers, each with what the gateway's reason for it says. */
    enum Bad {
        CUT_JSON(
                false,
                new RawAnswerUpstream.Answer(200, "application/json", "{\"choices\":["),
                "the answer was not JSON (cut off"),
        HTML_PAGE(
                false,
                new RawAnswerUpstream.Answer(
                        200,
                        "text/html; charset=utf-8",
                        "<html><head><title>502 Bad Gateway</title></head><body>" + MARKER + "</body></html>"),
                "the answer was not JSON (content-type text/html)"),
        STREAM_AS_JSON(
                true,
                new RawAnswerUpstream.Answer(200, "application/json", GOOD_ANSWER.replace(TEXT, MARKER)),
                "the answer was not an event stream (content-type application/json)");

        final boolean stream;
        final RawAnswerUpstream.Answer answer;
        final String reason;

        Bad(boolean stream, RawAnswerUpstream.Answer answer, String reason) {
            this.stream = stream;
            this.answer = answer;
            this.reason = reason;
        }
    }

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Completion> seen = new CopyOnWriteArrayList<>();
    private RawAnswerUpstream bad;
    private RawAnswerUpstream good;
    private GatewayHarness gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (bad != null) {
            bad.close();
        }
        if (good != null) {
            good.close();
        }
    }

    /** Provider "openai" answers {@code b}'s bad answer; "backup", when {@code withBackup}, answers well. */
    private void start(Bad b, boolean withBackup) throws Exception {
        bad = new RawAnswerUpstream(b.answer);
        good = new RawAnswerUpstream(
                b.stream
                        ? new RawAnswerUpstream.Answer(200, "text/event-stream", GOOD_STREAM)
                        : new RawAnswerUpstream.Answer(200, "application/json", GOOD_ANSWER));
        String backup = withBackup ? """
                  - name: backup
                    type: openai
                    base_url: %s
                    api_key: backup-key
                    models: [%s]
                """.formatted(good.baseUrl(), MODEL) : "";
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: bad-key
                %srouting:
                  learning: {discount: 1}
                """.formatted(bad.baseUrl(), backup));
        gateway.server.gateway().completions().add(seen::add);
    }

    private HttpResponse<String> chat(boolean stream) throws Exception {
        String body = GatewayHarness.chatBody(stream ? "\"stream\":true" : "").replace("sim/alpha", MODEL);
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Completion completionOf(HttpResponse<String> r) throws InterruptedException {
        String id = r.headers().firstValue("x-br-request-id").orElseThrow();
        assertTrue(
                GatewayHarness.eventually(
                        10_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(id))),
                id);
        return seen.stream().filter(c -> c.requestId().equals(id)).findFirst().orElseThrow();
    }

    private BigDecimal spentToday() throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/usage"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new BigDecimal(JSON.readTree(r.body()).path("spent_usd").asText());
    }

    /** What the bad endpoint's learning state holds for a plain short chat: one zero, no success. */
    private void assertLearnedOneFailure() throws InterruptedException {
        TaskClass plain = TaskClass.of(false, false, 10);
        assertTrue(
                GatewayHarness.eventually(10_000, () -> posterior(plain).observations() == 1),
                "the bad answer reached the learning state: " + posterior(plain));
        Posterior p = posterior(plain);
        assertEquals(1.0, p.alpha(), "no success counted for the bad answer: " + p);
        assertEquals(2.0, p.beta(), "a zero counted for the bad answer: " + p);
    }

    private Posterior posterior(TaskClass c) {
        return gateway.server
                .gateway()
                .router()
                .state()
                .learning()
                .store()
                .belief(MODEL + "@openai", c)
                .posterior();
    }

    private static BigDecimal usd(long nano) {
        return BigDecimal.valueOf(nano, 9);
    }

    @ParameterizedTest
    @EnumSource(Bad.class)
    void aBadAnswerFailsOverToTheNextEndpoint(Bad b) throws Exception {
        start(b, true);
        HttpResponse<String> r = chat(b.stream);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("backup", r.headers().firstValue("x-br-endpoint").orElse(null), r.body());
        assertEquals("1", r.headers().firstValue("x-br-fallbacks").orElse(null));
        assertTrue(r.body().contains(TEXT), r.body());
        assertFalse(r.body().contains(MARKER), "nothing of the bad answer reached the client: " + r.body());
        assertEquals(1, bad.requests.get());
        assertEquals(1, good.requests.get());

        Completion c = completionOf(r);
        assertEquals("backup", c.endpoint());
        assertEquals(1, c.fallbacks());
        assertEquals(1.0, c.score(), c.toString());
        assertFalse(c.costEstimated(), "the client pays the answer it got, as reported: " + c);
        assertEquals(10, c.promptTokens(), c.toString());
        assertEquals(5, c.completionTokens(), c.toString());
        assertEquals(0, usd(c.costNanoUsd()).compareTo(spentToday()), "only the good answer is charged");
        assertLearnedOneFailure();
    }

    @ParameterizedTest
    @EnumSource(Bad.class)
    void aBadAnswerWithNoFallbackIsA502UpstreamInvalidResponse(Bad b) throws Exception {
        start(b, false);
        HttpResponse<String> r = chat(b.stream);

        assertEquals(502, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.toString());
        JsonNode e = JSON.readTree(r.body()).path("error");
        assertEquals("upstream_invalid_response", e.path("code").asText(), r.body());
        assertEquals("api_error", e.path("type").asText(), r.body());
        String message = e.path("message").asText();
        assertTrue(message.contains("openai: " + b.reason), message);
        assertFalse(
                message.contains(MARKER) || message.contains("<html>"), "the upstream body is not echoed: " + message);
        assertEquals("false", r.headers().firstValue("x-should-retry").orElse(null), "the gateway already tried");
        assertEquals(1, bad.requests.get());

        Completion c = completionOf(r);
        assertEquals(502, c.status());
        assertEquals("upstream_invalid_response", c.errorCode());
        assertEquals(0.0, c.score(), c.toString());
        assertEquals(ScoreOutcome.ERROR, c.scoreOutcome(), c.toString());
        // charged as a broken answer: the prompt estimate, marked estimated, never the answer's own usage
        assertTrue(c.costEstimated(), c.toString());
        assertTrue(c.promptTokens() > 0 && c.completionTokens() == 0, c.toString());
        assertTrue(c.costNanoUsd() > 0, c.toString());
        BigDecimal spent = spentToday();
        assertEquals(0, usd(c.costNanoUsd()).compareTo(spent), "charged " + spent + ", recorded " + c);
        assertEquals(
                0, new BigDecimal(r.headers().firstValue("x-br-actual-cost").orElseThrow()).compareTo(spent));
        assertEquals("true", r.headers().firstValue("x-br-cost-estimated").orElse(null));
        assertLearnedOneFailure();
    }
}
