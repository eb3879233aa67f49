package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Observation;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.state.redis.RedisCellStore;
import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisServerFixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learning state and the answer log of {@code state_store: redis} ({@link RedisStateParts})
 * against a real {@code redis-server}: two gateways' observations merge as if one gateway had made
 * them all, none is lost to concurrent flushes nor to Redis going away and coming back, feedback
 * finds an answer given by the other gateway (only for its tenant), and the request path reads its
 * copy while Redis is down.
 */
class RedisStatePartsTest {
    private static final TaskClass JSON_SMALL = TaskClass.of(false, true, 10);
    private static final TaskClass TOOLS_LARGE = TaskClass.of(true, false, 100_000);
    private static final String CANDIDATE = "sim/alpha@sim-east";
    /** Order matters with a discount below 1 and the detector on: equal beliefs mean the same order. */
    private static final LearningSettings ORDERED = LearningSettings.DEFAULTS.withDiscount(0.9);

    @TempDir
    Path tmp;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private RedisServerFixture redis(boolean appendOnly) throws Exception {
        RedisServerFixture server = RedisServerFixture.start(tmp.resolve("redis"), appendOnly);
        open.add(server);
        return server;
    }

    private RedisLink link(RedisServerFixture server) throws Exception {
        RedisLink link = RedisLink.connect(RedisConfig.of(server.uri()));
        open.add(link);
        return link;
    }

    private RedisStateParts gateway(RedisServerFixture server) throws Exception {
        RedisStateParts parts = RedisStateParts.unstarted(link(server));
        open.add(parts);
        return parts;
    }

