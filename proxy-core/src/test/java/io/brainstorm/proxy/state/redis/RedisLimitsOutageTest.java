package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.state.Reservation;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisLimits} on a {@link RedisLink} to a real {@code redis-server} that goes away and comes
 * back: what an operator notices is how soon budgeted keys are served again after Redis returns, and
 * whether the store says writes wait for Redis when they do not.
 */
class RedisLimitsOutageTest {
    private static final LocalDate DAY = LocalDate.of(2026, 12, 8);

    @TempDir
    Path tmp;

    private @Nullable RedisServerFixture server;
    private @Nullable RedisState state;

    @AfterEach
    void stop() throws Exception {
        if (state != null) {
            state.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private RedisLimits open() throws Exception {
        RedisServerFixture s = RedisServerFixture.start(tmp.resolve("redis"), true);
        server = s;
        RedisState st = RedisState.open(RedisConfig.of(s.uri()).withHoldTtl(Duration.ofMinutes(1)));
        state = st;
        return st.limits();
    }

    private static boolean reserves(RedisLimits limits) {
        try {
            Reservation r = limits.reserve("k", DAY, ZoneOffset.UTC, 1_000, 1_000_000_000)
                    .toCompletableFuture()
                    .get(2, TimeUnit.SECONDS);
            limits.release(r);
            return r.granted();
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void budgetedKeysAreServedWithinAboutASecondOfRedisComingBackHoweverLongItWasAway() throws Exception {
        RedisLimits limits = open();
        RedisServerFixture s = server;
        assertTrue(reserves(limits));
        s.stop();
        // long enough for Lettuce's default back-off (doubling up to 30 s) to wait seconds between tries
        long stoppedUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(9);
        while (System.nanoTime() < stoppedUntil) {
            assertTrue(!reserves(limits), "no reservation while Redis is away");
            Thread.sleep(200);
        }
        s.start();
        long t0 = System.nanoTime();
        while (!reserves(limits)) {
            assertTrue(
                    System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(2_500),
                    "budgeted keys still refused 2.5 s after Redis came back");
            Thread.sleep(20);
        }
    }

    @Test
    void noWriteWaitsWhileRedisAnswers() throws Exception {
        RedisLimits limits = open();
        // a key without limits (journaled, written in batches every 100 ms) beside a budgeted one
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int settled = 0;
        while (System.nanoTime() < until) {
            Reservation free = limits.reserve("free", DAY, ZoneOffset.UTC, 1_000, KeyLimits.UNLIMITED)
                    .toCompletableFuture()
                    .get(2, TimeUnit.SECONDS);
            limits.settle(free, 700);
            Reservation budgeted = limits.reserve("budgeted", DAY, ZoneOffset.UTC, 1_000, 1_000_000_000)
                    .toCompletableFuture()
                    .get(2, TimeUnit.SECONDS);
            limits.settle(budgeted, 700);
            settled++;
        }
        assertTrue(settled > 100, settled + " settles");
        assertEquals(0, limits.deferredTotal(), "writes counted as waiting for Redis, which answered every time");
    }

    /**
     * The errors Lettuce fails commands with when the connection drops under them (SHUTDOWN NOSAVE
     * did this to a journal batch, which was then dropped as if Redis had refused it): each means
     * Redis is away, so the write is kept and retried.
     */
    @Test
    void theErrorsOfADroppedConnectionMeanRedisIsAway() {
        assertTrue(RedisLink.unavailable(new io.lettuce.core.RedisException("Connection disconnected")));
        assertTrue(RedisLink.unavailable(new io.lettuce.core.RedisException("Connection closed")));
        assertTrue(RedisLink.unavailable(new java.util.concurrent.CompletionException(
                new io.lettuce.core.RedisException(new java.io.IOException("Connection reset by peer")))));
        assertTrue(RedisLink.unavailable(
                new io.lettuce.core.RedisCommandExecutionException("LOADING Redis is loading the dataset in memory")));
        assertTrue(!RedisLink.unavailable(
                new io.lettuce.core.RedisCommandExecutionException("ERR Error running script: bad argument")));
    }
}
