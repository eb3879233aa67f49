package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against a running gateway with the simulated provider. */
class OpenAiSdkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayHarness gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        gateway = new GatewayHarness();
        client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl())
                .apiKey(gateway.apiKey)
                .maxRetries(0)
                .build();
    }

    @AfterAll
    static void stop() {
        client.close();
        gateway.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello to the test suite");
    }

    @Test
    void chatAnswersWithGovernanceHeaders() {
        try (HttpResponseFor<ChatCompletion> raw = client.chat()
                .completions()
                .withRawResponse()
                .create(chat("sim/alpha").build())) {
            ChatCompletion completion = raw.parse();
            String content = completion.choices().get(0).message().content().orElseThrow();
            assertTrue(content.contains("sim/alpha"), content);
            assertEquals("sim/alpha", header(raw, "x-br-selected-model"));
            assertEquals("sim-east", header(raw, "x-br-endpoint"));
            assertEquals("direct", header(raw, "x-br-strategy"));
            assertEquals("0", header(raw, "x-br-fallbacks"));
            assertTrue(header(raw, "x-br-request-id").startsWith("req_"));
            long prompt = completion.usage().orElseThrow().promptTokens();
            long output = completion.usage().orElseThrow().completionTokens();
            // sim-east charges $0.50 / $1.50 per million tokens
            BigDecimal expected =
                    BigDecimal.valueOf(prompt * 500L + output * 1500L).movePointLeft(9);
            assertEquals(0, expected.compareTo(new BigDecimal(header(raw, "x-br-actual-cost"))));
            double efficiency = Double.parseDouble(header(raw, "x-br-efficiency"));
            assertTrue(efficiency > 0 && efficiency <= 0.5, "efficiency " + efficiency);
        }
    }

    @Test
    void routingVariantsAndAutoThroughTheSdk() {
        // floor: sim/alpha's cheapest endpoint is sim-budget
        try (HttpResponseFor<ChatCompletion> floor = client.chat()
                .completions()
                .withRawResponse()
                .create(chat("sim/alpha:floor").build())) {
            assertEquals("sim-budget", header(floor, "x-br-endpoint"));
            assertEquals("floor", header(floor, "x-br-strategy"));
            double efficiency = Double.parseDouble(header(floor, "x-br-efficiency"));
            assertTrue(
                    efficiency > 0 && efficiency <= 1, "the cheapest pick: its learnt quality x 1, got " + efficiency);
        }
        for (String model : List.of("sim/alpha:fast", "sim/alpha:best", "sim/alpha:smart", "sim/alpha:nitro", "auto")) {
            try (HttpResponseFor<ChatCompletion> raw = client.chat()
                    .completions()
                    .withRawResponse()
                    .create(chat(model).build())) {
                assertTrue(raw.parse()
                        .choices()
                        .get(0)
                        .message()
                        .content()
                        .orElseThrow()
                        .startsWith("Simulated answer"));
                String strategy = header(raw, "x-br-strategy");
                assertEquals(
                        model.equals("auto") ? "auto" : model.endsWith(":nitro") ? "fast" : model.substring(10),
                        strategy);
                assertTrue(header(raw, "x-br-selected-model").startsWith("sim/"), header(raw, "x-br-selected-model"));
            }
        }
        NotFoundException unknown = assertThrows(
                NotFoundException.class,
                () -> client.chat()
                        .completions()
                        .create(chat("sim/alpha:cheapest").build()));
        assertTrue(unknown.getMessage().contains(":floor"), unknown.getMessage());
        assertTrue(client.models().list().data().stream().anyMatch(m -> m.id().equals("auto")));
    }

    @Test
    void bareAliasAndUnknownModel() {
        NotFoundException e = assertThrows(
                NotFoundException.class,
                () -> client.chat().completions().create(chat("sim/nope").build()));
        assertEquals("model_not_found", e.code().orElseThrow());
        // a real model without a provider key is not routable, and the message says why
        NotFoundException noKey = assertThrows(
                NotFoundException.class,
                () -> client.chat().completions().create(chat("gpt-4o").build()));
        assertTrue(noKey.getMessage().contains("openai/gpt-4o"), noKey.getMessage());
    }

    @Test
    void wrongKeyIs401() {
        OpenAIClient bad = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl())
                .apiKey("br_live_00000000000000000000000000000000")
                .maxRetries(0)
                .build();
        try {
            UnauthorizedException e = assertThrows(
                    UnauthorizedException.class,
                    () -> bad.chat().completions().create(chat("sim/alpha").build()));
            assertEquals("invalid_api_key", e.code().orElseThrow());
        } finally {
            bad.close();
        }
    }

    @Test
    void streamArrivesIncrementallyWithCostInUsageChunk() {
        ChatCompletionCreateParams params = chat("sim/alpha")
                .streamOptions(
                        ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .putAdditionalBodyProperty("sim", JsonValue.from(Map.of("chunks", 8, "interval_ms", 100)))
                .build();
        long start = System.nanoTime();
        long firstContentAt = -1;
        StringBuilder text = new StringBuilder();
        ChatCompletionChunk usageChunk = null;
        try (StreamResponse<ChatCompletionChunk> stream =
                client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                if (!chunk.choices().isEmpty()) {
                    String delta = chunk.choices().get(0).delta().content().orElse("");
                    if (!delta.isEmpty() && firstContentAt < 0) {
                        firstContentAt = System.nanoTime();
                    }
                    text.append(delta);
                } else {
                    usageChunk = chunk;
                }
            }
        }
        long end = System.nanoTime();
        assertFalse(text.isEmpty());
        // 8 chunks 100 ms apart: the first must reach us well before the upstream finishes
        assertTrue(
                end - firstContentAt > 500_000_000L,
                "first chunk arrived only " + (end - firstContentAt) / 1_000_000 + " ms before the end");
        assertNotNull(usageChunk, "usage chunk");
        assertEquals(8, usageChunk.usage().orElseThrow().completionTokens());
        Map<String, JsonValue> usageExtra = usageChunk.usage().orElseThrow()._additionalProperties();
        assertTrue(usageExtra.containsKey("cost"), usageExtra.toString());
        JsonValue xbr = usageChunk._additionalProperties().get("x_br");
        assertNotNull(xbr, "x_br in the usage chunk");
        assertTrue(xbr.toString().contains("sim-east"), xbr.toString());
        assertTrue(start < firstContentAt);
    }

    @Test
    void streamedToolCallArgumentsReassemble() throws Exception {
        ChatCompletionCreateParams params = chat("sim/alpha")
                .addTool(ChatCompletionFunctionTool.builder()
                        .function(FunctionDefinition.builder()
                                .name("get_weather")
                                .parameters(FunctionParameters.builder()
                                        .putAdditionalProperty("type", JsonValue.from("object"))
                                        .putAdditionalProperty(
                                                "properties",
                                                JsonValue.from(Map.of(
                                                        "city", Map.of("type", "string"),
                                                        "days", Map.of("type", "integer"))))
                                        .putAdditionalProperty("required", JsonValue.from(List.of("city", "days")))
                                        .build())
                                .build())
                        .build())
                .build();
        StringBuilder args = new StringBuilder();
        String name = null;
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> stream =
                client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                if (chunk.choices().isEmpty()) {
                    continue;
                }
                var choice = chunk.choices().get(0);
                if (choice.finishReason().isPresent()) {
                    finish = choice.finishReason().get().toString();
                }
                for (var call : choice.delta().toolCalls().orElse(List.of())) {
                    if (call.function().isPresent()) {
                        if (call.function().get().name().isPresent()) {
                            name = call.function().get().name().get();
                        }
                        args.append(call.function().get().arguments().orElse(""));
                    }
                }
            }
        }
        assertEquals("get_weather", name);
        assertEquals("tool_calls", finish);
        JsonNode parsed = JSON.readTree(args.toString());
        assertTrue(parsed.path("city").isTextual(), args.toString());
        assertTrue(parsed.path("days").isIntegralNumber(), args.toString());
    }

    @Test
    void jsonObjectModePassesThrough() throws Exception {
        ChatCompletion c = client.chat()
                .completions()
                .create(chat("sim/alpha")
                        .responseFormat(ResponseFormatJsonObject.builder().build())
                        .build());
        String content = c.choices().get(0).message().content().orElseThrow();
        assertTrue(JSON.readTree(content).isObject(), content);
        assertTrue(
                gateway.sim().lastRequest().body().contains("\"response_format\":{\"type\":\"json_object\"}"),
                gateway.sim().lastRequest().body());
    }

    @Test
    void upstreamGetsProviderKeyAndBareModelName() throws Exception {
        client.chat()
                .completions()
                .create(chat("sim/gamma")
                        .putAdditionalBodyProperty("models", JsonValue.from(List.of("sim/alpha")))
                        .build());
        var last = gateway.sim().lastRequest();
        assertEquals("Bearer sim-key", last.headers().get("authorization"));
        JsonNode body = JSON.readTree(last.body());
        assertEquals("gamma", body.path("model").asText());
        assertTrue(body.path("models").isMissingNode(), "gateway fields are removed before the upstream call");
        assertFalse(last.body().contains("br_live_"));
    }

    @Test
    void embeddings() {
        CreateEmbeddingResponse r = client.embeddings()
                .create(EmbeddingCreateParams.builder()
                        .model("sim/embed")
                        .input("hello world")
                        .build());
        assertEquals(1, r.data().size());
        assertFalse(r.data().get(0).embedding().isEmpty());
    }

    @Test
    void modelsListHasPricingAndContext() {
        List<Model> models = new ArrayList<>();
        client.models().list().autoPager().forEach(models::add);
        Map<String, Model> byId = models.stream().collect(Collectors.toMap(Model::id, m -> m));
        assertTrue(byId.containsKey("sim/alpha"), byId.keySet().toString());
        assertFalse(byId.containsKey("openai/gpt-4o"), "no key for openai, so not listed");
        Model alpha = byId.get("sim/alpha");
        assertEquals("sim", alpha.ownedBy());
        Map<String, JsonValue> extra = alpha._additionalProperties();
        assertEquals("128000", extra.get("context_length").toString());
        assertTrue(
                extra.get("pricing").toString().contains("0.0000005"),
                extra.get("pricing").toString());
    }

    @Test
    void upstreamFailureOnEveryEndpointIsA502ThatSaysDoNotRetry() {
        InternalServerException e = assertThrows(
                InternalServerException.class,
                () -> client.chat()
                        .completions()
                        .create(chat("sim/alpha")
                                .putAdditionalBodyProperty("sim", JsonValue.from(Map.of("fail", 500)))
                                .build()));
        assertEquals(502, e.statusCode());
        assertEquals("upstream_error", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("sim-east") && e.getMessage().contains("sim-west"), e.getMessage());
        assertEquals(List.of("false"), e.headers().values("x-should-retry"));
    }

    @Test
    void upstreamResetMidStreamRaisesInTheSdk() {
        ChatCompletionCreateParams params = chat("sim/alpha")
                .putAdditionalBodyProperty("sim", JsonValue.from(Map.of("reset_after", 3, "chunks", 10)))
                .build();
        List<String> deltas = new ArrayList<>();
        assertThrows(OpenAIException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> stream =
                    client.chat().completions().createStreaming(params)) {
                stream.stream()
                        .forEach(c -> c.choices()
                                .forEach(ch -> deltas.add(ch.delta().content().orElse(""))));
            }
        });
        assertFalse(deltas.isEmpty(), "the chunks before the reset were relayed");
    }

    private static String header(HttpResponseFor<?> raw, String name) {
        List<String> v = raw.headers().values(name);
        assertEquals(1, v.size(), name + ": " + v);
        return v.get(0);
    }
}
