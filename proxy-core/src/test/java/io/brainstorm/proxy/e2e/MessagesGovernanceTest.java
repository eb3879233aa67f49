package io.brainstorm.proxy.e2e;

import static io.brainstorm.proxy.metrics.ExpositionText.sample;
import static io.brainstorm.proxy.metrics.ExpositionText.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.HttpResponseFor;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.PaymentRequiredException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.ErrorType;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.StopReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.e2e.FakeAnthropic.Answer;
import io.brainstorm.proxy.e2e.FakeAnthropic.Event;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.testing.ManualClock;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Governance of {@code POST /v1/messages} (the Anthropic Messages API inbound) as for chat
 * completions (docs/architecture.md §3, §6, §8, §9): budgets reserved and settled, rate limits,
 * tenant isolation, the audit record, {@code /metrics}, scoring of {@code tool_use} input against
 * its {@code input_schema}, and routing variants in the model name. Every refusal is in Anthropic's
 * error shape ({@code translate.MessagesErrors}), which the official Anthropic Java SDK raises as
 * its matching exception.
 *
 * <p>Two upstreams: the built-in sim ({@code sim/alpha}, OpenAI-format, its answers translated into
 * Anthropic's shape) and {@link FakeAnthropic} as a {@code type: anthropic} account ({@code
 * claude-sonnet-4-5}, the client's bytes passed through natively).
 */
class MessagesGovernanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What Claude Code sends: an alias of {@code anthropic/claude-sonnet-4-5}. */
    private static final String CLAUDE = "claude-sonnet-4-5";

    private static final String CLAUDE_ID = "anthropic/claude-sonnet-4-5";
    private static final String WEATHER_SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
            + "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":14}},\"required\":[\"city\",\"days\"],"
            + "\"additionalProperties\":false}";
    private static final String WEATHER_TOOLS =
            "[{\"name\":\"get_weather\",\"description\":\"Weather\",\"input_schema\":" + WEATHER_SCHEMA + "}]";

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final ManualClock clock = new ManualClock();
    private final List<Completion> seen = new CopyOnWriteArrayList<>();
    private final List<AnthropicClient> sdks = new ArrayList<>();
    private FakeAnthropic fake;
    private FakeUpstream openai;
    private GatewayHarness gateway;

    @AfterEach
    void stop() {
        sdks.forEach(AnthropicClient::close);
        if (gateway != null) {
            gateway.close();
        }
        if (fake != null) {
            fake.close();
        }
        if (openai != null) {
            openai.close();
        }
    }

    /**
     * A gateway with the sim and {@link #fake} (taking {@code providerKey}) as its {@code anthropic}
     * account, whose key is in the config when {@code inConfig} (else tenants bring theirs), plus
     * {@code extraYaml} (more providers, keys).
     */
    private void start(String providerKey, boolean inConfig, String extraYaml, InstantSource clock, boolean stateFiles)
            throws Exception {
        fake = new FakeAnthropic(providerKey);
        gateway = new GatewayHarness(
                """
                providers:
                  - name: anthropic
                    type: anthropic
                    base_url: %s
                %s
                """.formatted(fake.baseUrl(), inConfig ? "    api_key: " + providerKey : "") + extraYaml,
                clock,
                stateFiles);
        gateway.server.gateway().completions().add(seen::add);
    }

    /** The official SDK pointed at the gateway: its base URL is the origin, it adds /v1/messages. */
    private AnthropicClient sdk(String key) {
        AnthropicClient c = AnthropicOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + gateway.port())
                .apiKey(key)
                .maxRetries(0)
                .build();
        sdks.add(c);
        return c;
    }

    private static MessageCreateParams ask(String model) {
        return MessageCreateParams.builder()
                .model(model)
                .maxTokens(16)
                .addUserMessage("Say hello")
                .build();
    }

    private static String body(String model, boolean stream, String extra) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":16,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]"
                + (stream ? ",\"stream\":true" : "")
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    /** {@code POST path} with the key in {@code x-api-key}, as Claude Code sends it. */
    private HttpRequest post(String path, String key, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .timeout(Duration.ofSeconds(20))
                .header("x-api-key", key)
                .header("anthropic-version", "2023-06-01")
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private HttpResponse<String> messages(String key, String body) throws Exception {
        return http.send(post("/v1/messages", key, body), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> chat(String key, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .timeout(Duration.ofSeconds(20))
                        .header("Authorization", "Bearer " + key)
                        .header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String chatBody(String model) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":16,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
    }

    /** Anthropic's error shape, {@code {"type":"error","error":{"type","message"}}}: its error object. */
    private static JsonNode anthropicError(HttpResponse<String> r, int status, String type) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode root = JSON.readTree(r.body());
        assertEquals("error", root.path("type").asText(), r.body());
        JsonNode e = root.path("error");
        assertEquals(type, e.path("type").asText(), r.body());
        assertFalse(e.path("message").asText().isEmpty(), r.body());
        assertTrue(
                r.headers().firstValue("content-type").orElse("").startsWith("application/json"),
                r.headers().toString());
        return e;
    }

    /** The events of a streamed answer, checked to end with {@code message_delta} and {@code message_stop}. */
    private static List<Event> events(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<Event> events = FakeAnthropic.parseSse(r.body());
        assertTrue(events.size() >= 3, r.body());
        assertEquals("message_start", events.get(0).name(), r.body());
        assertEquals("message_delta", events.get(events.size() - 2).name(), r.body());
        assertEquals("message_stop", events.get(events.size() - 1).name(), r.body());
        return events;
    }

    /** The stream's last {@code message_delta}, which carries the gateway's {@code usage.cost} and {@code x_br}. */
    private static JsonNode lastDelta(HttpResponse<String> r) {
        List<Event> events = events(r);
        return events.get(events.size() - 2).json();
    }

    /** What the client was told it cost: {@code X-BR-Actual-Cost}, or a stream's {@code message_delta.usage.cost}. */
    private static BigDecimal told(HttpResponse<String> r) {
        if (r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
            JsonNode cost = lastDelta(r).path("usage").path("cost");
            assertTrue(cost.isNumber(), r.body());
            return cost.decimalValue();
        }
        return new BigDecimal(r.headers().firstValue("x-br-actual-cost").orElseThrow());
    }

    private JsonNode usage(String key) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/usage"))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> admin(String token, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.server.adminPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Completion completionOf(HttpResponse<String> r) throws InterruptedException {
        String id = r.headers().firstValue("x-br-request-id").orElseThrow();
        assertTrue(
                GatewayHarness.eventually(
                        5_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(id))),
                id);
        return seen.stream().filter(c -> c.requestId().equals(id)).findFirst().orElseThrow();
    }

    private static String header(HttpResponse<String> r, String name) {
        return r.headers().firstValue(name).orElseThrow(() -> new AssertionError("no " + name + ": " + r.headers()));
    }

    @Test
    void aBudgetIsChargedThroughMessagesNeverOverspentAndThenRefusedWithBillingError() throws Exception {
        String limited = ApiKeys.generate();
        // a native answer costs 25 x $3 + 7 x $15 per million = $0.00018; its worst case a little more
        BigDecimal budget = new BigDecimal("0.0036");
        start(
                FakeAnthropic.API_KEY,
                true,
                "keys:\n  - {name: limited, sha256: %s, daily_budget_usd: %s}\n"
                        .formatted(ApiKeys.sha256(limited), budget.toPlainString()),
                clock,
                true);
        fake.byDefault(Answer.text("Hello", " there").usage(25, 7));

        // native and translated, whole and streamed, all at once
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            String model = i % 2 == 0 ? CLAUDE : "sim/alpha";
            calls.add(http.sendAsync(
                    post("/v1/messages", limited, body(model, i % 4 >= 2, "")), HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int native200 = 0;
        BigDecimal told = BigDecimal.ZERO;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.join();
            if (r.statusCode() == 200) {
                ok++;
                if (header(r, "x-br-endpoint").equals("anthropic")) {
                    native200++;
                }
                told = told.add(told(r));
                assertTrue(r.headers().firstValue("x-br-budget-remaining").isPresent(), "says what is left");
            } else if (r.statusCode() == 429) {
                // requests in flight held the rest: budget_busy, retried soon
                JsonNode e = anthropicError(r, 429, "rate_limit_error");
                assertTrue(e.path("message").asText().startsWith("budget_busy"), r.body());
                assertTrue(
                        r.headers().firstValue("retry-after").isPresent(),
                        r.headers().toString());
            } else {
                JsonNode e = anthropicError(r, 402, "billing_error");
                assertTrue(e.path("message").asText().startsWith("budget_exceeded: "), r.body());
                assertTrue(e.path("message").asText().contains("resets at"), r.body());
            }
        }
        assertTrue(told.compareTo(budget) <= 0, "told " + told + " > budget " + budget);
        assertTrue(ok >= 8, "the budget covers about 20 answers; " + ok + " got through");
        assertEquals(native200, fake.requests.size(), "a refused request never reaches the provider");

        // spend the rest one at a time until the refusal; a stream's worst case is a little larger (its
        // body a little longer), so it may be refused while a whole answer still fits
        HttpResponse<String> refused = null;
        boolean streamsRefused = false;
        for (int i = 0; i < 40 && refused == null; i++) {
            boolean stream = i % 2 == 0 && !streamsRefused;
            HttpResponse<String> r = messages(limited, body(CLAUDE, stream, ""));
            if (r.statusCode() == 200) {
                told = told.add(told(r));
            } else if (stream) {
                anthropicError(r, 402, "billing_error");
                streamsRefused = true;
            } else {
                refused = r;
            }
        }
        assertNotNull(refused, "40 more answers never spent a $" + budget + " budget");
        anthropicError(refused, 402, "billing_error");
        // refused only when what is left is less than one request's worst case: its estimated prompt
        // (about 30 tokens: the estimate is of the body's size, so a few tokens either way) at the
        // dearest cache write, $6, and 16 output tokens at $15 per million, about $0.00042; well under
        // two worst cases, so the budget was not given up early
        BigDecimal left = budget.subtract(told);
        assertTrue(left.compareTo(new BigDecimal("0.0005")) < 0, "refused with $" + left + " left");
        assertTrue(
                refused.headers().firstValue("x-br-request-id").isPresent(),
                refused.headers().toString());
        HttpResponse<String> refusedStream = messages(limited, body(CLAUDE, true, ""));
        anthropicError(refusedStream, 402, "billing_error");
        PaymentRequiredException sdkRefused = assertThrows(
                PaymentRequiredException.class, () -> sdk(limited).messages().create(ask(CLAUDE)));
        assertEquals(402, sdkRefused.statusCode());
        assertEquals(ErrorType.BILLING_ERROR, sdkRefused.errorType().orElseThrow());

        JsonNode u = usage(limited);
        assertEquals(0, new BigDecimal(u.path("spent_usd").asText()).compareTo(told), told + " told, " + u);
        assertEquals(0, new BigDecimal(u.path("reserved_usd").asText()).signum(), "nothing left reserved: " + u);
        assertTrue(told.compareTo(budget) <= 0, "told " + told + " > budget " + budget);
        assertEquals(
                (int) seen.stream().filter(c -> c.status() == 200).count(),
                u.path("requests").asInt(),
                "every answer and only answers counted: " + u);

        clock.advance(Duration.ofDays(1));
        assertEquals(200, messages(limited, body(CLAUDE, false, "")).statusCode(), "a new day, a new budget");
    }

    @Test
    void streamedCostsWhatWholeCostsAndBrokenOrLeftStreamsAreChargedAndReleased() throws Exception {
        String budgeted = ApiKeys.generate();
        start(
                FakeAnthropic.API_KEY,
                true,
                "keys:\n  - {name: budgeted, sha256: %s, daily_budget_usd: 1}\n".formatted(ApiKeys.sha256(budgeted)),
                InstantSource.system(),
                false);
        // 40 x $3 + 100 x $3.75 + 50 x $6 + 400 x $0.30 + 9 x $15, per million
        BigDecimal expected = new BigDecimal("0.00105");
        fake.enqueue(
                Answer.text("Hello", " there").usage(40, 9).cache(100, 50, 400),
                Answer.text("Hello", " there").usage(40, 9).cache(100, 50, 400),
                Answer.text("Hello", " there").usage(40, 9).cache(100, 50, 400).outputOnlyDeltaUsage());
        BigDecimal told = BigDecimal.ZERO;
        for (boolean stream : new boolean[] {false, true, true}) {
            HttpResponse<String> r = messages(budgeted, body(CLAUDE, stream, ""));
            assertEquals(0, expected.compareTo(told(r)), stream + ": " + r.headers() + " " + r.body());
            told = told.add(told(r));
            if (stream) {
                JsonNode xbr = lastDelta(r).path("x_br");
                assertEquals(0, expected.compareTo(xbr.path("actual_cost").decimalValue()), xbr.toString());
                // what is left once this answer is settled, as a chat stream's x_br says
                assertTrue(xbr.path("budget_remaining").isNumber(), xbr.toString());
                assertEquals(
                        0,
                        new BigDecimal(usage(budgeted).path("remaining_usd").asText())
                                .compareTo(xbr.path("budget_remaining").decimalValue()),
                        xbr.toString());
            }
        }

        // with te: trailers the cost goes in the trailers too, as on a chat stream
        fake.enqueue(Answer.text("Hello", " there").usage(40, 9).cache(100, 50, 400));
        try (RawHttp raw = new RawHttp(gateway.port())) {
            String request = RawHttp.post("/v1/messages", budgeted, body(CLAUDE, true, ""));
            raw.write(request.replace("Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nTE: trailers\r\n"));
            RawHttp.Response r = raw.read();
            assertEquals(200, r.status(), r.body());
            List<Event> ev = FakeAnthropic.parseSse(r.body());
            JsonNode delta = ev.get(ev.size() - 2).json();
            assertEquals(0, expected.compareTo(delta.path("usage").path("cost").decimalValue()), r.body());
            assertEquals(
                    0,
                    expected.compareTo(new BigDecimal(r.trailers().getOrDefault("x-br-actual-cost", "-1"))),
                    r.trailers().toString());
            told = told.add(expected);
        }

        // a stream Anthropic breaks off: the client gets Anthropic's error event and is charged what was relayed
        fake.enqueue(
                Answer.text("Hel", "lo", " the", "re").usage(25, 4).errorAfter(5, "overloaded_error", "Overloaded"));
        HttpResponse<String> broken = messages(budgeted, body(CLAUDE, true, ""));
        assertEquals(200, broken.statusCode(), broken.body());
        List<Event> events = FakeAnthropic.parseSse(broken.body());
        Event last = events.get(events.size() - 1);
        assertEquals("error", last.name(), broken.body());
        assertFalse(events.stream().anyMatch(e -> e.name().equals("message_stop")), "a cut answer never looks whole");
        JsonNode error = last.json();
        assertEquals("error", error.path("type").asText());
        assertFalse(error.path("error").path("type").asText().isEmpty(), broken.body());
        BigDecimal brokenCost = error.path("x_br").path("actual_cost").decimalValue();
        assertTrue(brokenCost.signum() > 0, "a broken stream is charged: " + broken.body());
        told = told.add(brokenCost);
        Completion b = completionOf(broken);
        assertEquals("messages", b.operation());
        assertEquals(0, brokenCost.compareTo(usd(b.costNanoUsd())), b.toString());

        // a client that leaves mid-stream: its reservation goes back, what it got is charged
        fake.eventDelay(100).enqueue(Answer.text("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"));
        try (RawHttp raw = new RawHttp(gateway.port())) {
            raw.write(RawHttp.post("/v1/messages", budgeted, body(CLAUDE, true, "")));
            assertEquals(200, raw.readHead());
            raw.readUntil("text_delta");
        }
        assertTrue(GatewayHarness.eventually(5_000, () -> seen.size() == 6), "the left stream's completion: " + seen);
        fake.eventDelay(0);
        Completion left = seen.get(5);
        assertEquals("messages", left.operation());
        assertTrue(left.costNanoUsd() > 0, left.toString());
        told = told.add(usd(left.costNanoUsd()));
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.server.gateway().inFlight() == 0));
        JsonNode u = usage(budgeted);
        assertEquals(0, new BigDecimal(u.path("reserved_usd").asText()).signum(), "nothing left reserved: " + u);
        assertEquals(0, told.compareTo(new BigDecimal(u.path("spent_usd").asText())), told + " told, " + u);
        assertEquals(6, u.path("requests").asInt(), u.toString());
    }

    @Test
    void whenEveryAttemptFailsTheClientGetsAnthropicsErrorShapeAndTheRecordSaysSo() throws Exception {
        start(FakeAnthropic.API_KEY, true, "", InstantSource.system(), false);
        fake.byDefault(Answer.overloaded());
        // the gateway failed over already: 502 upstream_error, which no client should retry
        HttpResponse<String> r = messages(gateway.apiKey, body(CLAUDE, false, ""));
        JsonNode e = anthropicError(r, 502, "api_error");
        assertTrue(e.path("message").asText().startsWith("upstream_error: "), r.body());
        assertEquals("false", header(r, "x-should-retry"));
        assertTrue(
                r.headers().firstValue("x-br-request-id").isPresent(),
                r.headers().toString());
        HttpResponse<String> s = messages(gateway.apiKey, body(CLAUDE, true, ""));
        anthropicError(s, 502, "api_error");
        AnthropicServiceException sdkError = assertThrows(
                AnthropicServiceException.class,
                () -> sdk(gateway.apiKey).messages().create(ask(CLAUDE)));
        assertEquals(r.statusCode(), sdkError.statusCode());
        assertEquals(e.path("type").asText(), sdkError.errorType().orElseThrow().asString(), sdkError.toString());
        HttpResponse<String> chat = chat(gateway.apiKey, chatBody(CLAUDE));
        assertEquals(r.statusCode(), chat.statusCode(), chat.body());
        Completion m = completionOf(r);
        Completion c = completionOf(chat);
        assertEquals("messages", m.operation());
        assertEquals(c.status(), m.status());
        assertEquals(c.errorCode(), m.errorCode());
        assertEquals(c.endpoint(), m.endpoint());

        // Anthropic's 429 puts the key's account on hold: the next request is refused before any provider
        fake.byDefault(Answer.text("Hello")).enqueue(Answer.rateLimited("30"));
        HttpResponse<String> limited = messages(gateway.apiKey, body(CLAUDE, false, ""));
        // no other account serves the model: every attempt failed, as on chat (docs/architecture.md §3)
        JsonNode le = anthropicError(limited, 502, "api_error");
        assertTrue(le.path("message").asText().startsWith("upstream_error: "), limited.body());
        int calls = fake.requests.size();
        HttpResponse<String> held = messages(gateway.apiKey, body(CLAUDE, false, ""));
        anthropicError(held, 503, "overloaded_error");
        long retryAfter = Long.parseLong(header(held, "retry-after"));
        assertTrue(retryAfter >= 1 && retryAfter <= 30, "retry-after " + retryAfter);
        assertEquals(calls, fake.requests.size(), "the held account is not asked");
        HttpResponse<String> chatHeld = chat(gateway.apiKey, chatBody(CLAUDE));
        assertEquals(503, chatHeld.statusCode(), chatHeld.body());
        assertEquals(completionOf(chatHeld).errorCode(), completionOf(held).errorCode());
    }

    @Test
    void aKeysModelListHoldsForTheNamesAnthropicsClientsSend() throws Exception {
        String claudeOnly = ApiKeys.generate();
        String simOnly = ApiKeys.generate();
        start(
                FakeAnthropic.API_KEY,
                true,
                """
                keys:
                  - {name: claude-only, sha256: %s, models: [%s]}
                  - {name: sim-only, sha256: %s, models: [sim/alpha]}
                audit:
                  record_content: true
                """.formatted(ApiKeys.sha256(claudeOnly), CLAUDE_ID, ApiKeys.sha256(simOnly)),
                InstantSource.system(),
                false);
        // the alias and the dated name are the allowed model
        for (String name : List.of(CLAUDE, "claude-sonnet-4-5-20250929", CLAUDE_ID)) {
            HttpResponse<String> r = messages(claudeOnly, body(name, false, ""));
            assertEquals(200, r.statusCode(), name + ": " + r.body());
        }
        assertEquals("Say hello", fake.lastRequest().lastUserText(), "the client's own body went to Anthropic");
        HttpResponse<String> refused = messages(simOnly, body(CLAUDE, false, ""));
        JsonNode e = anthropicError(refused, 403, "permission_error");
        assertTrue(e.path("message").asText().startsWith("model_not_allowed: "), refused.body());
        HttpResponse<String> chatRefused = chat(simOnly, chatBody(CLAUDE));
        assertEquals(403, chatRefused.statusCode());
        assertEquals(
                "model_not_allowed: "
                        + JSON.readTree(chatRefused.body())
                                .path("error")
                                .path("message")
                                .asText(),
                e.path("message").asText(),
                "the same refusal as on chat completions");
        assertThrows(
                com.anthropic.errors.PermissionDeniedException.class,
                () -> sdk(simOnly).messages().create(ask(CLAUDE)));
        assertEquals(3, fake.requests.size(), "refused requests reach no provider");

        // with audit.record_content, the prompt and the answer as the client saw them
        fake.enqueue(Answer.text("Hi", " from", " Claude"), Answer.text("Streamed", " hi"));
        HttpResponse<String> whole = messages(claudeOnly, body(CLAUDE, false, ""));
        HttpResponse<String> streamed = messages(claudeOnly, body(CLAUDE, true, ""));
        HttpResponse<String> sim = messages(simOnly, body("sim/alpha", true, ""));
        events(streamed);
        Completion w = completionOf(whole);
        assertTrue(w.prompt() != null && w.prompt().contains("Say hello"), w.toString());
        assertEquals("Hi from Claude", w.answer(), w.toString());
        Completion s = completionOf(streamed);
        assertTrue(s.prompt() != null && s.prompt().contains("Say hello"), s.toString());
        assertEquals("Streamed hi", s.answer(), s.toString());
        Completion t = completionOf(sim);
        StringBuilder text = new StringBuilder();
        for (Event ev : events(sim)) {
            JsonNode d = ev.json().path("delta");
            if (ev.name().equals("content_block_delta")
                    && d.path("type").asText().equals("text_delta")) {
                text.append(d.path("text").asText());
            }
        }
        assertFalse(text.toString().isEmpty(), sim.body());
        assertEquals(text.toString(), t.answer(), t.toString());
    }

    @Test
    void tokensPerMinuteCountTheMessagesMaxTokens() throws Exception {
        String limited = ApiKeys.generate();
        start(
                FakeAnthropic.API_KEY,
                true,
                "keys:\n  - {name: limited, sha256: %s, tpm: 600}\n".formatted(ApiKeys.sha256(limited)),
                clock,
                false);
        // a worst case of the prompt and 16 tokens fits; 1,000 tokens do not
        assertEquals(200, messages(limited, body(CLAUDE, false, "")).statusCode());
        HttpResponse<String> r =
                messages(limited, body(CLAUDE, false, "").replace("\"max_tokens\":16", "\"max_tokens\":1000"));
        JsonNode e = anthropicError(r, 429, "rate_limit_error");
        assertTrue(e.path("message").asText().startsWith("rate_limited: "), r.body());
        assertTrue(
                r.headers().firstValue("retry-after").isPresent(), r.headers().toString());
        assertEquals(1, fake.requests.size(), "the refused request never reached the provider");
        assertEquals(200, messages(limited, body(CLAUDE, true, "")).statusCode(), "a small one still fits");
    }

    @Test
    void requestsPerMinuteAre429RateLimitErrorWithRetryAfter() throws Exception {
        String limited = ApiKeys.generate();
        start(
                FakeAnthropic.API_KEY,
                true,
                "keys:\n  - {name: limited, sha256: %s, rpm: 3}\n".formatted(ApiKeys.sha256(limited)),
                clock,
                false);
        assertEquals(200, messages(limited, body("sim/alpha", false, "")).statusCode());
        assertEquals(200, messages(limited, body(CLAUDE, true, "")).statusCode());
        assertEquals(
                StopReason.END_TURN,
                sdk(limited).messages().create(ask(CLAUDE)).stopReason().orElseThrow());

        HttpResponse<String> r = messages(limited, body(CLAUDE, false, ""));
        JsonNode e = anthropicError(r, 429, "rate_limit_error");
        assertTrue(e.path("message").asText().startsWith("rate_limited: "), r.body());
        long retryAfter = Long.parseLong(header(r, "retry-after"));
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "retry-after " + retryAfter);
        RateLimitException sdkRefused = assertThrows(
                RateLimitException.class, () -> sdk(limited).messages().create(ask(CLAUDE)));
        assertEquals(ErrorType.RATE_LIMIT_ERROR, sdkRefused.errorType().orElseThrow());
        assertTrue(
                sdkRefused.headers().values("retry-after").size() == 1,
                sdkRefused.headers().toString());
        assertEquals(2, fake.requests.size(), "the limited requests never reached the provider");

        assertEquals(200, messages(gateway.apiKey, body(CLAUDE, false, "")).statusCode(), "another key is not limited");
        clock.advance(Duration.ofSeconds(retryAfter));
        assertEquals(200, messages(limited, body(CLAUDE, false, "")).statusCode(), "the next minute");
    }

    @Test
    void aTenantsAnthropicKeyServesOnlyItsOwnMessages() throws Exception {
        String acmeProviderKey = "sk-ant-acme-" + "A".repeat(24);
        // the fake takes only acme's key
        start(acmeProviderKey, false, "", InstantSource.system(), true);
        String root = gateway.adminToken;
        Map<String, String> keys = new HashMap<>();
        for (String t : List.of("acme", "globex")) {
            assertEquals(
                    201,
                    admin(root, "POST", "/admin/v1/tenants", "{\"id\":\"" + t + "\",\"name\":\"" + t + "\"}")
                            .statusCode());
            HttpResponse<String> k =
                    admin(root, "POST", "/admin/v1/tenants/" + t + "/keys", "{\"name\":\"" + t + "-app\"}");
            assertEquals(201, k.statusCode(), k.body());
            keys.put(t, JSON.readTree(k.body()).get("key").asText());
        }
        HttpResponse<String> put = admin(
                root, "PUT", "/admin/v1/tenants/acme/providers/anthropic", "{\"api_key\":\"" + acmeProviderKey + "\"}");
        assertEquals(201, put.statusCode(), put.body());

        HttpResponse<String> acme = messages(keys.get("acme"), body(CLAUDE, false, ""));
        assertEquals(200, acme.statusCode(), acme.body());
        assertEquals("anthropic", header(acme, "x-br-endpoint"));
        assertEquals(acmeProviderKey, fake.lastRequest().header("x-api-key"), "acme's own provider key went");
        String feedback = "{\"request_id\":\"" + header(acme, "x-br-request-id") + "\",\"score\":1}";
        HttpResponse<String> globexFeedback =
                http.send(post("/v1/feedback", keys.get("globex"), feedback), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, globexFeedback.statusCode(), "globex cannot score acme's answer: " + globexFeedback.body());
        HttpResponse<String> acmeFeedback =
                http.send(post("/v1/feedback", keys.get("acme"), feedback), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, acmeFeedback.statusCode(), acmeFeedback.body());
        assertEquals(
                CLAUDE_ID + "@anthropic",
                JSON.readTree(acmeFeedback.body()).path("endpoint").asText(),
                acmeFeedback.body());

        int calls = fake.requests.size();
        HttpResponse<String> globex = messages(keys.get("globex"), body(CLAUDE, false, ""));
        JsonNode e = anthropicError(globex, 404, "not_found_error");
        HttpResponse<String> globexChat = chat(keys.get("globex"), chatBody(CLAUDE));
        assertEquals(404, globexChat.statusCode(), globexChat.body());
        JsonNode chatError = JSON.readTree(globexChat.body()).path("error");
        assertEquals("model_not_found", chatError.path("code").asText(), globexChat.body());
        assertEquals(
                "model_not_found: " + chatError.path("message").asText(),
                e.path("message").asText(),
                "the same refusal as on chat completions");
        assertTrue(e.path("message").asText().contains("no provider key"), globex.body());
        NotFoundException sdkRefused = assertThrows(
                NotFoundException.class,
                () -> sdk(keys.get("globex")).messages().create(ask(CLAUDE)));
        assertEquals(ErrorType.NOT_FOUND_ERROR, sdkRefused.errorType().orElseThrow());
        HttpResponse<String> defaultTenant = messages(gateway.apiKey, body(CLAUDE_ID, true, ""));
        anthropicError(defaultTenant, 404, "not_found_error");
        assertEquals(calls, fake.requests.size(), "refused requests reach no provider");
        assertEquals(0, usage(keys.get("globex")).path("requests").asInt());
        assertEquals(1, usage(keys.get("acme")).path("requests").asInt());
    }

    @Test
    void messagesAreAuditedAndCountedLikeChatRequests() throws Exception {
        String broke = ApiKeys.generate();
        start(
                FakeAnthropic.API_KEY,
                true,
                "keys:\n  - {name: broke, sha256: %s, daily_budget_usd: 0.000001}\n".formatted(ApiKeys.sha256(broke)),
                InstantSource.system(),
                false);
        String keyId = gateway.registry.authenticate("Bearer " + gateway.apiKey).id();
        fake.enqueue(
                Answer.text("Hello", " there").usage(40, 9).cache(100, 50, 400),
                Answer.text("Hel", "lo", " again").usage(41, 3).cache(0, 20, 300));

        HttpResponse<String> nativeWhole = messages(gateway.apiKey, body(CLAUDE, false, ""));
        assertEquals(200, nativeWhole.statusCode(), nativeWhole.body());
        HttpResponse<String> nativeStream = messages(gateway.apiKey, body(CLAUDE, true, ""));
        events(nativeStream);
        try (HttpResponseFor<Message> raw =
                sdk(gateway.apiKey).messages().withRawResponse().create(ask("sim/alpha"))) {
            assertFalse(raw.parse().content().isEmpty());
            assertEquals(
                    "sim/alpha", raw.headers().values("x-br-selected-model").get(0));
            String id = raw.headers().values("x-br-request-id").get(0);
            assertTrue(GatewayHarness.eventually(
                    5_000, () -> seen.stream().anyMatch(c -> c.requestId().equals(id))));
            Completion c = seen.stream()
                    .filter(x -> x.requestId().equals(id))
                    .findFirst()
                    .orElseThrow();
            assertEquals("messages", c.operation());
            assertEquals("sim/alpha", c.requestedModel());
            assertEquals(
                    0, new BigDecimal(raw.headers().values("x-br-actual-cost").get(0)).compareTo(usd(c.costNanoUsd())));
        }
        HttpResponse<String> simStream = messages(gateway.apiKey, body("sim/alpha", true, ""));
        events(simStream);
        HttpResponse<String> unknownKey = messages("br_live_" + "y".repeat(43), body(CLAUDE, false, ""));
        anthropicError(unknownKey, 401, "authentication_error");
        assertThrows(
                UnauthorizedException.class,
                () -> sdk("br_live_" + "y".repeat(43)).messages().create(ask(CLAUDE)));
        HttpResponse<String> countUnknownKey = http.send(
                post(
                        "/v1/messages/count_tokens",
                        "br_live_" + "y".repeat(43),
                        "{\"model\":\"" + CLAUDE + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
                HttpResponse.BodyHandlers.ofString());
        anthropicError(countUnknownKey, 401, "authentication_error");
        HttpResponse<String> chatUnknownKey = chat("br_live_" + "y".repeat(43), chatBody(CLAUDE));
        assertEquals(401, chatUnknownKey.statusCode());
        HttpResponse<String> overBudget = messages(broke, body(CLAUDE, false, ""));
        anthropicError(overBudget, 402, "billing_error");
        HttpResponse<String> chatOverBudget = chat(broke, chatBody(CLAUDE));
        assertEquals(402, chatOverBudget.statusCode());

        List<HttpResponse<String>> all =
                List.of(nativeWhole, nativeStream, simStream, unknownKey, chatUnknownKey, overBudget, chatOverBudget);
        Map<String, JsonNode> byId = new HashMap<>();
        assertTrue(
                GatewayHarness.eventually(5_000, () -> {
                    try {
                        byId.clear();
                        JSON.readTree(admin(gateway.adminToken, "GET", "/admin/v1/audit?limit=1000", null)
                                        .body())
                                .get("data")
                                .forEach(r -> byId.put(r.get("request_id").asText(), r));
                        return all.stream().allMatch(r -> byId.containsKey(header(r, "x-br-request-id")));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }),
                () -> "audited: " + byId.keySet());

        // native, whole: tokens with the cache's, the cost the client was told
        JsonNode w = byId.get(header(nativeWhole, "x-br-request-id"));
        assertEquals("messages", w.get("operation").asText(), w.toString());
        assertEquals("default", w.get("tenant").asText());
        assertEquals(keyId, w.get("key_id").asText());
        assertEquals(CLAUDE, w.get("requested_model").asText());
        assertEquals(CLAUDE_ID, w.get("selected_model").asText());
        assertEquals(
                header(nativeWhole, "x-br-selected-model"),
                w.get("selected_model").asText());
        assertEquals("anthropic", w.get("endpoint").asText());
        assertEquals(header(nativeWhole, "x-br-strategy"), w.get("strategy").asText());
        assertEquals(200, w.get("status").asInt());
        assertTrue(w.get("error_code").isNull(), w.toString());
        assertFalse(w.get("stream").asBoolean());
        assertEquals(40 + 150 + 400, w.get("prompt_tokens").asLong(), "input + cache writes + cache read");
        assertEquals(400, w.get("cached_tokens").asLong());
        assertEquals(150, w.get("cache_write_tokens").asLong());
        assertEquals(9, w.get("completion_tokens").asLong());
        // 40 x $3 + 100 x $3.75 + 50 x $6 + 400 x $0.30 + 9 x $15, per million
        assertEquals(0, new BigDecimal("0.00105").compareTo(w.get("cost_usd").decimalValue()), w.toString());
        assertEquals(0, told(nativeWhole).compareTo(w.get("cost_usd").decimalValue()), w.toString());
        assertEquals(1.0, w.get("score").asDouble(), w.toString());

        // native, streamed
        JsonNode s = byId.get(header(nativeStream, "x-br-request-id"));
        assertEquals("messages", s.get("operation").asText());
        assertTrue(s.get("stream").asBoolean());
        assertEquals(CLAUDE_ID, s.get("selected_model").asText());
        assertEquals("anthropic", s.get("endpoint").asText());
        assertEquals(41 + 20 + 300, s.get("prompt_tokens").asLong(), s.toString());
        assertEquals(300, s.get("cached_tokens").asLong());
        assertEquals(20, s.get("cache_write_tokens").asLong());
        assertEquals(3, s.get("completion_tokens").asLong());
        assertEquals(0, told(nativeStream).compareTo(s.get("cost_usd").decimalValue()), s.toString());
        assertTrue(s.get("ttft_ms").asDouble() > 0, s.toString());
        JsonNode xbr = lastDelta(nativeStream).path("x_br");
        assertEquals(
                header(nativeStream, "x-br-request-id"), xbr.path("request_id").asText());
        assertEquals("anthropic", xbr.path("endpoint").asText());

        // translated, streamed
        JsonNode t = byId.get(header(simStream, "x-br-request-id"));
        assertEquals("messages", t.get("operation").asText());
        assertEquals("sim/alpha", t.get("requested_model").asText());
        assertEquals(header(simStream, "x-br-endpoint"), t.get("endpoint").asText());
        assertTrue(
                t.get("prompt_tokens").asLong() > 0
                        && t.get("completion_tokens").asLong() > 0,
                t.toString());
        assertEquals(0, told(simStream).compareTo(t.get("cost_usd").decimalValue()), t.toString());

        // refused ones are recorded as refused chat requests are, with their operation
        assertRefusedLikeChat(
                byId.get(header(unknownKey, "x-br-request-id")),
                byId.get(header(chatUnknownKey, "x-br-request-id")),
                401,
                "invalid_api_key");
        JsonNode k = byId.get(header(unknownKey, "x-br-request-id"));
        assertTrue(k.get("key_id").isNull() && k.get("tenant").isNull(), k.toString());
        assertRefusedLikeChat(
                byId.get(header(overBudget, "x-br-request-id")),
                byId.get(header(chatOverBudget, "x-br-request-id")),
                402,
                "budget_exceeded");
        assertEquals(
                CLAUDE,
                byId.get(header(overBudget, "x-br-request-id"))
                        .get("requested_model")
                        .asText());

        // /metrics counts them under the labels chat requests have (there is no operation label)
        int requests = all.size() + 2;
        assertTrue(
                GatewayHarness.eventually(2_000, () -> {
                    try {
                        return sum(scrape(), "brainstorm_requests_total") == requests;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }),
                "brainstorm_requests_total never summed to " + requests);
        String x = scrape();
        assertEquals(
                "2",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"" + CLAUDE_ID
                                + "\",endpoint=\"anthropic\",strategy=\"direct\",status=\"200\"}"),
                x);
        assertEquals(
                "3",
                sample(
                        x,
                        "brainstorm_requests_total{model=\"none\",endpoint=\"none\",strategy=\"none\",status=\"401\"}"),
                x);
        assertTrue(sum(x, "brainstorm_cost_usd_total") > 0, x);
        assertEquals(2, sum(x, "brainstorm_time_to_first_token_seconds_count"), x);
        assertFalse(x.contains(keyId), "who asked is nowhere");
    }

    private static BigDecimal usd(long nano) {
        return BigDecimal.valueOf(nano, 9).stripTrailingZeros();
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.server.adminPort() + "/metrics"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static void assertRefusedLikeChat(JsonNode messages, JsonNode chat, int status, String code) {
        assertNotNull(messages);
        assertNotNull(chat);
        assertEquals("messages", messages.get("operation").asText(), messages.toString());
        assertEquals("chat", chat.get("operation").asText(), chat.toString());
        for (String field : List.of(
                "status",
                "error_code",
                "tenant",
                "key_id",
                "stream",
                "selected_model",
                "endpoint",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd",
                "score")) {
            assertEquals(chat.get(field), messages.get(field), field + ": " + messages + " vs " + chat);
        }
        assertEquals(status, messages.get("status").asInt());
        assertEquals(code, messages.get("error_code").asText());
    }

    @Test
    void toolUseInputIsScoredAgainstItsInputSchema() throws Exception {
        openai = new FakeUpstream().behave(FakeUpstream.Behaviour.answer("""
                        {"id":"chatcmpl-T","object":"chat.completion","created":1,"model":"gpt-4o-mini",\
                        "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1",\
                        "type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\",\\"days\\":30}"}}]},\
                        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42}}"""));
        start(FakeAnthropic.API_KEY, true, """
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: sk-openai-fake
                """.formatted(openai.baseUrl()), InstantSource.system(), false);
        String tools = "\"tools\":" + WEATHER_TOOLS;

        // the sim calls the tool with input drawn from the schema: valid
        HttpResponse<String> sim = messages(gateway.apiKey, body("sim/alpha", false, tools));
        assertEquals(200, sim.statusCode(), sim.body());
        JsonNode simMessage = JSON.readTree(sim.body());
        assertEquals("tool_use", simMessage.path("stop_reason").asText(), sim.body());
        Completion c = completionOf(sim);
        assertEquals("tools", c.format());
        assertEquals(ScoreOutcome.VALID, c.scoreOutcome(), c.toString());
        assertEquals(1.0, c.score());
        HttpResponse<String> simStream = messages(gateway.apiKey, body("sim/alpha", true, tools));
        assertEquals(1.0, lastDelta(simStream).path("x_br").path("score").asDouble(-1), simStream.body());

        // an OpenAI-format model whose tool call breaks the schema (days over 14): translated, scored 0
        HttpResponse<String> bad = messages(gateway.apiKey, body("openai/gpt-4o-mini", false, tools));
        assertEquals(200, bad.statusCode(), bad.body());
        JsonNode toolUse = JSON.readTree(bad.body()).path("content").path(0);
        assertEquals("tool_use", toolUse.path("type").asText(), bad.body());
        assertEquals(30, toolUse.path("input").path("days").asInt(), "the answer itself is the provider's");
        Completion b = completionOf(bad);
        assertEquals(ScoreOutcome.BAD_ARGUMENTS, b.scoreOutcome(), b.toString());
        assertEquals(0.0, b.score());

        // natively from Anthropic: the same verdicts, whole and streamed
        fake.enqueue(
                Answer.toolUse("toolu_1", "get_weather", "{\"city\": \"Pa", "ris\", \"days\": 3}"),
                Answer.toolUse("toolu_2", "get_weather", "{\"city\": \"Pa", "ris\", \"days\": 30}"),
                Answer.toolUse("toolu_3", "get_weather", "{\"city\": \"Pa", "ris\", \"da", "ys\": 30}"));
        HttpResponse<String> good = messages(gateway.apiKey, body(CLAUDE, false, tools));
        assertEquals(200, good.statusCode(), good.body());
        assertEquals(
                ScoreOutcome.VALID,
                completionOf(good).scoreOutcome(),
                completionOf(good).toString());
        HttpResponse<String> nativeBad = messages(gateway.apiKey, body(CLAUDE, false, tools));
        assertEquals(200, nativeBad.statusCode(), nativeBad.body());
        Completion nb = completionOf(nativeBad);
        assertEquals(ScoreOutcome.BAD_ARGUMENTS, nb.scoreOutcome(), nb.toString());
        assertEquals(0.0, nb.score());
        HttpResponse<String> nativeBadStream = messages(gateway.apiKey, body(CLAUDE, true, tools));
        JsonNode nbs = lastDelta(nativeBadStream);
        assertEquals(0.0, nbs.path("x_br").path("score").asDouble(-1), nativeBadStream.body());
        assertEquals(ScoreOutcome.BAD_ARGUMENTS, completionOf(nativeBadStream).scoreOutcome());
    }

    @Test
    void routingVariantsInTheModelNameAnswerWithTheirStrategy() throws Exception {
        start(FakeAnthropic.API_KEY, true, "", InstantSource.system(), false);
        for (String variant : List.of("floor", "smart", "fast")) {
            String model = "sim/alpha:" + variant;
            HttpResponse<String> r = messages(gateway.apiKey, body(model, false, ""));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(variant, header(r, "x-br-strategy"), model);
            assertEquals("sim/alpha", header(r, "x-br-selected-model"));
            assertEquals(model, JSON.readTree(r.body()).path("model").asText(), "the model the client asked for");
            HttpResponse<String> s = messages(gateway.apiKey, body(model, true, ""));
            assertEquals(variant, header(s, "x-br-strategy"), model);
            assertEquals(variant, lastDelta(s).path("x_br").path("strategy").asText(), s.body());
        }
        // :floor takes the cheapest endpoint of the model
        assertEquals(
                "sim-budget", header(messages(gateway.apiKey, body("sim/alpha:floor", false, "")), "x-br-endpoint"));
        HttpResponse<String> nativeVariant = messages(gateway.apiKey, body(CLAUDE + ":floor", false, ""));
        assertEquals(200, nativeVariant.statusCode(), nativeVariant.body());
        assertEquals("floor", header(nativeVariant, "x-br-strategy"));
        assertEquals(
                "claude-sonnet-4-5-20250929",
                fake.lastRequest().json().path("model").asText(),
                "the variant is the gateway's: Anthropic gets the model's own name");

        HttpResponse<String> auto = messages(gateway.apiKey, body("auto", false, ""));
        assertEquals(200, auto.statusCode(), auto.body());
        assertEquals("auto", header(auto, "x-br-strategy"));
        AnthropicServiceException unknown = assertThrows(
                AnthropicServiceException.class,
                () -> sdk(gateway.apiKey).messages().create(ask("sim/alpha:nonesuch")));
        assertEquals(404, unknown.statusCode());
        assertEquals(ErrorType.NOT_FOUND_ERROR, unknown.errorType().orElseThrow());
    }
}
