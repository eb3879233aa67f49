package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.SseException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.ErrorType;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.ThinkingBlock;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.anthropic.models.messages.Usage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.e2e.FakeAnthropic.Answer;
import io.brainstorm.proxy.e2e.FakeAnthropic.Block;
import io.brainstorm.proxy.e2e.FakeAnthropic.Event;
import io.brainstorm.proxy.e2e.FakeAnthropic.Recorded;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official Anthropic Java SDK straight against {@link FakeAnthropic}, no gateway: what the SDK
 * parses, accumulates, retries and raises proves the fake speaks the wire format the SDK expects,
 * so a gateway test built on the fake tests the gateway and not the fake.
 */
class FakeAnthropicTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "claude-sonnet-4-5";

    private FakeAnthropic fake;
    private AnthropicClient client;

    @BeforeEach
    void start() throws InterruptedException {
        fake = new FakeAnthropic();
        client = client(FakeAnthropic.API_KEY, 0);
    }

    @AfterEach
    void stop() {
        client.close();
        fake.close();
    }

    private AnthropicClient client(String key, int retries) {
        return AnthropicOkHttpClient.builder()
                .baseUrl(fake.baseUrl())
                .apiKey(key)
                .maxRetries(retries)
                .build();
    }

    private static MessageCreateParams.Builder ask(String text) {
        return MessageCreateParams.builder().model(MODEL).maxTokens(1024).addUserMessage(text);
    }

    private Message streamed(MessageCreateParams params) {
        MessageAccumulator acc = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params)) {
            stream.stream().forEach(acc::accumulate);
        }
        return acc.message();
    }

    private static String text(Message m) {
        StringBuilder sb = new StringBuilder();
        m.content().stream().flatMap(b -> b.text().stream()).forEach(t -> sb.append(t.text()));
        return sb.toString();
    }

    private static JsonNode input(ToolUseBlock tool) {
        return JSON.valueToTree(tool._input().convert(Object.class));
    }

    @Test
    void messageAsTheSdkReadsIt() {
        fake.byDefault(Answer.text("Hello", " there").usage(31, 7).cache(100, 50, 400));

        Message m = client.messages().create(ask("Say hello").system("Be brief").build());

        assertTrue(m.id().startsWith("msg_"), m.id());
        assertEquals(MODEL, m.model().asString(), "the model echoes the request's");
        assertEquals("Hello there", text(m));
        assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
        assertTrue(m.stopSequence().isEmpty());
        Usage u = m.usage();
        assertEquals(31, u.inputTokens());
        assertEquals(7, u.outputTokens());
        assertEquals(150, u.cacheCreationInputTokens().orElseThrow());
        assertEquals(400, u.cacheReadInputTokens().orElseThrow());
        assertEquals(100, u.cacheCreation().orElseThrow().ephemeral5mInputTokens());
        assertEquals(50, u.cacheCreation().orElseThrow().ephemeral1hInputTokens());

        Recorded r = fake.lastRequest();
        assertEquals(FakeAnthropic.MESSAGES, r.path());
        // anthropic-java 3.16.0 sends an API key as a bearer token, not as x-api-key
        assertEquals("Bearer " + FakeAnthropic.API_KEY, r.header("authorization"));
        assertEquals(FakeAnthropic.VERSION_2026, r.header("anthropic-version"), "anthropic-java 3.x's version");
        assertTrue(r.header("content-type").startsWith("application/json"), r.header("content-type"));
        assertEquals(1024, r.json().get("max_tokens").asInt());
        assertEquals("Be brief", r.json().get("system").asText());
        assertEquals("Say hello", r.lastUserText());
    }

    @Test
    void aStreamAddsUpToTheMessageNotStreamed() {
        // cut into 7-byte writes, 2 ms between events, a ping after every event: what a slow real
        // connection does to an SSE parser
        fake.splitEvery(7)
                .eventDelay(2)
                .byDefault(Answer.text("Hel", "lo, wo", "rld — ", "ünïcode")
                        .pings()
                        .usage(12, 4)
                        .cache(0, 0, 30));

        Message streamed = streamed(ask("hi").build());
        Message plain = client.messages().create(ask("hi").build());

        assertEquals("Hello, world — ünïcode", text(streamed));
        assertEquals(text(plain), text(streamed));
        for (Message m : List.of(streamed, plain)) {
            assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
            assertEquals(12, m.usage().inputTokens());
            assertEquals(4, m.usage().outputTokens());
            assertEquals(30, m.usage().cacheReadInputTokens().orElseThrow());
        }
        assertTrue(fake.requests.get(0).json().get("stream").asBoolean(), "the SDK asked for a stream");
        assertFalse(fake.requests.get(1).json().path("stream").asBoolean(false));
    }

    @Test
    void theDocumentedStreamsReadTheSameStreamedOrNot() {
        fake.byDefault(Answer.sse(AnthropicDocStreams.TEXT));
        assertEquals("Hello!", text(streamed(ask("hi").build())));
        Message plain = client.messages().create(ask("hi").build());
        assertEquals("Hello!", text(plain));
        assertEquals(15, plain.usage().outputTokens());
        assertEquals(25, plain.usage().inputTokens());

        fake.byDefault(Answer.sse(AnthropicDocStreams.TOOL_USE));
        JsonNode expected = FakeAnthropic.accumulate(FakeAnthropic.parseSse(AnthropicDocStreams.TOOL_USE))
                .get("content")
                .get(1)
                .get("input");
        assertEquals("San Francisco, CA", expected.get("location").asText(), "the fragments join into the input");
        for (Message m : List.of(
                streamed(ask("weather?").build()),
                client.messages().create(ask("weather?").build()))) {
            assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
            assertEquals("Okay, let's check the weather for San Francisco, CA:", text(m));
            ToolUseBlock tool = m.content().get(1).toolUse().orElseThrow();
            assertEquals("toolu_01T1x1fJ34qAmk2tNTrN7Up6", tool.id());
            assertEquals("get_weather", tool.name());
            assertEquals(expected, input(tool));
            assertEquals(89, m.usage().outputTokens());
        }

        fake.byDefault(Answer.sse(AnthropicDocStreams.THINKING));
        for (Message m : List.of(
                streamed(ask("gcd?").build()),
                client.messages().create(ask("gcd?").build()))) {
            ThinkingBlock thinking = m.content().get(0).thinking().orElseThrow();
            assertTrue(thinking.thinking().startsWith("I need to find the GCD"), thinking.thinking());
            assertTrue(thinking.thinking().endsWith("= 21"), thinking.thinking());
            assertTrue(thinking.signature().startsWith("EqQBCgIYAhIM"), thinking.signature());
            assertEquals("The greatest common divisor of 1071 and 462 is **21**.", text(m));
        }
    }

    @Test
    void aGeneratedStreamHasTheDocumentedShape() {
        List<String> documented = shape(FakeAnthropic.parseSse(AnthropicDocStreams.TEXT));
        List<String> generated = shape(Answer.text("Hel", "lo!").events("msg_x", MODEL));
        assertEquals(documented, generated);
        assertEquals(
                List.of(
                        "message_start",
                        "content_block_start",
                        "ping",
                        "content_block_delta",
                        "content_block_stop",
                        "message_delta",
                        "message_stop"),
                generated);
        JsonNode delta = Answer.text("a").cache(3, 4, 5).events("msg_x", MODEL).stream()
                .filter(e -> e.name().equals("message_delta"))
                .findFirst()
                .orElseThrow()
                .json();
        assertEquals(7, delta.at("/usage/cache_creation_input_tokens").asInt(), "message_delta usage is cumulative");
        assertEquals(5, delta.at("/usage/cache_read_input_tokens").asInt());
        for (Event e : Answer.text("a").events("msg_x", MODEL)) {
            assertEquals(e.name(), e.json().get("type").asText(), "the data repeats the event name as its type");
        }
    }

    /** Event names, runs of one name (the deltas) counted once. */
    private static List<String> shape(List<Event> events) {
        List<String> names = new ArrayList<>();
        for (Event e : events) {
            if (names.isEmpty() || !names.get(names.size() - 1).equals(e.name())) {
                names.add(e.name());
            }
        }
        return names;
    }

    @Test
    void thinkingThenTwoParallelToolsCutMidToken() {
        fake.when(
                "two cities",
                Answer.message(
                                Block.thinking("EuYBCkQYAiJA", "Two cities, ", "so two calls."),
                                Block.toolUse("toolu_01A", "get_weather", "{\"ci", "ty\": \"Par", "is\"}"),
                                Block.toolUse("toolu_01B", "get_weather", "", "{\"city\"", ": \"Tok", "yo\"", "}"))
                        .usage(40, 60));
        fake.splitEvery(5);

        for (Message m : List.of(
                streamed(ask("weather in two cities").build()),
                client.messages().create(ask("weather in two cities").build()))) {
            assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
            List<ContentBlock> content = m.content();
            assertEquals(3, content.size());
            ThinkingBlock thinking = content.get(0).thinking().orElseThrow();
            assertEquals("Two cities, so two calls.", thinking.thinking());
            assertEquals("EuYBCkQYAiJA", thinking.signature());
            ToolUseBlock paris = content.get(1).toolUse().orElseThrow();
            ToolUseBlock tokyo = content.get(2).toolUse().orElseThrow();
            assertEquals("toolu_01A", paris.id());
            assertEquals("Paris", input(paris).get("city").asText());
            assertEquals("toolu_01B", tokyo.id());
            assertEquals("Tokyo", input(tokyo).get("city").asText());
            assertEquals(60, m.usage().outputTokens());
        }
    }

    @Test
    void aToolRoundTripIsTakenAndAnUnansweredToolCallRefused() {
        fake.enqueue(Answer.sse(AnthropicDocStreams.TOOL_USE));
        Message first = client.messages().create(ask("weather?").build());
        ToolUseBlock call = first.content().get(1).toolUse().orElseThrow();

        Message second = client.messages()
                .create(ask("weather?")
                        .addMessage(first)
                        .addUserMessageOfContentBlockParams(
                                List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
                                        .toolUseId(call.id())
                                        .content("15 degrees")
                                        .build())))
                        .build());
        assertEquals("Hello from the fake Anthropic.", text(second));
        JsonNode sent = fake.lastRequest().json().get("messages");
        assertEquals("tool_result", sent.at("/2/content/0/type").asText());
        assertEquals(call.id(), sent.at("/2/content/0/tool_use_id").asText());

        BadRequestException e = assertThrows(
                BadRequestException.class,
                () -> client.messages()
                        .create(ask("weather?")
                                .addMessage(first)
                                .addUserMessage("never mind")
                                .build()));
        assertTrue(e.apiMessage().orElseThrow().contains("without `tool_result` blocks"), e.getMessage());
        assertEquals(ErrorType.INVALID_REQUEST_ERROR, e.errorType().orElseThrow());
    }

    @Test
    void anErrorEventMidStreamReachesTheSdkAfterWhatCameBefore() {
        fake.byDefault(
                Answer.text("partial", " answer", " never finished").errorAfter(4, "overloaded_error", "Overloaded"));

        MessageAccumulator acc = MessageAccumulator.create();
        List<String> seen = new ArrayList<>();
        SseException e = assertThrows(SseException.class, () -> {
            try (StreamResponse<RawMessageStreamEvent> stream =
                    client.messages().createStreaming(ask("hi").build())) {
                stream.stream().forEach(ev -> {
                    seen.add(ev.isMessageStart() ? "message_start" : "other");
                    acc.accumulate(ev);
                });
            }
        });
        assertEquals(
                "overloaded_error",
                e.body().convert(JsonNode.class).at("/error/type").asText(),
                e.getMessage());
        // message_start, content_block_start, the first delta (the ping is not an SDK event)
        assertEquals(List.of("message_start", "other", "other"), seen);

        // the same answer not streamed is the HTTP error a stream carries as an event
        AnthropicServiceException plain = assertThrows(
                AnthropicServiceException.class,
                () -> client.messages().create(ask("hi").build()));
        assertEquals(529, plain.statusCode());
        assertEquals(ErrorType.OVERLOADED_ERROR, plain.errorType().orElseThrow());
    }

    @Test
    void theSdkRetriesOverloadAndRateLimitsAsTheFakeAsks() {
        client.close();
        client = client(FakeAnthropic.API_KEY, 2);
        fake.enqueue(Answer.overloaded(), Answer.overloaded());
        assertEquals(
                "Hello from the fake Anthropic.",
                text(client.messages().create(ask("hi").build())));
        assertEquals(3, fake.requests.size(), "two 529s, then the answer");
        assertEquals(
                List.of("0", "1", "2"),
                fake.requests.stream()
                        .map(r -> r.header("x-stainless-retry-count"))
                        .toList());

        fake.enqueue(Answer.rateLimited("1"));
        long t0 = System.nanoTime();
        assertEquals(
                "Hello from the fake Anthropic.",
                text(client.messages().create(ask("hi").build())));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(5, fake.requests.size());
        // without retry-after the SDK's first backoff is at most 0.5 s
        assertTrue(waited >= 900, "the SDK waited the fake's retry-after: 1 s, waited " + waited + " ms");
    }

    @Test
    void errorsHaveAnthropicsShape() {
        fake.enqueue(Answer.rateLimited("7"));
        RateLimitException limited = assertThrows(
                RateLimitException.class,
                () -> client.messages().create(ask("hi").build()));
        assertEquals(List.of("7"), limited.headers().values("retry-after"));
        assertTrue(limited.requestId().orElseThrow().startsWith("req_"));
        assertEquals(ErrorType.RATE_LIMIT_ERROR, limited.errorType().orElseThrow());

        fake.enqueue(Answer.invalidRequest("messages.0.content: bad"));
        BadRequestException bad = assertThrows(
                BadRequestException.class,
                () -> client.messages().create(ask("hi").build()));
        assertEquals("messages.0.content: bad", bad.apiMessage().orElseThrow());

        client.close();
        client = client("sk-ant-wrong", 0);
        UnauthorizedException denied = assertThrows(
                UnauthorizedException.class,
                () -> client.messages().create(ask("hi").build()));
        assertEquals(ErrorType.AUTHENTICATION_ERROR, denied.errorType().orElseThrow());
    }

    @Test
    void countTokensAnswersAnEstimate() {
        long n = client.messages()
                .countTokens(MessageCountTokensParams.builder()
                        .model(MODEL)
                        .system("You are terse.")
                        .addUserMessage("How many tokens is this sentence, roughly?")
                        .build())
                .inputTokens();
        Recorded r = fake.lastRequest();
        assertEquals(FakeAnthropic.COUNT_TOKENS, r.path());
        assertFalse(r.json().has("max_tokens"), "count_tokens takes no max_tokens");
        assertEquals(FakeAnthropic.estimateTokens(r.json()), n);
        assertTrue(n > 10 && n < 40, "about a quarter of the characters: " + n);
    }

    @Test
    void refusesWhatAnthropicRefuses() throws IOException {
        String ok = "{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        assertEquals(200, raw(ok, true, true).status());

        RawHttp.Response noVersion = raw(ok, true, false);
        assertEquals(400, noVersion.status());
        assertError(noVersion, "invalid_request_error", "anthropic-version: header is required");
        assertError(raw(ok, false, true), "authentication_error", "invalid x-api-key");

        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"system\",\"content\":\"be nice\"},"
                        + "{\"role\":\"user\",\"content\":\"hi\"}]}"),
                "invalid_request_error",
                "messages.0: Unexpected role \"system\"");
        assertError(
                raw("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
                "invalid_request_error",
                "max_tokens: Field required");
        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"messages\":[]}"),
                "invalid_request_error",
                "messages: at least one message is required");
        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                        + "{\"role\":\"user\",\"content\":\"b\"}]}"),
                "invalid_request_error",
                "messages: roles must alternate");
        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"assistant\",\"content\":\"a\"}]}"),
                "invalid_request_error",
                "messages: first message must use the \"user\" role");
        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"stream_options\":{},\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"a\"}]}"),
                "invalid_request_error",
                "stream_options: Extra inputs are not permitted");
        assertError(
                raw("{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                        + "{\"role\":\"assistant\",\"content\":\"b \"}]}"),
                "invalid_request_error",
                "messages: final assistant content cannot end with trailing whitespace");
        String warm = "{\"model\":\"m\",\"max_tokens\":10,\"temperature\":0.2,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"a\"}]}";
        assertEquals(200, raw(warm).status(), "2023-06-01 takes a temperature");
        try (RawHttp http = new RawHttp(fake.port())) {
            http.write("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + FakeAnthropic.API_KEY + "\r\nanthropic-version: 2026-10-21\r\n"
                    + "Content-Length: " + warm.length() + "\r\n\r\n" + warm);
            assertError(http.read(), "invalid_request_error", "temperature: Extra inputs are not permitted");
        }
        assertEquals(12, fake.requests.size(), "refused requests are recorded too");
    }

    private RawHttp.Response raw(String body) throws IOException {
        return raw(body, true, true);
    }

    private RawHttp.Response raw(String body, boolean key, boolean version) throws IOException {
        try (RawHttp http = new RawHttp(fake.port())) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            http.write("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + (key ? "x-api-key: " + FakeAnthropic.API_KEY + "\r\n" : "")
                    + (version ? "anthropic-version: 2023-06-01\r\n" : "")
                    + "Content-Length: " + bytes.length + "\r\n\r\n" + body);
            return http.read();
        }
    }

    private static void assertError(RawHttp.Response r, String type, String messageStart) throws IOException {
        JsonNode body = JSON.readTree(r.body());
        assertEquals(FakeAnthropic.statusOf(type), r.status(), r.body());
        assertEquals("error", body.get("type").asText());
        assertEquals(type, body.at("/error/type").asText(), r.body());
        assertTrue(body.at("/error/message").asText().startsWith(messageStart), r.body());
        assertEquals(r.header("request-id"), body.get("request_id").asText());
    }

    @Test
    void closesAKeepAliveConnectionLeftIdleLikeNode() throws Exception {
        fake.idleCloseMillis(300);
        String ok = "{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String request = "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "x-api-key: " + FakeAnthropic.API_KEY + "\r\nanthropic-version: 2023-06-01\r\n"
                + "Content-Length: " + ok.length() + "\r\n\r\n" + ok;
        try (RawHttp http = new RawHttp(fake.port())) {
            http.write(request);
            assertEquals(200, http.read().status());
            Thread.sleep(100);
            http.write(request);
            assertEquals(200, http.read().status(), "a connection reused within the idle time is kept");
            long t0 = System.nanoTime();
            assertTrue(http.closedByPeer(), "idle past 300 ms, the fake closed it");
            long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(after >= 200, "closed " + after + " ms after the response, not at once");
        }
        assertEquals(1, fake.connectionsOpened.get());
        assertEquals(1, fake.idleClosed.get());
    }
}
