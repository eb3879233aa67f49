package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scorer through the gateway, as a client sees it: streamed tool calls whose arguments arrive
 * in many deltas, cut into small TCP writes by the upstream, are scored from the side copy while
 * the relayed bytes stay as the upstream wrote them; a stream larger than
 * {@code scoring.max_capture_bytes} is not scored; a schema with a remote {@code $ref} is not
 * scored and not fetched.
 */
class StructuredScoringTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String WEATHER = """
            [{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
              "properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14}},
              "required":["city","days"],"additionalProperties":false}}}]""";

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Completion> seen = new CopyOnWriteArrayList<>();
    /** What the scripted upstream sends next: SSE events, or a whole JSON body. */
    private volatile List<String> script = List.of();

    private volatile String wholeBody;
    private HttpServer upstream;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        upstream.createContext("/v1/chat/completions", exchange -> {
            exchange.getRequestBody().readAllBytes();
            String whole = wholeBody;
            if (whole != null) {
                byte[] b = whole.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, b.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(b);
                }
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                byte[] all = String.join("", script).getBytes(StandardCharsets.UTF_8);
                // small writes, flushed one by one: events reach the gateway cut anywhere
                for (int i = 0; i < all.length; i += 23) {
                    out.write(all, i, Math.min(23, all.length - i));
                    out.flush();
                }
            }
        });
        upstream.start();
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: http://127.0.0.1:%d/v1
                    api_key: test-key
                scoring:
                  max_capture_bytes: 2048
                """.formatted(upstream.getAddress().getPort()));
        gateway.server.gateway().completions().add(seen::add);
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.stop(0);
    }

    private static String chunk(String delta, String finish) {
        return "data: {\"id\":\"chatcmpl-S\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4o-mini\","
                + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":"
                + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
    }

    /** A streamed call of get_weather whose arguments come in deltas of {@code piece} characters. */
    private static List<String> toolStream(String arguments, int piece) {
        List<String> events = new ArrayList<>();
        events.add(chunk(
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
                        + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}],\"refusal\":null}",
                null));
        for (int i = 0; i < arguments.length(); i += piece) {
            ObjectNode delta = JSON.createObjectNode();
            delta.putArray("tool_calls")
                    .addObject()
                    .put("index", 0)
                    .putObject("function")
                    .put("arguments", arguments.substring(i, Math.min(arguments.length(), i + piece)));
            events.add(chunk(delta.toString(), null));
        }
        events.add(chunk("{}", "tool_calls"));
        events.add("data: {\"id\":\"chatcmpl-S\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":12,\"total_tokens\":42}}\n\n");
        events.add("data: [DONE]\n\n");
        return events;
    }

    private HttpResponse<String> chat(String extra) throws Exception {
        String body = "{\"model\":\"" + MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]," + extra + "}";
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Completion completionOf(HttpResponse<String> r) throws InterruptedException {
        String id = r.headers().firstValue("x-br-request-id").orElseThrow();
        assertTrue(
                GatewayHarness.eventually(
                        5_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(id))),
                id);
        return seen.stream().filter(c -> c.requestId().equals(id)).findFirst().orElseThrow();
    }

    /** The score the stream's last {@code x_br} carries, or null when it carries none. */
    private static Double streamedScore(String body) throws IOException {
        Double score = null;
        for (String line : body.split("\n")) {
            if (line.startsWith("data: {") && line.contains("\"x_br\"")) {
                var xbr = JSON.readTree(line.substring(6)).path("x_br");
                score = xbr.has("score") ? xbr.get("score").asDouble() : null;
            }
        }
        return score;
    }

    @Test
    void streamedToolCallSplitIntoDeltasIsScoredAndRelayedUntouched() throws Exception {
        script = toolStream("{\"city\": \"Paris\", \"days\": 3}", 4);
        HttpResponse<String> r =
                chat("\"stream\":true,\"stream_options\":{\"include_usage\":true},\"tools\":" + WEATHER);
        assertEquals(200, r.statusCode(), r.body());
        for (String event : script.subList(0, script.size() - 2)) {
            assertTrue(r.body().contains(event), "relayed byte for byte: " + event);
        }
        Completion c = completionOf(r);
        assertEquals(ScoreOutcome.VALID, c.scoreOutcome(), c.toString());
        assertEquals(1.0, c.score());
        assertEquals("tools", c.format());
        assertEquals(1.0, streamedScore(r.body()), "the verdict rides in the stream's last x_br");
    }

    @Test
    void streamedToolCallWithBadArgumentsScoresZero() throws Exception {
        script = toolStream("{\"city\": \"Paris\", \"days\": 30}", 3);
        HttpResponse<String> r =
                chat("\"stream\":true,\"stream_options\":{\"include_usage\":true},\"tools\":" + WEATHER);
        assertEquals(200, r.statusCode(), r.body());
        Completion c = completionOf(r);
        assertEquals(ScoreOutcome.BAD_ARGUMENTS, c.scoreOutcome(), c.toString());
        assertEquals(0.0, c.score());
        assertEquals(0.0, streamedScore(r.body()));
    }

    @Test
    void streamLargerThanTheCaptureLimitIsNotScored() throws Exception {
        script = toolStream("{\"city\": \"" + "Paris ".repeat(500) + "\", \"days\": 3}", 40);
        HttpResponse<String> r =
                chat("\"stream\":true,\"stream_options\":{\"include_usage\":true},\"tools\":" + WEATHER);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("Paris Paris"), "the answer itself is relayed whole");
        Completion c = completionOf(r);
        assertEquals(ScoreOutcome.OVER_LIMIT, c.scoreOutcome(), c.toString());
        assertEquals(Completion.NO_SCORE, c.score());
        assertNull(streamedScore(r.body()));
    }

    @Test
    void schemaWithARemoteReferenceIsNotScoredAndNotFetched() throws Exception {
        try (ServerSocket trap = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            trap.setSoTimeout(300);
            wholeBody =
                    "{\"id\":\"chatcmpl-W\",\"object\":\"chat.completion\",\"created\":1764000000,\"model\":\"gpt-4o-mini\","
                            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
                            + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":6,\"total_tokens\":26}}";
            HttpResponse<String> r =
                    chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"c\","
                            + "\"schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"$ref\":\"http://127.0.0.1:"
                            + trap.getLocalPort()
                            + "/city.json\"}}}}}");
            assertEquals(200, r.statusCode(), r.body());
            Completion c = completionOf(r);
            assertEquals(ScoreOutcome.SCHEMA_UNUSABLE, c.scoreOutcome(), c.toString());
            assertEquals(Completion.NO_SCORE, c.score());
            try {
                trap.accept().close();
                throw new AssertionError("the gateway fetched the client's $ref");
            } catch (SocketTimeoutException expected) {
                // nobody connected
            }
            // and a usable schema on the same path is scored
            HttpResponse<String> ok = chat(
                    "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"c\","
                            + "\"schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}");
            assertEquals(ScoreOutcome.VALID, completionOf(ok).scoreOutcome());
        }
    }
}
