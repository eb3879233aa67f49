package io.brainstorm.proxy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.config.SimProfile;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The simulated upstream over real loopback HTTP, as the gateway and the SDKs see it. */
class SimServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SimProfile INSTANT = new SimProfile(0, 0, 0, 1.0, 0.0);
    private static final Price PRICE = new Price(1_000_000_000L, 2_000_000_000L, 500_000_000L);

    /** Netty's leak reports, caught through java.util.logging (SLF4J may be a no-op here). */
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    private static final Logger LEAK_LOGGER = Logger.getLogger("io.netty.util.ResourceLeakDetector");
    private static final Handler LEAK_HANDLER = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()
                    && String.valueOf(record.getMessage()).contains("LEAK")) {
                LEAKS.add(record.getMessage());
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<SimServer> servers = new ArrayList<>();

    @BeforeAll
    static void catchLeakReports() {
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        LEAK_LOGGER.addHandler(LEAK_HANDLER);
    }

    /** Leaks are reported when a later buffer is tracked after the leaked one was collected. */
    @AfterAll
    static void noBufferLeaked() throws InterruptedException {
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
            ByteBufAllocator.DEFAULT.buffer(16).release();
        }
        LEAK_LOGGER.removeHandler(LEAK_HANDLER);
        assertEquals(List.of(), LEAKS);
    }

    @AfterEach
    void closeServers() {
        servers.forEach(SimServer::close);
    }

    // --- chat, not streamed ---

    @Test
    void nonStreamedChatHasOpenAiShapeAndUsage() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        JsonNode answer = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"hello world!\"}]}"));

        assertTrue(answer.get("id").asText().startsWith("chatcmpl-sim"));
        assertEquals("chat.completion", answer.get("object").asText());
        assertEquals("alpha", answer.get("model").asText());
        assertTrue(answer.get("created").asLong() > 1_600_000_000L);
        assertTrue(answer.has("system_fingerprint"));
        JsonNode choice = answer.get("choices").get(0);
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertTrue(choice.get("message").get("refusal").isNull());
        String content = choice.get("message").get("content").asText();
        assertTrue(content.startsWith("Simulated answer from sim/alpha via sim-east:"), content);

        JsonNode usage = answer.get("usage");
        assertEquals(3 + 4, usage.get("prompt_tokens").asLong()); // ceil(12 / 4) + 4 for the one message
        long words = content.split(" ").length;
        assertEquals(words, usage.get("completion_tokens").asLong());
        assertTrue(words >= 20 && words <= 60, content);
        assertEquals(
                usage.get("prompt_tokens").asLong() + words,
                usage.get("total_tokens").asLong());
        assertEquals(0, usage.get("prompt_tokens_details").get("cached_tokens").asLong());
        assertEquals(
                0,
                usage.get("completion_tokens_details").get("reasoning_tokens").asLong());
        assertEquals(1, sim.requestsServed());
    }

    @Test
    void maxTokensTruncatesWithFinishReasonLength() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        JsonNode answer = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"max_completion_tokens\":4,\"sim\":{\"chunks\":10},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        assertEquals("length", answer.get("choices").get(0).get("finish_reason").asText());
        assertEquals(4, answer.get("usage").get("completion_tokens").asLong());
        assertEquals(
                "Simulated answer from sim/alpha",
                answer.get("choices").get(0).get("message").get("content").asText());
    }

    @Test
    void noUsageHookLeavesUsageOut() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        JsonNode answer = ok(
                post(
                        sim,
                        "sim-east",
                        "chat/completions",
                        "{\"model\":\"alpha\",\"sim\":{\"no_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        assertFalse(answer.has("usage"));
    }

    // --- chat, streamed ---

    @Test
    void streamWithUsageHasOneChunkPerTokenAndAUsageChunk() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> data = events(response.body());
        assertEquals("[DONE]", data.get(data.size() - 1));

        List<JsonNode> chunks = new ArrayList<>();
        for (String event : data.subList(0, data.size() - 1)) {
            chunks.add(JSON.readTree(event));
        }
        JsonNode first = chunks.get(0).get("choices").get(0).get("delta");
        assertEquals("assistant", first.get("role").asText());
        assertEquals("", first.get("content").asText());

        JsonNode last = chunks.get(chunks.size() - 1);
        assertEquals(0, last.get("choices").size());
        long completionTokens = last.get("usage").get("completion_tokens").asLong();

        StringBuilder text = new StringBuilder();
        int contentChunks = 0;
        String finish = null;
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertTrue(chunk.has("usage") && chunk.get("usage").isNull(), "usage: null on every other chunk");
            JsonNode choice = chunk.get("choices").get(0);
            JsonNode content = choice.get("delta").get("content");
            if (content != null && !content.asText().isEmpty()) {
                contentChunks++;
                text.append(content.asText());
            }
            if (!choice.get("finish_reason").isNull()) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals(completionTokens, contentChunks);
        assertEquals("stop", finish);
        assertTrue(text.toString().startsWith("Simulated answer from sim/alpha via sim-east:"), text.toString());
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageAtAll() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"stream\":true,\"sim\":{\"chunks\":5},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
        List<String> data = events(response.body());
        assertEquals("[DONE]", data.get(data.size() - 1));
        // role, 5 pieces, finish
        assertEquals(7, data.size() - 1);
        for (String event : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(event);
            assertFalse(chunk.has("usage"), event);
            assertEquals(1, chunk.get("choices").size());
        }
    }

    @Test
    void streamIsPacedByTheProfile() throws Exception {
        SimServer sim = start(models(new SimProfile(0, 150, 20, 1.0, 0.0)), new SimServer.Options(1, false, false));
        long started = System.nanoTime();
        HttpResponse<String> response = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"stream\":true,\"sim\":{\"chunks\":6},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(response.body().endsWith("data: [DONE]\n\n"));
        assertTrue(elapsedMs >= 150 + 5 * 20, "took " + elapsedMs + " ms (expected: >= ttft + 5 intervals)");
    }

    @Test
    void resetAfterCutsTheStream() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        try {
            HttpResponse<String> response = post(
                    sim,
                    "sim-east",
                    "chat/completions",
                    "{\"model\":\"alpha\",\"stream\":true,\"sim\":{\"reset_after\":3,\"chunks\":20},"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
            assertFalse(response.body().contains("[DONE]"), response.body());
        } catch (IOException expected) {
            // the reset reached the client before the body ended: what a cut stream should look like
        }
        waitFor(() -> sim.openConnections() == 0);
        assertEquals(1, sim.requestsServed());
    }

    @Test
    void resetAfterOnANonStreamedRequestClosesBeforeAnswering() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        assertThrows(
                IOException.class,
                () -> post(
                        sim,
                        "sim-east",
                        "chat/completions",
                        "{\"model\":\"alpha\",\"sim\":{\"reset_after\":0},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
    }

    // --- structured answers ---

    @Test
    void toolCallArgumentsFollowTheSchema() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        String tools = "\"tools\":["
                + tool(
                        "get_weather",
                        "{\"type\":\"object\",\"properties\":{"
                                + "\"city\":{\"type\":\"string\"},\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]},"
                                + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"unit\"]}")
                + "," + tool("get_time", "{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\"}}}") + "]";
        JsonNode answer = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\"," + tools + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}"));
        JsonNode choice = answer.get("choices").get(0);
        assertEquals("tool_calls", choice.get("finish_reason").asText());
        assertTrue(choice.get("message").get("content").isNull());
        JsonNode call = choice.get("message").get("tool_calls").get(0);
        assertTrue(call.get("id").asText().startsWith("call_"));
        assertEquals("function", call.get("type").asText());
        assertEquals("get_weather", call.get("function").get("name").asText());
        JsonNode args = JSON.readTree(call.get("function").get("arguments").asText());
        assertTrue(args.get("city").isTextual());
        assertEquals("celsius", args.get("unit").asText());
        assertTrue(args.get("days").asInt() >= 1 && args.get("days").asInt() <= 7, args.toString());

        JsonNode named = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\"," + tools
                        + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"time?\"}]}"));
        assertEquals(
                "get_time",
                named.get("choices")
                        .get(0)
                        .get("message")
                        .get("tool_calls")
                        .get(0)
                        .get("function")
                        .get("name")
                        .asText());

        JsonNode none = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\"," + tools
                        + ",\"tool_choice\":\"none\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        assertEquals("stop", none.get("choices").get(0).get("finish_reason").asText());
    }

    @Test
    void streamedToolCallArgumentsReassemble() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"tools\":["
                        + tool(
                                "lookup",
                                "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},"
                                        + "\"limit\":{\"type\":\"integer\"}},\"required\":[\"query\"]}")
                        + "],\"messages\":[{\"role\":\"user\",\"content\":\"find it\"}]}");
        List<String> data = events(response.body());
        StringBuilder arguments = new StringBuilder();
        String name = null;
        int pieces = 0;
        String finish = null;
        JsonNode usage = null;
        for (String event : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(event);
            if (chunk.get("choices").isEmpty()) {
                usage = chunk.get("usage");
                continue;
            }
            JsonNode choice = chunk.get("choices").get(0);
            JsonNode calls = choice.get("delta").get("tool_calls");
            if (calls != null) {
                JsonNode function = calls.get(0).get("function");
                if (function.has("name")) {
                    name = function.get("name").asText();
                    assertEquals("", function.get("arguments").asText());
                } else {
                    pieces++;
                    arguments.append(function.get("arguments").asText());
                }
            }
            if (!choice.get("finish_reason").isNull()) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals("lookup", name);
        assertEquals("tool_calls", finish);
        assertTrue(JSON.readTree(arguments.toString()).get("query").isTextual(), arguments.toString());
        assertEquals(pieces, usage.get("completion_tokens").asLong());
    }

    @Test
    void jsonSchemaAnswerMatchesTheSchema() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        String schema = "{\"type\":\"object\",\"properties\":{"
                + "\"title\":{\"type\":\"string\"},"
                + "\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
                + "\"count\":{\"type\":\"integer\"},"
                + "\"done\":{\"type\":\"boolean\"},"
                + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
                + "\"level\":{\"type\":\"string\",\"enum\":[\"low\",\"high\"]},"
                + "\"owner\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}"
                + "},\"required\":[\"title\",\"score\",\"count\",\"done\",\"tags\",\"level\",\"owner\"],"
                + "\"additionalProperties\":false}";
        JsonNode answer = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\","
                        + "\"strict\":true,\"schema\":" + schema
                        + "}},\"messages\":[{\"role\":\"user\",\"content\":\"rate\"}]}"));
        JsonNode value = JSON.readTree(
                answer.get("choices").get(0).get("message").get("content").asText());
        assertTrue(value.get("title").isTextual());
        assertTrue(value.get("score").isNumber()
                && value.get("score").asDouble() >= 0
                && value.get("score").asDouble() <= 1);
        assertTrue(value.get("count").isIntegralNumber());
        assertTrue(value.get("done").isBoolean());
        assertTrue(value.get("tags").isArray() && value.get("tags").get(0).isTextual());
        assertEquals("low", value.get("level").asText());
        assertTrue(value.get("owner").get("name").isTextual());
        assertEquals(7, value.size());

        JsonNode free = ok(post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"response_format\":{\"type\":\"json_object\"},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"json please\"}]}"));
        JsonNode object = JSON.readTree(
                free.get("choices").get(0).get("message").get("content").asText());
        assertTrue(object.isObject() && object.get("simulated").asBoolean());
    }

    @Test
    void lowQualitySpoilsStructuredAnswersUnderRandomFaults() throws Exception {
        SimServer sim = start(models(new SimProfile(0, 0, 0, 0.0, 0.0)), new SimServer.Options(3, true, true));
        String body = "{\"model\":\"alpha\",\"tools\":["
                + tool("f", "{\"type\":\"object\",\"properties\":" + "{\"a\":{\"type\":\"string\"}}}")
                + "],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        for (int i = 0; i < 6; i++) {
            JsonNode function = ok(post(sim, "sim-east", "chat/completions", body))
                    .get("choices")
                    .get(0)
                    .get("message")
                    .get("tool_calls")
                    .get(0)
                    .get("function");
            boolean undeclared = !function.get("name").asText().equals("f");
            boolean broken;
            try {
                JSON.readTree(function.get("arguments").asText());
                broken = false;
            } catch (IOException e) {
                broken = true;
            }
            assertTrue(undeclared || broken, function.toString());
        }
    }

    @Test
    void scriptedQualitySpoilsOnlyTheNamedEndpointsAnswers() throws Exception {
        // random faults off: the profiles' quality (1.0 here) would never spoil an answer
        SimServer sim = start(models(INSTANT), new SimServer.Options(4, true, false));
        String body = "{\"model\":\"alpha\",\"response_format\":{\"type\":\"json_object\"},"
                + "\"sim\":{\"quality\":{\"sim-east\":0,\"sim-west\":1}},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"json please\"}]}";
        for (int i = 0; i < 5; i++) {
            for (String endpoint : List.of("sim-east", "sim-west")) {
                String content = ok(post(sim, endpoint, "chat/completions", body))
                        .at("/choices/0/message/content")
                        .asText();
                if (endpoint.equals("sim-east")) {
                    assertThrows(IOException.class, () -> JSON.readTree(content), "its JSON is cut: " + content);
                } else {
                    assertTrue(JSON.readTree(content).isObject(), content);
                }
            }
        }

        HttpResponse<String> bad = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"sim\":{\"quality\":{\"sim-east\":1.5}},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(400, bad.statusCode());
        JsonNode error = JSON.readTree(bad.body()).get("error");
        assertEquals("sim", error.get("param").asText());
        assertEquals(
                "sim.quality.sim-east: 1.5 (expected: 0..1)",
                error.get("message").asText());
    }

    @Test
    void failureRateOneFailsEveryRequestWith500Or429() throws Exception {
        SimServer sim = start(models(new SimProfile(0, 0, 0, 1.0, 1.0)), new SimServer.Options(5, true, true));
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> response = post(
                    sim,
                    "sim-east",
                    "chat/completions",
                    "{\"model\":\"alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            JsonNode error = JSON.readTree(response.body()).get("error");
            if (response.statusCode() == 429) {
                assertEquals("rate_limit_error", error.get("type").asText());
                assertEquals("1", response.headers().firstValue("retry-after").orElseThrow());
            } else {
                assertEquals(500, response.statusCode());
                assertEquals("api_error", error.get("type").asText());
                assertEquals(
                        "sim: simulated upstream failure", error.get("message").asText());
            }
        }
    }

    // --- embeddings and models ---

    @Test
    void embeddingsAsFloatsAndBase64AreTheSameVector() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        JsonNode floats =
                ok(post(sim, "sim-east", "embeddings", "{\"model\":\"emb\",\"input\":[\"hello world\",\"other\"]}"));
        assertEquals("list", floats.get("object").asText());
        assertEquals("emb", floats.get("model").asText());
        assertEquals(2, floats.get("data").size());
        JsonNode first = floats.get("data").get(0);
        assertEquals("embedding", first.get("object").asText());
        assertEquals(0, first.get("index").asInt());
        assertEquals(8, first.get("embedding").size());
        assertEquals(3 + 2, floats.get("usage").get("prompt_tokens").asLong());
        assertEquals(5, floats.get("usage").get("total_tokens").asLong());
        assertNotEquals(first.get("embedding"), floats.get("data").get(1).get("embedding"));

        JsonNode base64 = ok(post(
                sim,
                "sim-east",
                "embeddings",
                "{\"model\":\"emb\",\"input\":\"hello world\",\"encoding_format\":\"base64\"}"));
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder()
                        .decode(base64.get("data").get(0).get("embedding").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(8 * Float.BYTES, bytes.remaining());
        for (int i = 0; i < 8; i++) {
            assertEquals((float) first.get("embedding").get(i).asDouble(), bytes.getFloat(), 1e-6f);
        }
    }

    @Test
    void embeddingsNeedAnEmbeddingModel() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = post(sim, "sim-east", "embeddings", "{\"model\":\"alpha\",\"input\":\"x\"}");
        assertEquals(400, response.statusCode());
        assertEquals(
                "model",
                JSON.readTree(response.body()).get("error").get("param").asText());
    }

    @Test
    void modelsListsWhatTheEndpointServes() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = http.send(
                request(sim.baseUrl("sim-west").resolve("v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode list = ok(response);
        assertEquals("list", list.get("object").asText());
        List<String> ids = new ArrayList<>();
        list.get("data").forEach(model -> ids.add(model.get("id").asText()));
        assertEquals(List.of("alpha", "beta"), ids);
        assertEquals("model", list.get("data").get(0).get("object").asText());
    }

    // --- errors ---

    @Test
    void gatewayKeyIsRefused() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(sim.baseUrl("sim-east").resolve("v1/chat/completions"))
                        .header("authorization", "Bearer br_live_abc123")
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, response.statusCode());
        assertEquals(
                "sim: received a gateway br_live_ key; the gateway must send the provider key",
                JSON.readTree(response.body()).get("error").get("message").asText());
        assertEquals("Bearer br_live_abc123", sim.lastRequest().headers().get("authorization"));

        HttpResponse<String> missing = http.send(
                HttpRequest.newBuilder(sim.baseUrl("sim-east").resolve("v1/models"))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, missing.statusCode());
        assertEquals(
                "invalid_api_key",
                JSON.readTree(missing.body()).get("error").get("code").asText());
    }

    @Test
    void unknownModelOrModelOfAnotherEndpointIs404() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        for (String model : List.of("nope", "beta", "sim/alpha")) {
            HttpResponse<String> response = post(
                    sim,
                    "sim-east",
                    "chat/completions",
                    "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(404, response.statusCode(), model);
            JsonNode error = JSON.readTree(response.body()).get("error");
            assertEquals("invalid_request_error", error.get("type").asText());
            assertEquals("model", error.get("param").asText());
            assertEquals("model_not_found", error.get("code").asText());
        }
    }

    @Test
    void badJsonIs400() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> response = post(sim, "sim-east", "chat/completions", "{\"model\":");
        assertEquals(400, response.statusCode());
        assertEquals(
                "application/json",
                response.headers().firstValue("content-type").orElseThrow());
        assertEquals(
                "invalid_request_error",
                JSON.readTree(response.body()).get("error").get("type").asText());
    }

    @Test
    void scriptedFailuresAnswerTheirStatus() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpResponse<String> limited = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"sim\":{\"fail\":429,\"retry_after\":7},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(429, limited.statusCode());
        assertEquals("7", limited.headers().firstValue("retry-after").orElseThrow());
        assertEquals(
                "rate_limit_error",
                JSON.readTree(limited.body()).get("error").get("type").asText());

        HttpResponse<String> unavailable = post(
                sim,
                "sim-east",
                "chat/completions",
                "{\"model\":\"alpha\",\"stream\":true,\"sim\":{\"fail\":503},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(503, unavailable.statusCode());
        assertEquals(
                "api_error",
                JSON.readTree(unavailable.body()).get("error").get("type").asText());
    }

    @Test
    void hangNeverAnswers() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        HttpRequest request = request(sim.baseUrl("sim-east").resolve("v1/chat/completions"))
                .timeout(Duration.ofMillis(300))
                .POST(
                        HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"alpha\",\"sim\":{\"hang\":true},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                .build();
        assertThrows(HttpTimeoutException.class, () -> http.send(request, HttpResponse.BodyHandlers.ofString()));
        assertEquals(0, sim.requestsServed());
    }

    // --- determinism, connections, bookkeeping ---

    @Test
    void sameSeedSameAnswers() throws Exception {
        List<String> first = answers(42);
        assertEquals(first, answers(42));
        assertNotEquals(first, answers(43));
    }

    @Test
    void connectionsAreCountedAndKeptAlive() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        try (Socket socket = new Socket("127.0.0.1", sim.port())) {
            waitFor(() -> sim.openConnections() == 1);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            String request = "GET /sim-east/v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sim-key\r\n\r\n";
            for (int i = 0; i < 2; i++) {
                out.write(request.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                int length = Integer.parseInt(head.replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
                assertEquals(length, in.readNBytes(length).length);
            }
            assertEquals(1, sim.openConnections());
            assertEquals(2, sim.requestsServed());
        }
        waitFor(() -> sim.openConnections() == 0);
    }

    @Test
    void clientLeavingMidStreamEndsTheStream() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        String body = "{\"model\":\"alpha\",\"stream\":true,\"sim\":{\"chunks\":40,\"interval_ms\":20},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        try (Socket socket = new Socket("127.0.0.1", sim.port())) {
            socket.getOutputStream()
                    .write(("POST /sim-east/v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                                    + "authorization: Bearer sim-key\r\ncontent-type: application/json\r\ncontent-length: "
                                    + body.length() + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.US_ASCII));
            String head = readHead(socket.getInputStream());
            assertTrue(
                    head.startsWith("HTTP/1.1 200")
                            && head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked"),
                    head);
        }
        waitFor(() -> sim.openConnections() == 0 && sim.requestsServed() == 1);
    }

    @Test
    void lastRequestIsRecorded() throws Exception {
        SimServer sim = start(models(INSTANT), new SimServer.Options(1, true, false));
        assertEquals(null, sim.lastRequest());
        String body = "{\"model\":\"alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        post(sim, "sim-west", "chat/completions", body);
        SimServer.RecordedRequest recorded = sim.lastRequest();
        assertEquals("POST", recorded.method());
        assertEquals("/sim-west/v1/chat/completions", recorded.path());
        assertEquals("Bearer sim-key", recorded.headers().get("authorization"));
        assertEquals(body, recorded.body());
        assertEquals(URI.create("http://127.0.0.1:" + sim.port() + "/sim-west/v1"), sim.baseUrl("sim-west"));
    }

    // --- helpers ---

    /** Three sequential answers (text, tool call, stream) from a fresh server with this seed. */
    private List<String> answers(long seed) throws Exception {
        SimServer sim = start(models(new SimProfile(0, 0, 0, 0.5, 0.3)), new SimServer.Options(seed, true, true));
        List<String> out = new ArrayList<>();
        String messages = ",\"messages\":[{\"role\":\"user\",\"content\":\"same question\"}]}";
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> text = post(sim, "sim-east", "chat/completions", "{\"model\":\"alpha\"" + messages);
            out.add(text.statusCode() + " " + withoutCreated(text.body()));
            HttpResponse<String> tool = post(
                    sim,
                    "sim-east",
                    "chat/completions",
                    "{\"model\":\"alpha\",\"tools\":["
                            + tool("f", "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}") + "]"
                            + messages);
            out.add(tool.statusCode() + " " + withoutCreated(tool.body()));
            HttpResponse<String> stream =
                    post(sim, "sim-west", "chat/completions", "{\"model\":\"alpha\",\"stream\":true" + messages);
            out.add(stream.statusCode() + " " + withoutCreated(stream.body()));
        }
        sim.close();
        return out;
    }

    private static String withoutCreated(String body) {
        return body.replaceAll("\"created\":\\d+", "");
    }

    private SimServer start(List<ModelSpec> models, SimServer.Options options) throws InterruptedException {
        SimServer sim = new SimServer(models, options);
        servers.add(sim);
        sim.start("127.0.0.1", 0);
        return sim;
    }

    /** alpha at sim-east and sim-west, beta at sim-west only, emb (embeddings) at sim-east, and a non-sim model. */
    private static List<ModelSpec> models(SimProfile profile) {
        EndpointSpec east = new EndpointSpec("sim-east", PRICE, profile);
        EndpointSpec west = new EndpointSpec("sim-west", PRICE, profile);
        return List.of(
                model("sim/alpha", Set.of(Capability.TOOLS, Capability.JSON), List.of(east, west)),
                model("sim/beta", Set.of(), List.of(west)),
                model("sim/emb", Set.of(Capability.EMBEDDINGS), List.of(east)),
                new ModelSpec(
                        "openai/gpt-4o",
                        "openai",
                        "gpt-4o",
                        List.of(),
                        128_000,
                        16_384,
                        PRICE,
                        Set.of(Capability.TOOLS),
                        false,
                        List.of(),
                        1_700_000_000L));
    }

    private static ModelSpec model(String id, Set<Capability> capabilities, List<EndpointSpec> endpoints) {
        return new ModelSpec(
                id, "sim", null, List.of(), 128_000, 4_096, PRICE, capabilities, true, endpoints, 1_700_000_000L);
    }

    private static String tool(String name, String parameters) {
        return "{\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"parameters\":" + parameters + "}}";
    }

    private HttpResponse<String> post(SimServer sim, String endpoint, String route, String body)
            throws IOException, InterruptedException {
        return http.send(
                request(sim.baseUrl(endpoint).resolve("v1/" + route))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder request(URI base) {
        // baseUrl ends in /v1 without a slash, so resolve("v1/x") replaces the last segment
        return HttpRequest.newBuilder(base)
                .timeout(Duration.ofSeconds(5))
                .header("authorization", "Bearer " + SimServer.API_KEY)
                .header("content-type", "application/json");
    }

    private static JsonNode ok(HttpResponse<String> response) throws IOException {
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(
                "application/json",
                response.headers().firstValue("content-type").orElseThrow());
        return JSON.readTree(response.body());
    }

    /** The payloads of the {@code data:} events, checking that each event ends with a blank line. */
    private static List<String> events(String body) {
        List<String> data = new ArrayList<>();
        for (String event : body.split("\n\n")) {
            if (event.isEmpty()) {
                continue;
            }
            assertTrue(event.startsWith("data: "), event);
            data.add(event.substring("data: ".length()));
        }
        assertTrue(body.endsWith("\n\n"));
        return data;
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                fail("connection closed in the response head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not met within 5 s");
            }
            Thread.sleep(10);
        }
    }
}
