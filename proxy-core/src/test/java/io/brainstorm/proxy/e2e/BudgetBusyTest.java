package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A burst on a key with a small daily budget (docs/architecture.md §3, §6): each request reserves its worst case
 * (the prompt estimate plus {@code max_tokens: 1000} of {@code openai/gpt-4o-mini}, about $0.0006)
 * and is charged far less (10 prompt and 250 completion tokens: $0.0001515). While the first
 * requests hold their reservations the rest are told 429 {@code budget_busy}, which SDKs retry;
 * 402 {@code budget_exceeded} comes only once the settled spend truly leaves no room.
 */
class BudgetBusyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigDecimal BUDGET = new BigDecimal("0.01");
    private static final BigDecimal ANSWER_USD = new BigDecimal("0.0001515");
    private static final Pattern BUSY = Pattern.compile("up to \\$([0-9.]+), \\$([0-9.]+) spent today\\), but "
            + "\\$([0-9.]+) of it is held by ([0-9]+) requests? in flight");
    private static final Pattern EXCEEDED = Pattern.compile("cannot cover this request: \\$([0-9.]+) is spent today"
            + " and this request may cost up to \\$([0-9.]+)\\. .* resets at ");
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final String key = ApiKeys.generate();
    private HeldUpstream upstream;
    private GatewayHarness gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private HttpRequest chat() {
        String body = GatewayHarness.chatBody("\"max_tokens\":1000").replace("sim/alpha", "openai/gpt-4o-mini");
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    @Test
    void aBurstIsToldBusyWhileReservationsAreHeldAndExceededOnlyOnceTheSpendIsUsedUp() throws Exception {
        upstream = new HeldUpstream(10, 250);
        gateway = new GatewayHarness(
                """
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: provider-key
                keys:
                  - {name: small, sha256: %s, daily_budget_usd: %s}
                """.formatted(upstream.baseUrl(), ApiKeys.sha256(key), BUDGET.toPlainString()),
                java.time.InstantSource.system(),
                true);

        // the burst: answers are held until every request has been let through or refused
        upstream.hold();
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            burst.add(client.sendAsync(chat(), HttpResponse.BodyHandlers.ofString()));
        }
        assertTrue(
                GatewayHarness.eventually(
                        60_000,
                        () -> upstream.received.get()
                                        + burst.stream()
                                                .filter(CompletableFuture::isDone)
                                                .count()
                                == 200),
                () -> upstream.received.get() + " reached the upstream, "
                        + burst.stream().filter(CompletableFuture::isDone).count() + " were answered, of 200; the"
                        + " gateway was serving " + gateway.server.gateway().inFlight() + "\n" + eventLoopStacks());
        int inFlight = upstream.received.get();
        assertTrue(inFlight >= 10, "the budget holds 16 worst cases; " + inFlight + " got through");
        BigDecimal worst = null;
        for (CompletableFuture<HttpResponse<String>> c : burst) {
            if (!c.isDone()) {
                continue;
            }
            HttpResponse<String> r = c.join();
            assertEquals(429, r.statusCode(), "refused while " + inFlight + " reservations are held: " + r.body());
            JsonNode e = JSON.readTree(r.body()).path("error");
            assertEquals("budget_busy", e.path("code").asText(), r.body());
            assertEquals("rate_limit_error", e.path("type").asText(), r.body());
            assertEquals("1", r.headers().firstValue("retry-after").orElse(null), "a short Retry-After");
            Matcher m = BUSY.matcher(e.path("message").asText());
            assertTrue(m.find(), r.body());
            worst = new BigDecimal(m.group(1));
            assertEquals(0, new BigDecimal(m.group(2)).signum(), "nothing is spent yet: " + r.body());
            assertEquals(
                    0,
                    worst.multiply(BigDecimal.valueOf(inFlight)).compareTo(new BigDecimal(m.group(3))),
                    "the held money is the in-flight requests' worst cases: " + r.body());
            assertEquals(inFlight, Integer.parseInt(m.group(4)), r.body());
        }
        assertTrue(worst != null, "some of the burst was refused");
        upstream.answer();
        BigDecimal told = BigDecimal.ZERO;
        int answered = 0;
        for (CompletableFuture<HttpResponse<String>> c : burst) {
            HttpResponse<String> r = join(c, "the burst");
            if (r.statusCode() == 200) {
                answered++;
                told = told.add(new BigDecimal(
                        r.headers().firstValue("x-br-actual-cost").orElseThrow()));
            }
        }
        assertEquals(inFlight, answered, "every request that reached the upstream was answered");
        assertEquals(0, ANSWER_USD.multiply(BigDecimal.valueOf(answered)).compareTo(told), "charged the real usage");

        // after the burst: 4 clients keep asking, retrying busy refusals, until the spend is used up
        List<CompletableFuture<BigDecimal>> clients = new ArrayList<>();
        BigDecimal w = worst;
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < 4; i++) {
                clients.add(CompletableFuture.supplyAsync(() -> untilExceeded(w), threads));
            }
            for (CompletableFuture<BigDecimal> c : clients) {
                told = told.add(c.join());
            }
        } finally {
            threads.shutdownNow();
        }

        HttpResponse<String> u = client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/usage"))
                        .header("Authorization", "Bearer " + key)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode usage = JSON.readTree(u.body());
        BigDecimal spent = new BigDecimal(usage.path("spent_usd").asText());
        assertEquals(0, spent.compareTo(told), "the spend is what the answers were told: " + usage);
        assertTrue(spent.compareTo(BUDGET) <= 0, "spent " + spent + " of " + BUDGET);
        assertTrue(spent.add(worst).compareTo(BUDGET) > 0, "402 while the spend left room: " + usage);
        assertEquals(
                0, new BigDecimal(usage.path("reserved_usd").asText()).signum(), "nothing left reserved: " + usage);
    }

    /**
     * The answer, or an error that says where the test stood when it did not come: the upstream's
     * counts, the requests the gateway was still serving, and what its event loops were doing (a
     * loop stuck or spinning holds every request on it; a loop parked in its selector is waiting
     * for something that did not come).
     */
    private HttpResponse<String> join(CompletableFuture<HttpResponse<String>> call, String phase) {
        try {
            return call.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new AssertionError(
                    "no answer " + phase + ": the upstream received " + upstream.received.get()
                            + " requests and answered " + upstream.answered.get() + "; the gateway was serving "
                            + gateway.server.gateway().inFlight() + "\n" + eventLoopStacks(),
                    e.getCause());
        }
    }

    /** The stacks of the gateway's event loops ({@code br-io-*}). */
    private static String eventLoopStacks() {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("br-io-")) {
                b.append('"')
                        .append(t.getName())
                        .append("\" ")
                        .append(t.getState())
                        .append('\n');
                for (StackTraceElement f : stack) {
                    b.append("    at ").append(f).append('\n');
                }
            }
        });
        return b.toString();
    }

    /**
     * One client: asks until it gets 402, retrying a 429 {@code budget_busy} at once (a real SDK
     * waits the {@code Retry-After}); checks every refusal's figures against the worst case.
     *
     * @return what its answers were charged
     */
    private BigDecimal untilExceeded(BigDecimal worst) {
        BigDecimal told = BigDecimal.ZERO;
        for (int i = 0; i < 5_000; i++) {
            HttpResponse<String> r =
                    join(client.sendAsync(chat(), HttpResponse.BodyHandlers.ofString()), "after the burst");
            String body = r.body();
            try {
                if (r.statusCode() == 200) {
                    told = told.add(new BigDecimal(
                            r.headers().firstValue("x-br-actual-cost").orElseThrow()));
                    continue;
                }
                JsonNode e = JSON.readTree(body).path("error");
                if (r.statusCode() == 429) {
                    assertEquals("budget_busy", e.path("code").asText(), body);
                    Matcher m = BUSY.matcher(e.path("message").asText());
                    assertTrue(m.find(), body);
                    assertTrue(
                            new BigDecimal(m.group(2)).add(worst).compareTo(BUDGET) <= 0,
                            "busy although the spend leaves no room: " + body);
                    continue;
                }
                assertEquals(402, r.statusCode(), body);
                assertEquals("budget_exceeded", e.path("code").asText(), body);
                assertEquals("insufficient_quota", e.path("type").asText(), body);
                Matcher m = EXCEEDED.matcher(e.path("message").asText());
                assertTrue(m.find(), body);
                assertEquals(0, worst.compareTo(new BigDecimal(m.group(2))), body);
                assertTrue(
                        new BigDecimal(m.group(1)).add(worst).compareTo(BUDGET) > 0,
                        "exceeded although the spend leaves room: " + body);
                return told;
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        }
        throw new AssertionError("no 402 after 5,000 requests on a $" + BUDGET + " budget");
    }
}
