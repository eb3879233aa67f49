package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.ManualClock;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Something throws inside an exchange after it started (here: the provider reports a usage whose
 * cost overflows, and working out the cost throws while the answer or the stream is settled). The client gets
 * exactly one error answer and nothing after it; the budget hold and the breaker permit come back.
 * The attempt that crashes is the endpoint's only half-open probe, so a permit that never came
 * back would keep the endpoint closed to everyone.
 */
class ExchangeCrashTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String OVERFLOWING_ANSWER = """
            {"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],\
            "usage":{"prompt_tokens":10,"completion_tokens":9000000000000000000,"total_tokens":9000000000000000010}}""";
    private final ManualClock clock = new ManualClock();
    private final String key = ApiKeys.generate();
    private FakeUpstream upstream;
    private KeepAliveUpstream streamingUpstream;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = new FakeUpstream();
        streamingUpstream = new KeepAliveUpstream();
    }

    private void gateway(String baseUrl) throws Exception {
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: provider-key
                    timeouts: {first_byte_ms: 1000, idle_ms: 1000}
                routing:
                  seed: 11
                  circuit: {window_seconds: 30, min_requests: 2, failure_rate: 0.5, open_seconds: 5,
                            max_open_seconds: 60, half_open_probes: 1, max_cool_down_seconds: 120}
                keys:
                  - {name: budgeted, sha256: %s, daily_budget_usd: 5}
                """.formatted(baseUrl, ApiKeys.sha256(key)), clock);
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
        streamingUpstream.close();
    }

    private static String chatBody() {
        return GatewayHarness.chatBody("\"max_tokens\":5").replace("sim/alpha", MODEL);
    }

    /** Nothing arrives on {@code http}'s connection for longer than the exchange's timers would take to fire. */
    private static void nothingMoreArrives(RawHttp http) throws IOException {
        http.socket.setSoTimeout(2_500);
        assertThrows(
                SocketTimeoutException.class,
                () -> http.in().read(),
                "nothing may arrive on the client connection after the answer");
        http.socket.setSoTimeout(15_000);
    }

    /** Nothing of the day's budget is held any more. */
    private void nothingReserved(RawHttp http) throws IOException {
        http.write("GET /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key + "\r\n\r\n");
        RawHttp.Response usage = http.read();
        assertEquals(200, usage.status(), usage.body());
        assertEquals(
                0,
                new BigDecimal(JSON.readTree(usage.body()).path("reserved_usd").asText()).compareTo(BigDecimal.ZERO),
                usage.body());
    }

    @Test
    void anExceptionAfterStartEndsWithOneErrorAnswerAndReleasesTheTicketAndThePermit() throws Exception {
        gateway(upstream.baseUrl());
        try (RawHttp http = new RawHttp(gateway.port())) {
            // two failures open the circuit; 5 s later one probe may go through
            upstream.behave(FakeUpstream.Behaviour.status(500, null));
            for (int i = 0; i < 2; i++) {
                http.write(RawHttp.post("/v1/chat/completions", key, chatBody()));
                assertEquals(502, http.read().status());
            }
            clock.advance(Duration.ofSeconds(5));

            // the probe's answer makes the gateway throw while settling it
            upstream.behave(FakeUpstream.Behaviour.answer(OVERFLOWING_ANSWER));
            http.write(RawHttp.post("/v1/chat/completions", key, chatBody()));
            RawHttp.Response crashed = http.read();
            assertEquals(500, crashed.status(), crashed.body());
            JsonNode error = JSON.readTree(crashed.body()).path("error");
            assertEquals("internal_error", error.path("code").asText(), crashed.body());

            // nothing more on this connection: no late 504 once the exchange's timers would have fired
            nothingMoreArrives(http);
            nothingReserved(http);

            // the probe's permit came back: the next request is let through, on the same connection
            upstream.behave(FakeUpstream.Behaviour.ok());
            http.write(RawHttp.post("/v1/chat/completions", key, chatBody()));
            RawHttp.Response next = http.read();
            assertEquals(200, next.status(), next.body());
            assertEquals("openai", next.header("x-br-endpoint"));
        } catch (IOException e) {
            throw new AssertionError("the client connection broke", e);
        }
    }

    @Test
    void anExceptionInAStreamEndsItWithOneErrorEventAndNothingAfter() throws Exception {
        gateway(streamingUpstream.baseUrl());
        streamingUpstream.idleCloseMillis = -1;
        streamingUpstream.earlyHints = false;
        streamingUpstream.streamCompletionTokens = 9_000_000_000_000_000_000L;
        try (RawHttp http = new RawHttp(gateway.port())) {
            String body =
                    GatewayHarness.chatBody("\"max_tokens\":5,\"stream\":true").replace("sim/alpha", MODEL);
            http.write(RawHttp.post("/v1/chat/completions", key, body));
            RawHttp.Response crashed = http.read();
            assertEquals(200, crashed.status(), crashed.body());
            String[] events = crashed.body().split("\n\n");
            String last = events[events.length - 1];
            assertTrue(last.startsWith("data: {"), crashed.body());
            JsonNode error = JSON.readTree(last.substring("data: ".length())).path("error");
            assertEquals("internal_error", error.path("code").asText(), crashed.body());
            assertFalse(crashed.body().contains("[DONE]"), "a cut stream is never presented as complete");
            nothingMoreArrives(http);
            nothingReserved(http);

            streamingUpstream.streamCompletionTokens = 3;
            http.write(RawHttp.post("/v1/chat/completions", key, body));
            RawHttp.Response next = http.read();
            assertEquals(200, next.status(), next.body());
            assertTrue(next.body().contains("data: [DONE]"), next.body());
        } catch (IOException e) {
            throw new AssertionError("the client connection broke", e);
        }
    }
}
