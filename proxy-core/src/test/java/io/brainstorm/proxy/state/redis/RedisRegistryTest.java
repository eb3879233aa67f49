package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.brainstorm.proxy.config.RedisConfig;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisRegistry} against a real {@code redis-server}: {@code registry_cas.lua} writes only
 * over the version the caller read and announces each write; the master key's check value is kept
 * from the first gateway.
 */
class RedisRegistryTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path tmp;

    private static @Nullable RedisServerFixture server;

    private @Nullable RedisLink link;
    private RedisRegistry registry = null;

    @BeforeAll
    static void startRedis() throws Exception {
        if (RedisServerFixture.binary().isEmpty()) {
            return; // each test says why it is skipped (or fails under BR_REQUIRE_REDIS=1)
        }
        server = RedisServerFixture.start(tmp.resolve("redis"), false);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void connect() throws Exception {
        RedisServerFixture.assumeInstalled();
        RedisServerFixture s = server;
        if (s == null) {
            throw new IllegalStateException("redis-server was not started");
        }
        RedisLink l = RedisLink.connect(RedisConfig.of(s.uri()).withPrefix("rr" + PREFIXES.incrementAndGet() + ":"));
        link = l;
        registry = new RedisRegistry(l);
    }

    @AfterEach
    void disconnect() {
        if (link != null) {
            link.close();
        }
    }

    @Test
    void aWriteOverAStaleVersionIsRefusedAndLeavesTheStateAsItWas() throws Exception {
        assertEquals(new RedisRegistry.Stored(0, null), get(registry.read()));
        assertEquals(1L, get(registry.compareAndSet(0, "{\"a\":1}")));
        assertEquals(2L, get(registry.compareAndSet(1, "{\"a\":2}")));

        assertEquals(-1L, get(registry.compareAndSet(1, "{\"stale\":true}")), "a write over version 1");
        assertEquals(-1L, get(registry.compareAndSet(0, "{\"stale\":true}")), "a write over no state");
        assertEquals(new RedisRegistry.Stored(2, "{\"a\":2}"), get(registry.read()));
        assertEquals(2L, get(registry.version()));
    }

    @Test
    void everyWriteIsAnnouncedOnTheChannel() throws Exception {
        LinkedBlockingQueue<String> notices = new LinkedBlockingQueue<>();
        try (StatefulRedisPubSubConnection<String, String> c = registry.subscribe(() -> notices.add("changed"))) {
            get(registry.compareAndSet(0, "{}"));
            get(registry.compareAndSet(0, "{\"refused\":true}"));
            get(registry.compareAndSet(1, "{\"b\":1}"));
            assertEquals("changed", notices.poll(2, TimeUnit.SECONDS));
            assertEquals("changed", notices.poll(2, TimeUnit.SECONDS));
            assertNull(notices.poll(200, TimeUnit.MILLISECONDS), "a refused write announces nothing");
        }
    }

    @Test
    void theFirstMasterCheckStoredIsKept() throws Exception {
        assertEquals("first", get(registry.claimMasterCheck("first")));
        assertEquals("first", get(registry.claimMasterCheck("second")), "a later gateway's check is not stored");
    }

    private static <T> T get(java.util.concurrent.CompletionStage<T> f) throws Exception {
        return f.toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
}
