package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The same exchange with an OpenAI-format provider, whole and streamed, charges the same nano-USD,
 * cached prompt tokens and reasoning tokens included (AnthropicProviderTest and MessagesApiTest hold
 * the Anthropic side to the same rule, cache writes included).
 */
class CostGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USAGE = "{\"prompt_tokens\":1000,\"completion_tokens\":400,\"total_tokens\":1400,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":200},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":100}}";
    private static final String WHOLE = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"Hello\"},\"finish_reason\":\"stop\"}],\"usage\":" + USAGE + "}";
    private static final String STREAMED = chunk("{\"role\":\"assistant\",\"content\":\"Hel\"}", "null")
            + chunk("{\"content\":\"lo\"}", "null")
            + chunk("{}", "\"stop\"")
            + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[],\"usage\":" + USAGE + "}\n\n"
            + "data: [DONE]\n\n";

    /**
     * gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million: 800 × 0.15 + 200 ×
     * 0.075 + 400 × 0.60 (the 100 reasoning tokens are part of the 400 output tokens) = 120 + 15 +
     * 240 = 375 micro-USD.
     */
    private static final String COST = "0.000375";

    private RawAnswerUpstream upstream;
    private GatewayHarness gateway;
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static String chunk(String delta, String finish) {
        return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
                + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}\n\n";
    }

    @BeforeEach
    void start() throws Exception {
        upstream = new RawAnswerUpstream(new RawAnswerUpstream.Answer(200, "application/json", WHOLE));
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    base_url: %s
                    api_key: sk-test
                """.formatted(upstream.baseUrl()));
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

    @Test
    void wholeAndStreamedChargeTheSameWithCachedAndReasoningTokens() throws Exception {
        HttpResponse<String> whole = post(false);
        assertEquals(200, whole.statusCode(), whole.body());
        assertEquals(COST, whole.headers().firstValue("x-br-actual-cost").orElseThrow());

        upstream.answer(new RawAnswerUpstream.Answer(200, "text/event-stream", STREAMED));
        HttpResponse<String> streamed = post(true);
        assertEquals(200, streamed.statusCode(), streamed.body());
        String usageChunk = null;
        for (String line : streamed.body().split("\n")) {
            if (line.startsWith("data: {") && line.contains("\"x_br\"")) {
                usageChunk = line;
            }
        }
        // the amounts as written: plain decimals, never an exponent
        JsonNode chunk = JSON.readTree(usageChunk.substring(6));
        assertEquals(0, new BigDecimal(COST).compareTo(chunk.at("/usage/cost").decimalValue()));
        assertTrue(usageChunk.contains("\"cost\":" + COST), usageChunk);
        assertTrue(usageChunk.contains("\"actual_cost\":" + COST), usageChunk);
    }

    private HttpResponse<String> post(boolean stream) throws Exception {
        String body = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
        return http.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("authorization", "Bearer " + gateway.apiKey)
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
