package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.state.BudgetLedger;
import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStore;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisBudgets} against a real {@code redis-server} ({@link RedisServerFixture}): the same
 * verdicts and figures as the files ledger for the same calls, no over-commit under concurrent
 * reservations of two "gateways", days per time zone with their keys' expiry, scripts reloaded after
 * {@code SCRIPT FLUSH}, settles that charge once however often they are sent, and holds of a
 * vanished gateway that lapse.
 */
class RedisBudgetsTest {
    private static final LocalDate DAY = LocalDate.of(2026, 12, 8);

    @TempDir
    static Path tmp;

    private static RedisServerFixture server;
    private static RedisClient client;
    private static final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
    private static final AtomicLong keys = new AtomicLong();

    @BeforeAll
    static void startRedis() throws Exception {
        if (RedisServerFixture.binary().isEmpty()) {
            return; // each test says why it is skipped (or fails under BR_REQUIRE_REDIS=1)
        }
        server = RedisServerFixture.start(tmp.resolve("redis"), false);
        client = RedisClient.create(server.uri());
        client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
                .build());
    }

    @BeforeEach
    void needsRedis() {
        RedisServerFixture.assumeInstalled();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        for (StatefulRedisConnection<String, String> c : connections) {
            c.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (server != null) {
            server.close();
        }
    }

    /** A "gateway": its own connection and its own RedisBudgets (its own reservation ids). */
    private static RedisBudgets gateway(Duration holdTtl) {
        StatefulRedisConnection<String, String> c = client.connect();
        connections.add(c);
        RedisAsyncCommands<String, String> redis = c.async();
        RedisBudgetScripts scripts = new RedisBudgetScripts(redis);
        join(scripts.load());
        return new RedisBudgets(redis, scripts, "br:", holdTtl, RedisBudgets.DEFAULT_DAY_MARGIN);
    }

    private static RedisAsyncCommands<String, String> redis() {
        StatefulRedisConnection<String, String> c = client.connect();
        connections.add(c);
        return c.async();
    }

    private static String newKey() {
        return "key_" + keys.incrementAndGet();
    }

    private static <T> T join(CompletionStage<T> f) {
        return f.toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
    }

    @Test
    void answersAsTheFilesLedgerDoesForTheSameCalls() throws Exception {
        RedisBudgets redis = gateway(Duration.ofMinutes(10));
        try (StateStore files = StateStore.open(tmp.resolve("files"))) {
            BudgetLedger ledger = files.budgets();
            Random random = new Random(14);
            for (long budget : new long[] {100_000, 5_000_000, KeyLimits.UNLIMITED}) {
                String key = newKey();
                List<Reservation[]> open = new ArrayList<>();
                int verdicts = 0;
                for (int step = 0; step < 300; step++) {
                    int op = random.nextInt(10);
                    if (op < 5 || open.isEmpty()) {
                        long amount = budget == 100_000 ? random.nextInt(8_000) : random.nextInt(400_000);
                        Reservation f = ledger.reserve(key, DAY, amount, budget);
                        Reservation r = join(redis.reserve(key, DAY, ZoneOffset.UTC, amount, budget));
                        String at = "step " + step + ", budget " + budget + ", reserve " + amount;
                        assertEquals(f.verdict(), r.verdict(), at);
                        assertEquals(f.spentNano(), r.spentNano(), at + ": spent");
                        assertEquals(f.heldNano(), r.heldNano(), at + ": held");
                        assertEquals(f.heldCount(), r.heldCount(), at + ": held count");
                        assertEquals(f.remainingNano(), r.remainingNano(), at + ": remaining");
                        if (f.granted()) {
                            open.add(new Reservation[] {f, r});
                        } else {
                            verdicts |= 1 << f.verdict().ordinal();
                        }
                    } else {
                        Reservation[] pair = open.get(random.nextInt(open.size()));
                        if (op < 9) {
                            // mostly less than reserved, sometimes more (the provider charged it)
                            long actual = (long) (pair[0].amountNano() * random.nextDouble() * 1.2);
                            ledger.settle(pair[0], actual);
                            join(redis.settle(pair[1], actual));
                        } else {
                            ledger.release(pair[0]);
                            join(redis.release(pair[1]));
                        }
                        // sometimes the same pair again: both must ignore it
                        if (random.nextInt(4) > 0) {
                            open.remove(pair);
                        }
                    }
                    assertEquals(
                            ledger.usage(key, DAY),
                            join(redis.usage(key, DAY)),
                            "step " + step + ", budget " + budget + ": usage");
                }
                if (budget == 100_000) {
                    assertEquals(
                            0b110,
                            verdicts,
                            "the small budget saw both refusals (busy and exceeded), so both were compared");
                }
            }
        }
    }

    @Test
    void concurrentReservationsOfTwoGatewaysNeverOverCommit() throws Exception {
        RedisBudgets a = gateway(Duration.ofMinutes(10));
        RedisBudgets b = gateway(Duration.ofMinutes(10));
        String key = newKey();
        long budget = 1_000_000;
        long worst = 20_000;
        AtomicLong charged = new AtomicLong();
        AtomicLong granted = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                RedisBudgets gw = t % 2 == 0 ? a : b;
                done.add(threads.submit(() -> {
                    List<CompletableFuture<Void>> requests = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        requests.add(request(gw, key, worst, budget, charged, granted));
                    }
                    requests.forEach(CompletableFuture::join);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(15, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        DayUsage u = join(a.usage(key, DAY));
        // every request charged its whole worst case and busy ones retried: the budget is used exactly
        assertEquals(budget / worst, granted.get(), "requests granted of 400");
        assertEquals(charged.get(), u.spentNano(), "Redis holds what the requests were charged");
        assertTrue(u.spentNano() <= budget, "spent " + u.spentNano() + " (expected: <= budget " + budget + ")");
        assertEquals(new DayUsage(budget, 0, budget / worst), u);
    }

    /** Reserve, and when granted settle for the whole worst case; a busy refusal tries again. */
    private static CompletableFuture<Void> request(
            RedisBudgets gw, String key, long worst, long budget, AtomicLong charged, AtomicLong granted) {
        return gw.reserve(key, DAY, ZoneOffset.UTC, worst, budget)
                .thenCompose(r -> {
                    if (r.verdict() == Reservation.Verdict.BUSY) {
                        return request(gw, key, worst, budget, charged, granted);
                    }
                    if (!r.granted()) {
                        return CompletableFuture.completedFuture(null);
                    }
                    granted.incrementAndGet();
                    charged.addAndGet(worst);
                    return gw.settle(r, worst).thenApply(e -> null);
                })
                .toCompletableFuture();
    }

    @Test
    void aKeysDayEndsAtItsMidnightAndItsKeysExpireAMarginLater() {
        RedisBudgets redis = gateway(Duration.ofMinutes(10));
        RedisAsyncCommands<String, String> raw = redis();
        for (ZoneId zone : List.of(ZoneOffset.UTC, ZoneId.of("Asia/Tokyo"), ZoneId.of("America/Los_Angeles"))) {
            String key = newKey();
            Reservation r = join(redis.reserve(key, DAY, zone, 700, 1_000));
            join(redis.settle(r, 700));
            assertEquals(
                    Reservation.Verdict.EXCEEDED,
                    join(redis.reserve(key, DAY, zone, 700, 1_000)).verdict(),
                    "the day's spend leaves no room");
            LocalDate next = DAY.plusDays(1);
            Reservation tomorrow = join(redis.reserve(key, next, zone, 700, 1_000));
            assertTrue(tomorrow.granted(), "the next day starts from nothing: " + tomorrow);
            assertEquals(0, tomorrow.spentNano());

            long expected = next.atStartOfDay(zone)
                    .toInstant()
                    .plus(RedisBudgets.DEFAULT_DAY_MARGIN)
                    .getEpochSecond();
            assertEquals(expected, join(raw.expiretime(redis.keys(key, DAY)[0])), "the day's figures in " + zone);
            // tomorrow's reservation is still held: its hold and deadline expire with its day too
            for (String k : List.of(redis.keys(key, next)[0], redis.keys(key, next)[1], redis.keys(key, next)[2])) {
                assertEquals(expected + 86_400, join(raw.expiretime(k)), k + " in " + zone);
            }
        }
    }

    @Test
    void scriptsFlushedFromTheServerAreLoadedAgain() {
        RedisBudgets redis = gateway(Duration.ofMinutes(10));
        String key = newKey();
        Reservation first = join(redis.reserve(key, DAY, ZoneOffset.UTC, 100, 1_000));
        assertEquals("+OK", server.command("SCRIPT", "FLUSH"));
        Reservation second = join(redis.reserve(key, DAY, ZoneOffset.UTC, 100, 1_000));
        assertTrue(second.granted(), "reserve after SCRIPT FLUSH: " + second);
        assertEquals(100, second.heldNano(), "the first reservation is held");
        assertEquals("+OK", server.command("SCRIPT", "FLUSH"));
        assertEquals(RedisBudgets.Ending.ENDED, join(redis.settle(first, 40)));
        assertEquals("+OK", server.command("SCRIPT", "FLUSH"));
        assertEquals(RedisBudgets.Ending.ENDED, join(redis.release(second)));
        assertEquals(new DayUsage(40, 0, 1), join(redis.usage(key, DAY)));
    }

    @Test
    void aSettleSentAgainAfterAReconnectChargesOnce() throws Exception {
        RedisBudgets redis = gateway(Duration.ofMinutes(10));
        String key = newKey();
        Reservation r = join(redis.reserve(key, DAY, ZoneOffset.UTC, 500, 1_000));
        assertEquals(RedisBudgets.Ending.ENDED, join(redis.settle(r, 300)));
        // the connection drops (as if the answer to the settle was lost); Lettuce reconnects
        String killed = server.command("CLIENT", "KILL", "TYPE", "normal");
        assertTrue(killed != null && killed.startsWith(":"), "CLIENT KILL answered " + killed);
        assertEquals(RedisBudgets.Ending.ALREADY_ENDED, join(redis.settle(r, 300)));
        assertEquals(RedisBudgets.Ending.ALREADY_ENDED, join(redis.release(r)));
        assertEquals(new DayUsage(300, 0, 1), join(redis.usage(key, DAY)));
        // the money it no longer holds is there for the next request
        assertTrue(join(redis.reserve(key, DAY, ZoneOffset.UTC, 700, 1_000)).granted());
    }

    @Test
    void theHoldsOfAVanishedGatewayLapseAndALateSettleChargesOnce() throws Exception {
        RedisBudgets dying = gateway(Duration.ofMillis(300));
        RedisBudgets alive = gateway(Duration.ofMinutes(10));
        String key = newKey();
        Reservation held = join(dying.reserve(key, DAY, ZoneOffset.UTC, 800, 1_000));
        assertTrue(held.granted());
        assertEquals(
                Reservation.Verdict.BUSY,
                join(alive.reserve(key, DAY, ZoneOffset.UTC, 800, 1_000)).verdict(),
                "held by the other gateway's request");
        Thread.sleep(450);
        Reservation after = join(alive.reserve(key, DAY, ZoneOffset.UTC, 800, 1_000));
        assertTrue(after.granted(), "the lapsed hold was released: " + after);
        assertEquals(0, after.heldNano());
        join(alive.release(after));

        assertEquals(RedisBudgets.Ending.LAPSED, join(dying.settle(held, 250)), "the provider did charge it");
        assertEquals(RedisBudgets.Ending.ALREADY_ENDED, join(dying.settle(held, 250)));
        assertEquals(new DayUsage(250, 0, 1), join(alive.usage(key, DAY)));
    }
}
