package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.HttpResponseFor;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.SseException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.ErrorType;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.e2e.FakeAnthropic.Answer;
import io.brainstorm.proxy.e2e.FakeAnthropic.Block;
import io.brainstorm.proxy.e2e.FakeAnthropic.Recorded;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/messages} end to end with the official Anthropic Java SDK pointed at the gateway
 * (as Claude Code is with {@code ANTHROPIC_BASE_URL}): routed natively to a {@code type: anthropic}
 * account ({@link FakeAnthropic}, bytes passed through with only the model renamed) and, by the
 * model name, to the sim provider (OpenAI's format, the answer translated back).
 */
class MessagesApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeAnthropic fake;
    private GatewayHarness gateway;
    private AnthropicClient client;
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        fake = new FakeAnthropic();
        gateway = new GatewayHarness("""
                providers:
                  - name: anthropic
                    type: anthropic
                    base_url: %s
                    api_key: %s
                    anthropic_beta: [prompt-caching-2024-07-31]
                """.formatted(fake.baseUrl(), FakeAnthropic.API_KEY));
        client = AnthropicOkHttpClient.builder()
                .baseUrl(origin())
                .apiKey(gateway.apiKey)
                .maxRetries(0)
                .build();
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    private String origin() {
        return "http://127.0.0.1:" + gateway.port();
    }

    private static MessageCreateParams.Builder ask(String model, String text) {
        return MessageCreateParams.builder().model(model).maxTokens(512).addUserMessage(text);
    }

    private static String text(Message m) {
        StringBuilder sb = new StringBuilder();
        m.content().stream().flatMap(b -> b.text().stream()).forEach(t -> sb.append(t.text()));
        return sb.toString();
    }

    @Test
    void aClaudeModelIsServedNativelyWithTheClientsBytesAndAnthropicsAnswer() throws Exception {
        fake.byDefault(Answer.text("Hello", " there").usage(1_000, 400).cache(3_000, 500, 2_000));
        try (HttpResponseFor<Message> raw = client.messages()
                .withRawResponse()
                .create(ask("claude-sonnet-4-5", "Say hello")
                        .system("Be brief")
                        .stopSequences(List.of("END"))
                        .build())) {
            Message m = raw.parse();
            assertEquals("Hello there", text(m));
            assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
            assertEquals(1_000, m.usage().inputTokens());
            assertEquals(500, m.usage().cacheCreation().orElseThrow().ephemeral1hInputTokens());
            assertEquals(
                    "anthropic/claude-sonnet-4-5",
                    raw.headers().values("x-br-selected-model").get(0));
            assertEquals("anthropic", raw.headers().values("x-br-endpoint").get(0));
            // the same exchange as AnthropicProviderTest: 23,850 micro-USD
            assertEquals("0.02385", raw.headers().values("x-br-actual-cost").get(0));
        }
        Recorded r = fake.lastRequest();
        assertEquals("claude-sonnet-4-5-20250929", r.json().get("model").asText());
        assertEquals("Be brief", r.json().get("system").asText(), "the client's own body, not a translation");
        assertEquals("END", r.json().at("/stop_sequences/0").asText());
        assertEquals(FakeAnthropic.API_KEY, r.header("x-api-key"), "the account's key, not the client's");
        assertEquals(null, r.header("authorization"));
        assertEquals(
                FakeAnthropic.VERSION_2026, r.header("anthropic-version"), "the client's version goes with its body");
    }

    @Test
    void aNativeStreamPassesThroughAndItsLastDeltaCarriesTheCost() {
        fake.splitEvery(9)
                .byDefault(Answer.text("Hel", "lo, ", "wörld")
                        .pings()
                        .usage(1_000, 400)
                        .cache(3_000, 500, 2_000));
        MessageAccumulator acc = MessageAccumulator.create();
        List<RawMessageStreamEvent> events = new ArrayList<>();
        try (StreamResponse<RawMessageStreamEvent> s = client.messages()
                .createStreaming(ask("claude-sonnet-4-5", "Say hello").build())) {
            s.stream().forEach(e -> {
                events.add(e);
                acc.accumulate(e);
            });
        }
        assertEquals("Hello, wörld", text(acc.message()));
        assertTrue(events.get(events.size() - 1).isMessageStop());
        var delta = events.stream()
                .filter(RawMessageStreamEvent::isMessageDelta)
                .map(e -> e.asMessageDelta())
                .reduce((a, b) -> b)
                .orElseThrow();
        JsonValue cost = delta.usage()._additionalProperties().get("cost");
        assertEquals("0.02385", String.valueOf(cost.asNumber().orElseThrow()));
        JsonNode xbr =
                JSON.valueToTree(delta._additionalProperties().get("x_br").convert(Object.class));
        assertEquals("anthropic", xbr.get("endpoint").asText());
        assertEquals("anthropic/claude-sonnet-4-5", xbr.get("selected_model").asText());
        assertEquals(
                1, events.stream().filter(RawMessageStreamEvent::isMessageDelta).count());
    }

    @Test
    void aToolRoundTripPassesThroughNatively() {
        fake.byDefault(Answer.message(
                Block.thinking("sig-abc", "Need the weather."),
                Block.toolUse("toolu_7", "get_weather", "{\"ci", "ty\":\"Paris\"}")));
        MessageCreateParams.Builder first =
                ask("claude-sonnet-4-5", "Weather in Paris?").addTool(weatherTool());
        Message m = client.messages().create(first.build());
        ToolUseBlock call = m.content().get(1).toolUse().orElseThrow();
        assertEquals(
                "Paris",
                JSON.valueToTree(call._input().convert(Object.class))
                        .get("city")
                        .asText());
        assertEquals("sig-abc", m.content().get(0).thinking().orElseThrow().signature());

        fake.byDefault(Answer.text("Sunny."));
        Message second = client.messages()
                .create(ask("claude-sonnet-4-5", "Weather in Paris?")
                        .addTool(weatherTool())
                        .addMessage(m)
                        .addUserMessageOfContentBlockParams(
                                List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
                                        .toolUseId(call.id())
                                        .content("24 C")
                                        .build())))
                        .build());
        assertEquals("Sunny.", text(second));
        JsonNode sent = fake.lastRequest().json().get("messages");
        assertEquals("sig-abc", sent.at("/1/content/0/signature").asText(), "the signature goes back untouched");
        assertEquals("tool_result", sent.at("/2/content/0/type").asText());
    }

    @Test
    void anOpenAiFormatModelAnswersInAnthropicsShape() throws Exception {
        try (HttpResponseFor<Message> raw = client.messages()
                .withRawResponse()
                .create(ask("sim/alpha", "Say hello").system("Be brief").build())) {
            Message m = raw.parse();
            assertTrue(text(m).startsWith("Simulated answer"), text(m));
            assertTrue(m.id().startsWith("msg_"), m.id());
            assertEquals("sim/alpha", m.model().asString());
            assertTrue(m.usage().inputTokens() > 0);
            assertTrue(m.usage().outputTokens() > 0);
            assertTrue(raw.headers().values("x-br-endpoint").get(0).startsWith("sim-"));
        }
        MessageAccumulator acc = MessageAccumulator.create();
        List<RawMessageStreamEvent> events = new ArrayList<>();
        try (StreamResponse<RawMessageStreamEvent> s = client.messages()
                .createStreaming(ask("sim/alpha:floor", "Say hello").build())) {
            s.stream().forEach(e -> {
                events.add(e);
                acc.accumulate(e);
            });
        }
        assertTrue(text(acc.message()).startsWith("Simulated answer"), text(acc.message()));
        assertTrue(events.get(0).isMessageStart());
        assertTrue(events.get(events.size() - 1).isMessageStop());
        assertTrue(acc.message().usage().outputTokens() > 0, "usage from the OpenAI stream's usage chunk");
    }

    @Test
    void anOpenAiFormatModelCallsToolsInAnthropicsShape() {
        Message m = client.messages()
                .create(ask("sim/alpha", "Weather in Paris?")
                        .addTool(weatherTool())
                        .build());
        assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
        ToolUseBlock call = m.content().stream()
                .flatMap(b -> b.toolUse().stream())
                .findFirst()
                .orElseThrow();
        assertEquals("get_weather", call.name());
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> s = client.messages()
                .createStreaming(ask("sim/alpha", "Weather in Paris?")
                        .addTool(weatherTool())
                        .build())) {
            s.stream().forEach(acc::accumulate);
        }
        ToolUseBlock streamed = acc.message().content().stream()
                .flatMap(b -> b.toolUse().stream())
                .findFirst()
                .orElseThrow();
        assertEquals("get_weather", streamed.name());
        assertNotNull(streamed._input().convert(Object.class));
    }

    @Test
    void countTokensIsEstimatedWithoutAskingAProvider() {
        long n = client.messages()
                .countTokens(MessageCountTokensParams.builder()
                        .model("claude-sonnet-4-5")
                        .system("You are terse.")
                        .addUserMessage("How many tokens is this sentence, roughly?")
                        .build())
                .inputTokens();
        assertTrue(n > 5 && n < 60, "an estimate: " + n);
        assertTrue(fake.requests.isEmpty(), "no provider was asked");
    }

    @Test
    void errorsAreInAnthropicsShape() throws Exception {
        AnthropicClient wrong = AnthropicOkHttpClient.builder()
                .baseUrl(origin())
                .apiKey("br_live_" + "x".repeat(40))
                .maxRetries(0)
                .build();
        try {
            UnauthorizedException e = assertThrows(
                    UnauthorizedException.class,
                    () -> wrong.messages().create(ask("claude-sonnet-4-5", "hi").build()));
            assertEquals(ErrorType.AUTHENTICATION_ERROR, e.errorType().orElseThrow());
        } finally {
            wrong.close();
        }
        NotFoundException unknown = assertThrows(
                NotFoundException.class,
                () -> client.messages().create(ask("claude-nonexistent-9", "hi").build()));
        assertEquals(ErrorType.NOT_FOUND_ERROR, unknown.errorType().orElseThrow());
        fake.enqueue(Answer.invalidRequest("messages.0.content: prompt is too long"));
        BadRequestException tooLong = assertThrows(
                BadRequestException.class,
                () -> client.messages().create(ask("claude-sonnet-4-5", "hi").build()));
        assertTrue(tooLong.getMessage().contains("prompt is too long"), tooLong.getMessage());
        // a body the gateway cannot read never reaches a provider
        HttpResponse<String> bad =
                post("{\"model\":\"claude-sonnet-4-5\",\"messages\":[]", "x-api-key", gateway.apiKey);
        assertEquals(400, bad.statusCode());
        JsonNode err = JSON.readTree(bad.body());
        assertEquals("error", err.get("type").asText());
        assertEquals("invalid_request_error", err.at("/error/type").asText());
    }

    @Test
    void aBodyOverTheLimitIsRefusedInAnthropicsShape() throws Exception {
        String big = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(5 * 1024 * 1024) + "\"}]}";
        HttpResponse<String> r = post(big, "x-api-key", gateway.apiKey);
        assertEquals(413, r.statusCode());
        JsonNode err = JSON.readTree(r.body());
        assertEquals("request_too_large", err.at("/error/type").asText(), r.body());
        assertTrue(fake.requests.isEmpty());
    }

    @Test
    void theKeyMayComeInXApiKeyAndOnlyAllowedBetasPass() throws Exception {
        HttpResponse<String> r = post(
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "x-api-key",
                gateway.apiKey,
                "anthropic-version",
                "2023-06-01",
                "anthropic-beta",
                "prompt-caching-2024-07-31,computer-use-2025-01-24");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("message", JSON.readTree(r.body()).get("type").asText());
        assertFalse(r.headers().firstValue("x-br-request-id").isEmpty());
        Recorded sent = fake.lastRequest();
        assertEquals("prompt-caching-2024-07-31", sent.header("anthropic-beta"));
        assertEquals("2023-06-01", sent.header("anthropic-version"));
    }

    @Test
    void aNativeStreamThatBreaksEndsWithAnErrorEventAndNoMessageStop() {
        fake.byDefault(Answer.text("a", "b", "c", "d").errorAfter(4, "overloaded_error", "Overloaded"));
        List<RawMessageStreamEvent> events = new ArrayList<>();
        SseException e = assertThrows(SseException.class, () -> {
            try (StreamResponse<RawMessageStreamEvent> s = client.messages()
                    .createStreaming(ask("claude-sonnet-4-5", "hi").build())) {
                s.stream().forEach(events::add);
            }
        });
        assertTrue(e.getMessage().contains("overloaded_error") || e.getMessage().contains("broke"), e.getMessage());
        assertFalse(events.isEmpty(), "what came before the error reached the client");
        assertTrue(events.stream().noneMatch(RawMessageStreamEvent::isMessageStop));
    }

    private HttpResponse<String> post(String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin() + "/v1/messages"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Tool weatherTool() {
        return Tool.builder()
                .name("get_weather")
                .description("The weather in a city")
                .inputSchema(Tool.InputSchema.builder()
                        .properties(JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .addRequired("city")
                        .build())
                .build();
    }
}