    @Test
    void twoGatewaysMergeInterleavedBatchesAsOneGatewayMakingThemInThatOrder() throws Exception {
        RedisServerFixture server = redis(false);
        RedisStateParts a = gateway(server);
        RedisStateParts b = gateway(server);
        LearningStore la = a.learning(ORDERED);
        LearningStore lb = b.learning(ORDERED);
        LearningStore serial = StateStore.inMemory().learning(ORDERED);
        Random random = new Random(14);
        long now = 1_000;
        for (int round = 0; round < 12; round++) {
            // each gateway flushes a batch made on its own, possibly stale, view: the CAS puts it on top
            for (RedisStateParts g : List.of(a, b)) {
                LearningStore l = g == a ? la : lb;
                for (int i = random.nextInt(4) + 1; i > 0; i--) {
                    TaskClass tc = random.nextBoolean() ? JSON_SMALL : TOOLS_LARGE;
                    Observation o = Observation.of(random.nextInt(5) / 4.0, 1 + random.nextInt(2), now++);
                    l.observe(CANDIDATE, tc, o);
                    serial.observe(CANDIDATE, tc, o);
                }
                g.flush();
            }
        }
        a.refresh();
        b.refresh();
        // past the heap view's refresh interval, so each reads the merged entry from its mirror
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(RedisStateParts.REFRESH_NANOS) + 100);
        for (TaskClass tc : List.of(JSON_SMALL, TOOLS_LARGE)) {
            Belief expected = serial.belief(CANDIDATE, tc);
            assertTrue(expected.observations() > 5, () -> "observations of " + tc + ": " + expected);
            assertEquals(expected, la.belief(CANDIDATE, tc), "gateway A, " + tc);
            assertEquals(expected, lb.belief(CANDIDATE, tc), "gateway B, " + tc);
        }
        assertEquals(serial.snapshot(), la.snapshot());
        assertEquals(serial.snapshot(), lb.snapshot());
    }

    @Test
    void concurrentFlushesOfTwoGatewaysLoseNoObservation() throws Exception {
        RedisServerFixture server = redis(false);
        // no discount, no detector: α + β − 2 is the sum of every observation's weight
        LearningSettings additive = LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF);
        int perThread = 1_500;
        List<Thread> threads = new ArrayList<>();
        List<RedisStateParts> gateways = new ArrayList<>();
        for (int g = 0; g < 2; g++) {
            RedisStateParts parts = RedisStateParts.start(link(server));
            open.add(parts);
            gateways.add(parts);
            LearningStore l = parts.learning(additive);
            for (int t = 0; t < 2; t++) {
                threads.add(new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        l.observe(CANDIDATE, JSON_SMALL, Observation.of(i % 2, 1, i));
                        if (i % 50 == 0) {
                            // spread the observations over many flushes of both gateways
                            sleep(5);
                        }
                    }
                }));
            }
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        for (RedisStateParts g : gateways) {
            g.close();
            assertEquals(0, g.observationsLost());
        }
        RedisStateParts reader = gateway(server);
        reader.refresh();
        Belief merged = reader.learning(additive).belief(CANDIDATE, JSON_SMALL);
        int total = 4 * perThread;
        assertEquals(total, merged.observations());
        assertEquals(total, merged.evidence(), 1e-9);
        assertEquals(total / 2.0, merged.alpha() - 1, 1e-9);
    }

    @Test
    void feedbackFindsAnAnswerGivenByTheOtherGatewayOnlyForItsTenant() throws Exception {
        RedisServerFixture server = redis(false);
        RedisStateParts a = gateway(server);
        RedisStateParts b = gateway(server);
        long now = System.currentTimeMillis();
        AnswerLog.Answer answer = new AnswerLog.Answer("tenant-1", "sim/alpha@sim-east", JSON_SMALL, now);
        a.answers().remember("req-1", answer);
        // before the flush: this gateway finds it in its queue, the other does not yet
        assertEquals(answer, join(a.answers().lookup("req-1", "tenant-1", now)));
        assertNull(join(b.answers().lookup("req-1", "tenant-1", now)));
        a.flush();
        assertEquals(answer, join(b.answers().lookup("req-1", "tenant-1", now + 1)));
        assertEquals(answer, b.answers().find("req-1", "tenant-1", now + 1));
        assertNull(join(b.answers().lookup("req-1", "tenant-2", now + 1)));
        assertNull(join(b.answers().lookup("req-2", "tenant-1", now + 1)));
        assertNull(join(b.answers().lookup("req-1", "tenant-1", now + AnswerLog.RETENTION_MILLIS + 1)));
        // the first answer to an id stands, whichever gateway gives the second
        b.answers().remember("req-1", new AnswerLog.Answer("tenant-1", "sim/beta@sim-west", TOOLS_LARGE, now + 5));
        b.flush();
        assertEquals(answer, join(a.answers().lookup("req-1", "tenant-1", now + 10)));
    }

    @Test
    void redisStoppedAndStartedAgainLosesNoObservationNorAnswer() throws Exception {
        RedisServerFixture server = redis(true);
        RedisStateParts a = gateway(server);
        RedisStateParts b = gateway(server);
        LearningStore la = a.learning(ORDERED);
        LearningStore lb = b.learning(ORDERED);
        LearningStore serial = StateStore.inMemory().learning(ORDERED);
        long now = System.currentTimeMillis();
        for (int i = 0; i < 5; i++) {
            Observation o = Observation.of(1, 1, now + i);
            la.observe(CANDIDATE, JSON_SMALL, o);
            serial.observe(CANDIDATE, JSON_SMALL, o);
        }
        a.flush();
        b.refresh();
        Belief before = lb.belief(CANDIDATE, JSON_SMALL);
        assertEquals(serial.belief(CANDIDATE, JSON_SMALL), before);

        server.stop();
        AnswerLog.Answer answer = new AnswerLog.Answer("tenant-1", CANDIDATE, JSON_SMALL, now);
        a.answers().remember("req-down", answer);
        for (int i = 0; i < 7; i++) {
            Observation o = Observation.of(0, 1, now + 100 + i);
            la.observe(CANDIDATE, JSON_SMALL, o);
            serial.observe(CANDIDATE, JSON_SMALL, o);
            if (i == 3) {
                a.flush(); // fails: the batch stays, and the later observations queue behind it
            }
        }
        a.flush();
        assertEquals(0, a.observationsLost());
        // this gateway sees its own waiting observations; the other reads its copy, never Redis
        assertEquals(serial.belief(CANDIDATE, JSON_SMALL), la.belief(CANDIDATE, JSON_SMALL));
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(RedisStateParts.REFRESH_NANOS) + 100);
        b.refresh();
        long t0 = System.nanoTime();
        assertEquals(before, lb.belief(CANDIDATE, JSON_SMALL));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(50), "a read waited for Redis");
        assertEquals(answer, join(a.answers().lookup("req-down", "tenant-1", now)));

        server.start();
        assertTrue(
                eventually(10_000, () -> {
                    a.flush();
                    b.refresh();
                    return lb.snapshot().equals(serial.snapshot());
                }),
                () -> "B after the restart: " + lb.snapshot() + " (expected: " + serial.snapshot() + ")");
        assertEquals(0, a.observationsLost());
        assertEquals(answer, join(b.answers().lookup("req-down", "tenant-1", now + 1)));

        // and what was acknowledged survives a restart of Redis itself (appendonly yes)
        server.stop();
        server.start();
        RedisStateParts c = gateway(server);
        assertTrue(eventually(5_000, () -> {
            c.refresh();
            return c.learning(ORDERED).snapshot().equals(serial.snapshot());
        }));
        assertEquals(answer, join(c.answers().lookup("req-down", "tenant-1", now + 1)));
    }

    @Test
    void aWriteTriedAgainWithTheSameIdLandsOnce() throws Exception {
        RedisServerFixture server = redis(false);
        RedisCellStore store = new RedisCellStore(link(server), 2);
        CellStore.Op addOne = c -> ++c[0];
        assertEquals(1, store.update("k", 41, addOne));
        // its answer "lost": the caller tries it again under the same id, and Redis keeps the first
        store.update("k", 41, addOne);
        assertEquals(2, store.update("k", 42, addOne));
        RedisCellStore other = new RedisCellStore(link(server), 2);
        other.refresh();
        long[] c = new long[2];
        assertTrue(other.read("k", c));
        assertEquals(2, c[0]);
        assertFalse(other.read("absent", c));
    }

    private static <T> @Nullable T join(CompletionStage<T> f) {
        return f.toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
    }

    private static boolean eventually(long millis, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            if (done.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return done.getAsBoolean();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
