package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import io.brainstorm.proxy.e2e.FakeAnthropic.Answer;
import io.brainstorm.proxy.e2e.FakeAnthropic.Block;
import io.brainstorm.proxy.e2e.FakeAnthropic.Recorded;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code type: anthropic} end to end: the official OpenAI Java SDK against the gateway, whose two
 * Anthropic accounts (the second serving the same model, for failover) point at a fake Anthropic
 * that speaks the Messages API's exact wire format and refuses what Anthropic refuses (unknown
 * fields, a {@code role: system} turn, a missing {@code anthropic-version}).
 */
class AnthropicProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "anthropic/claude-sonnet-4-5";

    private FakeAnthropic fake;
    private GatewayHarness gateway;
    private OpenAIClient client;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeAnthropic();
        gateway = new GatewayHarness("""
                providers:
                  - name: anthropic
                    type: anthropic
                    base_url: %1$s
                    api_key: %2$s
                  - name: anthropic-backup
                    type: anthropic
                    base_url: %1$s/v1
                    api_key: %2$s
                    models: [%3$s]
                """.formatted(fake.baseUrl(), FakeAnthropic.API_KEY, MODEL));
        client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl())
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

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addSystemMessage("You are terse.")
                .addUserMessage("Say hello");
    }

    @Test
    void aChatIsTranslatedBothWaysAndCostsItsCachedAndWrittenTokens() throws Exception {
        fake.byDefault(Answer.text("Hello", " there").usage(1_000, 400).cache(3_000, 500, 2_000));
        try (HttpResponseFor<ChatCompletion> raw = client.chat()
                .completions()
                .withRawResponse()
                .create(chat(MODEL)
                        .maxCompletionTokens(300)
                        .stop("END")
                        .user("u-42")
                        .build())) {
            ChatCompletion c = raw.parse();
            assertEquals("Hello there", c.choices().get(0).message().content().orElseThrow());
            assertEquals(
                    ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
            assertEquals(MODEL, c.model());
            // prompt = input + cache writes + cache reads; cached = reads
            assertEquals(6_500, c.usage().orElseThrow().promptTokens());
            assertEquals(
                    2_000,
                    c.usage()
                            .orElseThrow()
                            .promptTokensDetails()
                            .orElseThrow()
                            .cachedTokens()
                            .orElseThrow());
            assertEquals(400, c.usage().orElseThrow().completionTokens());
            assertEquals(MODEL, raw.headers().values("x-br-selected-model").get(0));
            assertEquals("anthropic", raw.headers().values("x-br-endpoint").get(0));
            assertEquals(
                    expectedCost(), raw.headers().values("x-br-actual-cost").get(0));
        }
        Recorded r = fake.lastRequest();
        assertEquals("/v1/messages", r.path());
        assertEquals(FakeAnthropic.API_KEY, r.header("x-api-key"));
        assertNull(r.header("authorization"), "the key goes in x-api-key only");
        assertEquals("2023-06-01", r.header("anthropic-version"));
        JsonNode body = r.json();
        assertEquals("claude-sonnet-4-5-20250929", body.get("model").asText());
        assertEquals("You are terse.", body.at("/system/0/text").asText());
        assertEquals("user", body.at("/messages/0/role").asText());
        assertEquals(300, body.get("max_tokens").asInt());
        assertEquals("END", body.at("/stop_sequences/0").asText());
        assertEquals("u-42", body.at("/metadata/user_id").asText());
    }

    /**
     * claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 5-minute write, $6 one-hour write, $15
     * output per million: 1,000 × 3 + 2,000 × 0.3 + 3,000 × 3.75 + 500 × 6 + 400 × 15 = 3,000 + 600
     * + 11,250 + 3,000 + 6,000 = 23,850 micro-USD.
     */
    private static String expectedCost() {
        return "0.02385";
    }

    @Test
    void aStreamIsTranslatedEventByEventAndCostsWhatTheWholeAnswerCosts() {
        fake.splitEvery(7);
        fake.byDefault(
                Answer.text("Hel", "lo ", "wörld").pings().usage(1_000, 400).cache(3_000, 500, 2_000));
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw = client.chat()
                .completions()
                .withRawResponse()
                .createStreaming(chat(MODEL)
                        .streamOptions(ChatCompletionStreamOptions.builder()
                                .includeUsage(true)
                                .build())
                        .build())) {
            try (StreamResponse<ChatCompletionChunk> s = raw.parse()) {
                s.stream().forEach(chunks::add);
            }
        }
        for (ChatCompletionChunk c : chunks) {
            if (!c.choices().isEmpty()) {
                c.choices().get(0).delta().content().ifPresent(text::append);
            }
        }
        assertEquals("Hello wörld", text.toString());
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertEquals(6_500, last.usage().orElseThrow().promptTokens());
        assertEquals(400, last.usage().orElseThrow().completionTokens());
        JsonValue cost = last.usage().orElseThrow()._additionalProperties().get("cost");
        assertEquals(expectedCost(), String.valueOf(cost.asNumber().orElseThrow()));
        JsonValue xbr = last._additionalProperties().get("x_br");
        assertEquals(
                "anthropic",
                ((Map<?, ?>) xbr.asObject().orElseThrow())
                        .get("endpoint")
                        .toString()
                        .replace("\"", ""));
        assertTrue(fake.lastRequest().json().get("stream").asBoolean());
    }

    @Test
    void streamedToolCallsAreReassembledWithTheirOwnIndexes() {
        fake.splitEvery(5);
        fake.byDefault(Answer.message(
                Block.thinking("sig-1", "Two ", "cities."),
                Block.toolUse("toolu_01", "get_weather", "{\"ci", "ty\": \"Par", "is\"}"),
                Block.toolUse("toolu_02", "get_weather", "{\"city\"", ": \"Oslo\"}")));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model(MODEL)
                .addUserMessage("Weather in Paris and Oslo?")
                .addTool(weatherTool())
                .build();
        Map<Long, StringBuilder> args = new TreeMap<>();
        Map<Long, String> names = new TreeMap<>();
        StringBuilder reasoning = new StringBuilder();
        String[] finish = new String[1];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(c -> {
                if (c.choices().isEmpty()) {
                    return;
                }
                ChatCompletionChunk.Choice choice = c.choices().get(0);
                choice.finishReason().ifPresent(f -> finish[0] = f.asString());
                JsonValue r = choice.delta()._additionalProperties().get("reasoning_content");
                if (r != null) {
                    reasoning.append(r.asString().orElse(""));
                }
                choice.delta()
                        .toolCalls()
                        .ifPresent(calls -> calls.forEach(t -> {
                            t.function().flatMap(f -> f.name()).ifPresent(n -> names.put(t.index(), n));
                            t.function()
                                    .flatMap(f -> f.arguments())
                                    .ifPresent(a -> args.computeIfAbsent(t.index(), k -> new StringBuilder())
                                            .append(a));
                        }));
            });
        }
        assertEquals("Two cities.", reasoning.toString());
        assertEquals(Map.of(0L, "get_weather", 1L, "get_weather"), names);
        assertEquals("{\"city\": \"Paris\"}", args.get(0L).toString());
        assertEquals("{\"city\": \"Oslo\"}", args.get(1L).toString());
        assertEquals("tool_calls", finish[0]);
        JsonNode sent = fake.lastRequest().json();
        assertEquals("get_weather", sent.at("/tools/0/name").asText());
        assertEquals("object", sent.at("/tools/0/input_schema/type").asText());
    }

    @Test
    void aToolRoundTripGoesBackAsToolUseAndToolResultBlocks() {
        fake.byDefault(Answer.toolUse("toolu_9", "get_weather", "{\"city\":\"Paris\"}"));
        ChatCompletion first = client.chat()
                .completions()
                .create(ChatCompletionCreateParams.builder()
                        .model(MODEL)
                        .addUserMessage("Weather in Paris?")
                        .addTool(weatherTool())
                        .build());
        ChatCompletionMessageToolCall call =
                first.choices().get(0).message().toolCalls().orElseThrow().get(0);
        assertEquals("toolu_9", call.asFunction().id());
        assertEquals("{\"city\":\"Paris\"}", call.asFunction().function().arguments());
        fake.byDefault(Answer.text("It is sunny."));
        ChatCompletion second = client.chat()
                .completions()
                .create(ChatCompletionCreateParams.builder()
                        .model(MODEL)
                        .addUserMessage("Weather in Paris?")
                        .addTool(weatherTool())
                        .addMessage(first.choices().get(0).message())
                        .addMessage(com.openai.models.chat.completions.ChatCompletionToolMessageParam.builder()
                                .toolCallId("toolu_9")
                                .content("sunny, 24 C")
                                .build())
                        .build());
        assertEquals("It is sunny.", second.choices().get(0).message().content().orElseThrow());
        JsonNode sent = fake.lastRequest().json();
        assertEquals("tool_use", sent.at("/messages/1/content/0/type").asText());
        assertEquals("Paris", sent.at("/messages/1/content/0/input/city").asText());
        assertEquals("tool_result", sent.at("/messages/2/content/0/type").asText());
        assertEquals("toolu_9", sent.at("/messages/2/content/0/tool_use_id").asText());
    }

    @Test
    void jsonSchemaOutputComesBackAsContent() throws Exception {
        fake.byDefault(Answer.toolUse("toolu_j", "person", "{\"name\":", "\"Ada\",\"age\":36}"));
        ChatCompletion c = client.chat()
                .completions()
                .create(ChatCompletionCreateParams.builder()
                        .model(MODEL)
                        .addUserMessage("A person as JSON")
                        .responseFormat(ResponseFormatJsonSchema.builder()
                                .jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                                        .name("person")
                                        .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                                                .putAdditionalProperty("type", JsonValue.from("object"))
                                                .putAdditionalProperty(
                                                        "properties",
                                                        JsonValue.from(Map.of(
                                                                "name", Map.of("type", "string"),
                                                                "age", Map.of("type", "integer"))))
                                                .putAdditionalProperty(
                                                        "required", JsonValue.from(List.of("name", "age")))
                                                .build())
                                        .build())
                                .build())
                        .build());
        JsonNode content = JSON.readTree(c.choices().get(0).message().content().orElseThrow());
        assertEquals("Ada", content.get("name").asText());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
        assertTrue(c.choices().get(0).message().toolCalls().isEmpty()
                || c.choices().get(0).message().toolCalls().get().isEmpty());
        JsonNode sent = fake.lastRequest().json();
        assertEquals("tool", sent.at("/tool_choice/type").asText());
        assertEquals("person", sent.at("/tool_choice/name").asText());
    }

    @Test
    void overloadedAndRateLimitedFailOverToTheNextAccount() {
        fake.enqueue(Answer.overloaded());
        fake.byDefault(Answer.text("From the backup"));
        try (HttpResponseFor<ChatCompletion> raw =
                client.chat().completions().withRawResponse().create(chat(MODEL).build())) {
            assertEquals(
                    "From the backup",
                    raw.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("1", raw.headers().values("x-br-fallbacks").get(0));
        }
        fake.enqueue(Answer.rateLimited("30"));
        try (HttpResponseFor<ChatCompletion> raw =
                client.chat().completions().withRawResponse().create(chat(MODEL).build())) {
            assertEquals(
                    "From the backup",
                    raw.parse().choices().get(0).message().content().orElseThrow());
        }
    }

    @Test
    void aRequestErrorComesBackInOpenAiShapeAndIsNotFailedOver() {
        fake.enqueue(Answer.invalidRequest("messages.0.content: too long"));
        BadRequestException e = assertThrows(
                BadRequestException.class,
                () -> client.chat().completions().create(chat(MODEL).build()));
        assertTrue(e.getMessage().contains("messages.0.content: too long"), e.getMessage());
        assertEquals("invalid_request_error", e.type().orElseThrow());
        assertEquals(1, fake.requestsTo(FakeAnthropic.MESSAGES).size(), "a 400 is about the request: no failover");
    }

    @Test
    void whatAnthropicCannotDoIsRefusedBeforeAnythingIsSent() {
        BadRequestException e = assertThrows(
                BadRequestException.class,
                () -> client.chat().completions().create(chat(MODEL).n(2).build()));
        assertTrue(e.getMessage().contains("n: 2"), e.getMessage());
        assertEquals("n", e.param().orElseThrow());
        assertTrue(fake.requestsTo(FakeAnthropic.MESSAGES).isEmpty());
    }

    @Test
    void anErrorEventMidStreamEndsTheStreamWithTheErrorContract() {
        fake.byDefault(Answer.text("a", "b", "c", "d").errorAfter(4, "overloaded_error", "Overloaded"));
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        OpenAIException e = assertThrows(OpenAIException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> s =
                    client.chat().completions().createStreaming(chat(MODEL).build())) {
                s.stream().forEach(chunks::add);
            }
        });
        assertTrue(e.getMessage().contains("overloaded_error") || e.getMessage().contains("broke"), e.getMessage());
        assertFalse(chunks.isEmpty(), "the content before the error reached the client");
    }

    private static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder()
                        .name("get_weather")
                        .description("The weather in a city")
                        .parameters(FunctionParameters.builder()
                                .putAdditionalProperty("type", JsonValue.from("object"))
                                .putAdditionalProperty(
                                        "properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                                .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                                .build())
                        .build())
                .build();
    }
}
