package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisLimits} against a real {@code redis-server} that goes away and comes back: what a
 * gateway does with budget writes while Redis is away (kept in order, written once when it is back),
 * the spend of keys without a budget (journaled, written in numbered batches that count once), and
 * the two answers to a check that cannot reach Redis: 503 (closed) or served unchecked (open).
 */
class RedisLimitsTest {
    private static final LocalDate DAY = LocalDate.now(ZoneOffset.UTC);

    @TempDir
    Path tmp;

    private RedisServerFixture server;
    private RedisLink link;
    private RedisLimits limits;

    @BeforeEach
    void start() throws Exception {
        server = RedisServerFixture.start(tmp.resolve("redis"), true);
    }

    @AfterEach
    void stop() throws Exception {
        if (limits != null) {
            limits.close();
        }
        if (link != null) {
            link.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private RedisLimits open(boolean failOpen) throws Exception {
        link = RedisLink.connect(RedisConfig.of(server.uri()).withFailOpen(failOpen));
        limits = new RedisLimits(link, Duration.ofMinutes(5), failOpen);
        return limits;
    }

    private long spentInRedis(String keyId) throws Exception {
        String v =
                link.async().hget("br:budget:{" + keyId + "}:" + DAY, "spent").get(2, TimeUnit.SECONDS);
        return v == null ? 0 : Long.parseLong(v);
    }

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static <T> T join(java.util.concurrent.CompletionStage<T> f) {
        return f.toCompletableFuture().join();
    }

    @Test
    void aKeyWithoutBudgetCostsNoRoundTripAndItsSpendArrivesOnce() throws Exception {
        RedisLimits l = open(false);
        for (int i = 0; i < 50; i++) {
            Reservation r = join(l.reserve("free", DAY, ZoneOffset.UTC, 10_000, KeyLimits.UNLIMITED));
            assertTrue(r.granted());
            l.settle(r, 1_000 + i);
        }
        long expected = 50 * 1_000 + 49 * 50 / 2;
        // counted at once by this gateway, written within a few of the writer's rounds
        assertEquals(expected, join(l.usage("free", DAY)).spentNano());
        await(() -> spent("free") == expected, "the journal written to Redis");
        assertEquals(50, join(l.usage("free", DAY)).requests());
        assertEquals(0, link.errors(RedisLink.Op.BUDGET));
    }

    private long spent(String keyId) {
        try {
            return spentInRedis(keyId);
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void settlesThatCannotBeWrittenWaitInOrderAndCountOnceWhenRedisIsBack() throws Exception {
        RedisLimits l = open(false);
        Reservation a = join(l.reserve("capped", DAY, ZoneOffset.UTC, 5_000, 1_000_000));
        Reservation b = join(l.reserve("capped", DAY, ZoneOffset.UTC, 5_000, 1_000_000));
        Reservation free = join(l.reserve("free", DAY, ZoneOffset.UTC, 5_000, KeyLimits.UNLIMITED));
        server.stop();
        l.settle(a, 1_200);
        l.release(b);
        l.settle(free, 700);
        await(() -> l.deferred() >= 2, "the settle and the release queued");
        // while Redis is away a key with a budget cannot be admitted: a 503, never an unchecked answer
        CompletionException refused = assertThrows(
                CompletionException.class, () -> join(l.reserve("capped", DAY, ZoneOffset.UTC, 5_000, 1_000_000)));
        assertInstanceOf(StateStoreException.class, refused.getCause());
        assertTrue(l.refusedUnavailable() >= 1);
        server.start();
        await(() -> l.deferred() == 0, "the waiting writes written after Redis came back");
        DayUsage capped = join(l.usage("capped", DAY));
        assertEquals(1_200, capped.spentNano());
        assertEquals(0, capped.reservedNano(), "the release freed its hold");
        assertEquals(1, capped.requests());
        assertEquals(700, spentInRedis("free"));
        assertEquals(0, l.lost());
    }

    @Test
    void failOpenServesKeysWithLimitsAndKeepsTheirSpend() throws Exception {
        RedisLimits l = open(true);
        server.stop();
        await(() -> !link.connected(), "the link sees Redis gone");
        assertEquals(0L, join(l.acquire("capped", System.currentTimeMillis(), 10, 100, 0)));
        Reservation r = join(l.reserve("capped", DAY, ZoneOffset.UTC, 5_000, 1_000_000));
        assertTrue(r.granted(), "served without its budget while Redis is away");
        l.settle(r, 900);
        assertEquals(2, l.servedOpen());
        server.start();
        await(() -> spent("capped") == 900, "the unchecked request's spend written after Redis came back");
    }

    @Test
    void aChargeBatchSentTwiceCountsOnce() throws Exception {
        open(false);
        RedisBudgets b = new RedisBudgets(
                link.async(), new RedisBudgetScripts(link.async()), "br:", Duration.ofMinutes(1), Duration.ofDays(2));
        new RedisBudgetScripts(link.async()).load().toCompletableFuture().get(2, TimeUnit.SECONDS);
        assertTrue(join(b.charge("twice", DAY, 1, 400, 2)));
        // the reply was lost and the gateway sends the same batch again
        assertEquals(false, join(b.charge("twice", DAY, 1, 400, 2)));
        assertTrue(join(b.charge("twice", DAY, 2, 100, 1)));
        assertEquals(500, spentInRedis("twice"));
        assertEquals(new DayUsage(500, 0, 3), join(b.usage("twice", DAY)));
    }

    @Test
    void aKeyWithBothLimitsIsDecidedInOneScriptAsTheTwoApartWould() throws Exception {
        RedisLimits l = open(false);
        long now = System.currentTimeMillis();
        // rpm 3, a budget for two worst cases: granted, granted, exceeded (counted in the minute), rate-limited
        LimitStoreAdmitted first = admitted(l.admit("both", now, 3, 10, 0, DAY, ZoneOffset.UTC, 4_000, 8_000));
        LimitStoreAdmitted second = admitted(l.admit("both", now, 3, 10, 0, DAY, ZoneOffset.UTC, 4_000, 8_000));
        LimitStoreAdmitted third = admitted(l.admit("both", now, 3, 10, 0, DAY, ZoneOffset.UTC, 4_000, 8_000));
        LimitStoreAdmitted fourth = admitted(l.admit("both", now, 3, 10, 0, DAY, ZoneOffset.UTC, 4_000, 8_000));
        assertTrue(first.granted() && second.granted());
        assertEquals(Reservation.Verdict.BUSY, third.verdict(), "held by the two in flight");
        assertTrue(
                fourth.waitMillis() > 0, "the third request was counted in the minute although the budget refused it");
        l.settle(first.reservation(), 1_000);
        await(
                () -> {
                    try {
                        return join(l.usage("both", DAY)).spentNano() == 1_000;
                    } catch (RuntimeException e) {
                        return false;
                    }
                },
                "the settle written");
    }

    private record LimitStoreAdmitted(long waitMillis, Reservation reservation) {
        boolean granted() {
            return reservation != null && reservation.granted();
        }

        Reservation.Verdict verdict() {
            return reservation.verdict();
        }
    }

    private static LimitStoreAdmitted admitted(
            java.util.concurrent.CompletionStage<io.brainstorm.proxy.state.LimitStore.Admitted> f) {
        var a = join(f);
        return new LimitStoreAdmitted(a.waitMillis(), a.reservation());
    }
}
