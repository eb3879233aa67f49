package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.metrics.ExpositionText;
import io.brainstorm.proxy.state.redis.RedisServerFixture;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several gateways on one Redis ({@code state_store: redis}, docs/scale-out.md), as separate
 * hosts would run them: child JVMs with their own ports and state directories, a real
 * {@code redis-server} with {@code appendonly yes} (skipped without one, unless
 * {@code BR_REQUIRE_REDIS=1}), and an upstream on loopback that answers whole or streamed. What a
 * client and an operator would notice: one budget across gateways, to the nano-dollar in Redis, in
 * the cost each client was told and in {@code /v1/usage} everywhere; a killed gateway's holds
 * lapsing; Redis stopped and started under load; {@code on_unavailable: open}.
 */
class RedisScaleOutTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String PREFIX = "scale:";
    private static final Pattern UP_TO = Pattern.compile("up to \\$([0-9]+(?:\\.[0-9]+)?)");
    private static final Duration READY = Duration.ofSeconds(60);

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String masterKey = randomMasterKey();
    private final List<ChildGateway> gateways = new ArrayList<>();
    private @Nullable RedisServerFixture redis;
    private @Nullable ParkingUpstream upstream;
    private @Nullable RedisClient reader;
    private @Nullable StatefulRedisConnection<String, String> readerConnection;

    @TempDir
    Path dir;

    /** A key of the config file: its secret, and its {@code keys:} entry. */
    private record Key(String name, String secret, String entry) {
        static Key budget(String name, String usd) {
            String secret = ApiKeys.generate();
            return new Key(
                    name,
                    secret,
                    "{name: %s, sha256: %s, daily_budget_usd: %s}".formatted(name, ApiKeys.sha256(secret), usd));
        }

        static Key unlimited(String name) {
            String secret = ApiKeys.generate();
            return new Key(name, secret, "{name: %s, sha256: %s}".formatted(name, ApiKeys.sha256(secret)));
        }
    }

    @BeforeEach
    void startRedisAndUpstream() throws Exception {
        redis = RedisServerFixture.start(dir.resolve("redis"), true);
        upstream = new ParkingUpstream();
    }

    @AfterEach
    void stop() throws Exception {
        gateways.forEach(ChildGateway::close);
        if (upstream != null) {
            upstream.close();
        }
        if (readerConnection != null) {
            readerConnection.close();
        }
        if (reader != null) {
            reader.shutdown(0, 2, TimeUnit.SECONDS);
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void twoGatewaysHoldOneBudgetAndAgreeOnEveryNanoDollar() throws Exception {
        // an answer costs about $0.0000033 and holds its worst case, about $0.0000078, while in flight:
        // the budget covers about 120 answers of the 400
        Key key = Key.budget("shared", "0.0004");
        BigDecimal budget = new BigDecimal("0.0004");
        Path config = config("", key);
        ChildGateway a = gateway(config);
        ChildGateway b = gateway(config);
        awaitReady(a, b);

        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            calls.add(client.sendAsync(
                    chat(i % 2 == 0 ? a : b, key, (i / 2) % 2 == 1), HttpResponse.BodyHandlers.ofString()));
        }
        BigDecimal told = BigDecimal.ZERO;
        BigDecimal worst = BigDecimal.ZERO;
        int ok = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get(60, TimeUnit.SECONDS);
            if (r.statusCode() == 200) {
                ok++;
                told = told.add(told(r));
            } else {
                refused++;
                worst = worst.max(refusal(r));
            }
        }
        assertTrue(ok >= 10, ok + " of 400 answered");
        // then one client at a time, on each gateway in turn, until both say the budget is spent
        boolean aSpent = false;
        boolean bSpent = false;
        for (int i = 0; i < 300 && !(aSpent && bSpent); i++) {
            ChildGateway g = i % 2 == 0 ? a : b;
            HttpResponse<String> r = client.send(chat(g, key, i % 3 == 0), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                ok++;
                told = told.add(told(r));
                continue;
            }
            refused++;
            worst = worst.max(refusal(r));
            if (r.statusCode() == 402) {
                aSpent |= g == a;
                bSpent |= g == b;
            }
        }
        assertTrue(aSpent && bSpent, "both gateways refuse with 402 once the shared budget is spent");
        assertTrue(worst.signum() > 0, "the refusals name the worst case");

        JsonNode usage = usage(a, key);
        String record = PREFIX + "budget:{" + usage.path("key_id").asText() + "}:"
                + usage.path("day").asText();
        BigDecimal charged = awaitSpent(record, told);
        assertEquals(0, told.compareTo(charged), "Redis " + record + " has " + charged + ", clients were told " + told);
        assertTrue(
                charged.compareTo(budget.add(worst)) <= 0,
                "charged " + charged + " > budget " + budget + " + one worst case " + worst);
        assertTrue(
                charged.add(worst).compareTo(budget) > 0,
                "the budget was spent: " + charged + " + " + worst + " > " + budget);
        assertEquals(ok, Long.parseLong(hget(record, "requests")), "requests counted in Redis");
        for (ChildGateway g : List.of(a, b)) {
            JsonNode u = usage(g, key);
            assertEquals(0, told.compareTo(u.path("spent_usd").decimalValue()), "/v1/usage on " + g.base() + ": " + u);
            assertEquals(0, u.path("reserved_usd").decimalValue().signum(), u.toString());
            assertEquals(ok, u.path("requests").asInt(), u.toString());
        }
        assertTrue(refused > 0, "the budget refused some of the " + (ok + refused) + " requests");
    }

    @Test
    void aKilledGatewaysHoldsLapseAndTheOtherGatewaysTotalsStayExact() throws Exception {
        // about 12 worst cases of $0.0000078
        Key key = Key.budget("survivor", "0.0001");
        Path config = config("hold_ttl_seconds: 3", key);
        ChildGateway a = gateway(config);
        ChildGateway b = gateway(config);
        awaitReady(a, b);
        ParkingUpstream up = upstream();

        up.park();
        // b's own requests are in flight across the kill; a then takes what is left of the budget
        List<CompletableFuture<HttpResponse<String>>> bInFlight = List.of(
                client.sendAsync(chat(b, key, false), HttpResponse.BodyHandlers.ofString()),
                client.sendAsync(chat(b, key, true), HttpResponse.BodyHandlers.ofString()));
        assertTrue(GatewayHarness.eventually(10_000, () -> up.parkedNow.get() == 2), "b's two requests in flight");
        List<CompletableFuture<HttpResponse<String>>> aCalls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            aCalls.add(client.sendAsync(chat(a, key, i % 2 == 1), HttpResponse.BodyHandlers.ofString()));
        }
        assertTrue(
                GatewayHarness.eventually(
                        10_000,
                        () -> up.parkedNow.get()
                                        - 2
                                        + aCalls.stream()
                                                .filter(CompletableFuture::isDone)
                                                .count()
                                == 16),
                "each of a's requests is in flight or refused");
        int aHolds = up.parkedNow.get() - 2;
        assertTrue(aHolds >= 5, aHolds + " of a's requests hold the budget");
        for (CompletableFuture<HttpResponse<String>> c : aCalls) {
            if (c.isDone()) {
                assertBusy(c.join());
            }
        }
        // what a holds is held in Redis: b is refused too
        assertBusy(client.send(chat(b, key, false), HttpResponse.BodyHandlers.ofString()));

        a.kill();
        up.answerParked();
        BigDecimal told = BigDecimal.ZERO;
        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> c : bInFlight) {
            HttpResponse<String> r = c.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            told = told.add(told(r));
            ok++;
        }
        // beside what a holds, the budget has room for two or three more answers; twelve need a's
        // holds to lapse, hold_ttl_seconds after they were taken. Meanwhile b is busy, never 402.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int after = 0;
        for (int i = 0; after < 12; i++) {
            assertTrue(System.nanoTime() < deadline, "b served only " + after + " of 12 within 15 s of a's death");
            HttpResponse<String> r = client.send(chat(b, key, i % 2 == 0), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                told = told.add(told(r));
                ok++;
                after++;
            } else {
                assertBusy(r);
                Thread.sleep(100);
            }
        }

        JsonNode usage = usage(b, key);
        String record = PREFIX + "budget:{" + usage.path("key_id").asText() + "}:"
                + usage.path("day").asText();
        BigDecimal charged = awaitSpent(record, told);
        assertEquals(0, told.compareTo(charged), "Redis has " + charged + ", b's clients were told " + told);
        assertEquals(ok, Long.parseLong(hget(record, "requests")));
        JsonNode usageAfter = usage(b, key);
        assertEquals(0, told.compareTo(usageAfter.path("spent_usd").decimalValue()), usageAfter.toString());
        assertEquals(0, usageAfter.path("reserved_usd").decimalValue().signum(), "a's holds are gone: " + usageAfter);
        for (CompletableFuture<HttpResponse<String>> c : aCalls) {
            c.exceptionally(e -> null).join();
        }
    }

    @Test
    void redisAwayRefusesBudgetedKeysServesTheRestAndLosesNoSettledSpend() throws Exception {
        Key budgeted = Key.budget("budgeted", "5");
        Key free = Key.unlimited("free");
        Path config = config("", budgeted, free);
        ChildGateway a = gateway(config);
        ChildGateway b = gateway(config);
        awaitReady(a, b);
        RedisServerFixture server = redis();

        List<Worker> workers = new ArrayList<>();
        for (ChildGateway g : List.of(a, b)) {
            for (Key k : List.of(budgeted, free)) {
                workers.add(new Worker(g, k));
            }
        }
        workers.forEach(Worker::start);
        try {
            Thread.sleep(800);
            server.stop();
            long stoppedAt = System.nanoTime();
            assertTrue(
                    GatewayHarness.eventually(
                            10_000,
                            () -> workers.stream()
                                    .filter(w -> w.key == budgeted)
                                    .allMatch(w -> w.unavailable.get() > 0)),
                    "budgeted requests on both gateways got 503 while Redis was away");
            Thread.sleep(Math.max(0, 2_000 - (System.nanoTime() - stoppedAt) / 1_000_000));
            for (Worker w : workers) {
                w.okAfterRestart.set(false);
            }
            server.start();
            long restarted = System.nanoTime();
            assertTrue(
                    GatewayHarness.eventually(10_000, () -> workers.stream().allMatch(w -> w.okAfterRestart.get())),
                    "both gateways serve the budgeted key again within 10 s of Redis's restart");
            long recoveredMillis = (System.nanoTime() - restarted) / 1_000_000;
            Thread.sleep(300);
            for (Worker w : workers) {
                w.stop.set(true);
            }
            for (Worker w : workers) {
                w.join(30_000);
                assertTrue(!w.isAlive(), "a client thread did not end");
            }
            for (Worker w : workers) {
                assertTrue(w.failures.isEmpty(), w.key.name() + " on " + w.gateway.base() + ": " + w.failures);
                assertTrue(w.ok > 0, w.key.name() + " on " + w.gateway.base() + " got no 200");
                if (w.key == free) {
                    assertEquals(0, w.unavailable.get(), "a key without limits never depends on Redis");
                }
            }
            // every settle and journal batch that waited is written once Redis is back
            for (ChildGateway g : List.of(a, b)) {
                assertTrue(
                        GatewayHarness.eventually(
                                10_000, () -> "0".equals(metric(g, "brainstorm_state_store_deferred_writes"))),
                        "writes still wait on " + g.base());
                assertEquals(
                        "0", metric(g, "brainstorm_state_store_lost_writes_total"), "no write lost: " + problems(g));
                assertTrue(
                        Double.parseDouble(metric(g, "brainstorm_state_store_unavailable_total")) > 0,
                        "the 503s are counted");
            }
            for (Key k : List.of(budgeted, free)) {
                BigDecimal told = BigDecimal.ZERO;
                long ok = 0;
                for (Worker w : workers) {
                    if (w.key == k) {
                        told = told.add(w.told);
                        ok += w.ok;
                    }
                }
                JsonNode usage = usage(a, k);
                String record = PREFIX + "budget:{" + usage.path("key_id").asText() + "}:"
                        + usage.path("day").asText();
                BigDecimal charged = awaitSpent(record, told);
                assertEquals(
                        0,
                        told.compareTo(charged),
                        k.name() + ": Redis has " + charged + ", clients were told " + told + " (recovered in "
                                + recoveredMillis + " ms)");
                assertEquals(ok, Long.parseLong(hget(record, "requests")), k.name() + ": requests in Redis");
            }
        } finally {
            for (Worker w : workers) {
                w.stop.set(true);
            }
        }
    }

    @Test
    void failingOpenServesBudgetedKeysWhileRedisIsAwayAndSaysSo() throws Exception {
        Key key = Key.budget("open", "5");
        Path config = config("on_unavailable: open", key);
        ChildGateway g = gateway(config);
        awaitReady(g);
        RedisServerFixture server = redis();

        BigDecimal told = BigDecimal.ZERO;
        HttpResponse<String> first = client.send(chat(g, key, false), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, first.statusCode(), first.body());
        told = told.add(told(first));
        JsonNode usage = usage(g, key);

        server.stop();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> r = client.send(chat(g, key, i % 2 == 1), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), "served without its budget while Redis is away: " + r.body());
            told = told.add(told(r));
        }
        assertTrue(
                Double.parseDouble(metric(g, "brainstorm_state_store_unchecked_total")) >= 6,
                "brainstorm_state_store_unchecked_total counts them");
        assertTrue(
                GatewayHarness.eventually(5_000, () -> logHas(g, "WARNING", "(redis.on_unavailable: open)")),
                "the log says keys are served without their limits: " + g.log());

        // what was served unchecked is charged once Redis is back
        server.start();
        String record = PREFIX + "budget:{" + usage.path("key_id").asText() + "}:"
                + usage.path("day").asText();
        BigDecimal charged = awaitSpent(record, told);
        assertEquals(0, told.compareTo(charged), "Redis has " + charged + ", the client was told " + told);
    }

    /**
     * One client sending to one gateway with one key, one request after another, whole and streamed
     * in turn, until told to stop: counts what it was told, and anything but a 200 or a 503
     * {@code state_unavailable} with {@code Retry-After}.
     */
    private final class Worker extends Thread {
        final ChildGateway gateway;
        final Key key;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicBoolean okAfterRestart = new AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicInteger unavailable = new java.util.concurrent.atomic.AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        /** Read by the test thread only after {@link #join}. */
        BigDecimal told = BigDecimal.ZERO;

        long ok;

        Worker(ChildGateway gateway, Key key) {
            super("scale-client-" + key.name());
            this.gateway = gateway;
            this.key = key;
            setDaemon(true);
        }

        @Override
        public void run() {
            for (int i = 0; !stop.get() && failures.size() < 5; i++) {
                try {
                    HttpResponse<String> r =
                            client.send(chat(gateway, key, i % 2 == 1), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        told = told.add(told(r));
                        ok++;
                        okAfterRestart.set(true);
                    } else if (r.statusCode() == 503
                            && "state_unavailable"
                                    .equals(JSON.readTree(r.body())
                                            .path("error")
                                            .path("code")
                                            .asText())
                            && r.headers()
                                    .firstValue("retry-after")
                                    .filter(s -> s.matches("[1-9][0-9]*"))
                                    .isPresent()) {
                        unavailable.incrementAndGet();
                        Thread.sleep(20);
                    } else {
                        failures.add(r.statusCode() + " " + r.headers().map() + " " + r.body());
                    }
                } catch (Exception | AssertionError e) {
                    failures.add(e.toString());
                }
            }
        }
    }

    private void assertBusy(HttpResponse<String> r) {
        assertEquals(429, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"budget_busy\""), r.body());
    }

    /** The worst case a 402 or 429 budget_busy names; fails on any other refusal. */
    private static BigDecimal refusal(HttpResponse<String> r) {
        if (!(r.statusCode() == 402 || (r.statusCode() == 429 && r.body().contains("\"budget_busy\"")))) {
            fail("expected 200, 402 or 429 budget_busy: " + r.statusCode() + " " + r.body());
        }
        Matcher m = UP_TO.matcher(r.body());
        assertTrue(m.find(), r.body());
        return new BigDecimal(m.group(1));
    }

    /**
     * The cost the client was told: {@code X-BR-Actual-Cost} of a whole answer, the {@code x_br}
     * comment's {@code actual_cost} at the end of a complete stream.
     */
    static BigDecimal told(HttpResponse<String> r) throws Exception {
        if (!r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
            return new BigDecimal(r.headers().firstValue("x-br-actual-cost").orElseThrow());
        }
        assertTrue(r.body().contains("data: [DONE]"), "a complete stream: " + r.body());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(": x-br ")) {
                return JSON.readTree(line.substring(": x-br ".length()))
                        .path("actual_cost")
                        .decimalValue();
            }
        }
        throw new AssertionError("a stream without its x-br cost: " + r.body());
    }

    private static HttpRequest chat(ChildGateway g, Key key, boolean stream) {
        String body = "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],"
                + "\"max_tokens\":5" + (stream ? ",\"stream\":true" : "") + "}";
        return HttpRequest.newBuilder(URI.create(g.base() + "/chat/completions"))
                .header("Authorization", "Bearer " + key.secret())
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private JsonNode usage(ChildGateway g, Key key) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(g.base() + "/usage"))
                        .header("Authorization", "Bearer " + key.secret())
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static String metric(ChildGateway g, String name) {
        try {
            String v = ExpositionText.sample(g.metrics(), name);
            if (v == null) {
                throw new AssertionError("no " + name + " in /metrics of " + g.base());
            }
            return v;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The gateway's log lines at ERROR (JUL's SEVERE) and WARNING, with what follows them. */
    private static String problems(ChildGateway g) {
        try {
            StringBuilder out = new StringBuilder();
            boolean in = false;
            for (String l : g.log().lines().toList()) {
                if (l.matches("^\\d{4}-\\d\\d-\\d\\d .*")) {
                    in = l.contains(" SEVERE ") || l.contains(" WARNING ");
                }
                if (in) {
                    out.append(l).append('\n');
                }
            }
            return out.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean logHas(ChildGateway g, String level, String text) {
        try {
            return g.log().lines().anyMatch(l -> l.contains(" " + level + " ") && l.contains(text));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The {@code spent} of {@code record} in Redis once it equals {@code expected} (settles are written after the answer), or after 10 s. */
    private BigDecimal awaitSpent(String record, BigDecimal expected) throws Exception {
        BigDecimal[] spent = {BigDecimal.ZERO};
        GatewayHarness.eventually(10_000, () -> {
            String v = hget(record, "spent");
            spent[0] = v == null ? BigDecimal.ZERO : BigDecimal.valueOf(Long.parseLong(v), 9);
            return spent[0].compareTo(expected) == 0;
        });
        return spent[0];
    }

    /** {@code HGET} on the test's own connection to the Redis (null: no such field). */
    private @Nullable String hget(String key, String field) {
        if (readerConnection == null) {
            RedisURI uri = RedisURI.create(redis().uri());
            uri.setTimeout(Duration.ofSeconds(5));
            RedisClient c = RedisClient.create(uri);
            reader = c;
            readerConnection = c.connect();
        }
        return readerConnection.sync().hget(key, field);
    }

    /** The config every gateway reads: the upstream, the keys, {@code state_store: redis} and {@code redisExtra}. */
    private Path config(String redisExtra, Key... keys) throws Exception {
        StringBuilder entries = new StringBuilder();
        for (Key k : keys) {
            entries.append("  - ").append(k.entry()).append('\n');
        }
        Path file = dir.resolve("brainstorm.yaml");
        Files.writeString(file, """
                sim: {enabled: false}
                state_store: redis
                redis:
                  url: %s
                  key_prefix: "%s"
                  %s
                providers:
                  - {name: openai, type: openai, base_url: "%s", api_key: provider-key}
                keys:
                %s""".formatted(
                        redis().uri(), PREFIX, redisExtra, upstream().baseUrl(), entries));
        return file;
    }

    /** A gateway on its own ports and state directory, started (not yet ready). */
    private ChildGateway gateway(Path config) throws Exception {
        int n = gateways.size();
        ChildGateway g = ChildGateway.start(
                config,
                dir.resolve("state-" + n),
                dir.resolve("gateway-" + n + ".log"),
                Map.of("BR_MASTER_KEY", masterKey));
        gateways.add(g);
        return g;
    }

    private static void awaitReady(ChildGateway... gs) throws Exception {
        for (ChildGateway g : gs) {
            g.awaitReady(READY);
        }
    }

    private RedisServerFixture redis() {
        if (redis == null) {
            throw new IllegalStateException("no redis-server");
        }
        return redis;
    }

    private ParkingUpstream upstream() {
        if (upstream == null) {
            throw new IllegalStateException("no upstream");
        }
        return upstream;
    }

    private static String randomMasterKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }
}
