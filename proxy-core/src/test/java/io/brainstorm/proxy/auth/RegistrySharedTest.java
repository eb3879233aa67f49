package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.RedisConfig;
import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisServerFixture;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways (two {@link Registry} instances, each with its own {@link RedisLink} and state
 * directory, as on two hosts) over one real {@code redis-server}: what one changes, the other sees
 * within a second.
 */
class RegistrySharedTest {
    private static final String ADMIN_TOKEN = "a-long-operator-chosen-admin-token";
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path redisDir;

    private static @Nullable RedisServerFixture redis;

    @TempDir
    Path hostA;

    @TempDir
    Path hostB;

    private final String masterKey = newMasterKey();
    private final List<AutoCloseable> open = new ArrayList<>();
    private String prefix = "";

    @BeforeAll
    static void startRedis() throws Exception {
        if (RedisServerFixture.binary().isEmpty()) {
            return; // each test says why it is skipped (or fails under BR_REQUIRE_REDIS=1)
        }
        redis = RedisServerFixture.start(redisDir.resolve("redis"), true);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void freshPrefix() {
        RedisServerFixture.assumeInstalled();
        prefix = "reg" + PREFIXES.incrementAndGet() + ":";
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void aKeyMadeOnOneGatewayWorksOnTheOtherAndItsRevocationIsRefusedThereWithinASecond() throws Exception {
        Registry a = gateway(hostA, masterKey, ADMIN_TOKEN);
        Registry b = gateway(hostB, masterKey, ADMIN_TOKEN);
        Registry.Created created = a.createKey(Registry.DEFAULT_TENANT, spec("shared"));

        long made = System.nanoTime();
        awaitWithin(1_000, () -> accepts(b, created.secret()), "B accepts the key made on A");
        long seen = System.nanoTime() - made;

        a.revokeKey(created.key().id());
        long revoked = System.nanoTime();
        awaitWithin(1_000, () -> !accepts(b, created.secret()), "B refuses the key revoked on A");
        long refused = System.nanoTime() - revoked;
        assertTrue(
                refused < TimeUnit.SECONDS.toNanos(1),
                "refused on B " + refused / 1_000_000 + " ms after the revocation on A (expected: < 1000 ms)");
        assertTrue(seen < TimeUnit.SECONDS.toNanos(1), "seen on B after " + seen / 1_000_000 + " ms");
        assertTrue(b.key(created.key().id()).orElseThrow().revoked(), "B lists it as revoked");
    }

    @Test
    void withoutChangeNoticesThePollAloneRefusesARevokedKeyWithinASecond() throws Exception {
        Registry a = gateway(hostA, masterKey, ADMIN_TOKEN);
        Registry b = gateway(hostB, masterKey, ADMIN_TOKEN);
        Registry.Created created = a.createKey(Registry.DEFAULT_TENANT, spec("polled"));
        awaitWithin(1_000, () -> accepts(b, created.secret()), "B accepts the key made on A");
        b.dropNotices(); // as when a notice is lost while B's pub/sub connection is down

        a.revokeKey(created.key().id());
        long revoked = System.nanoTime();
        awaitWithin(1_000, () -> !accepts(b, created.secret()), "B refuses the key revoked on A");
        long refused = System.nanoTime() - revoked;
        assertTrue(
                refused < TimeUnit.SECONDS.toNanos(1),
                "refused on B " + refused / 1_000_000 + " ms after the revocation on A (expected: < 1000 ms)");
    }

    @Test
    void aTenantAndAProviderKeyMadeOnOneGatewayWorkOnTheOther() throws Exception {
        Registry a = gateway(hostA, masterKey, ADMIN_TOKEN);
        Registry b = gateway(hostB, masterKey, ADMIN_TOKEN);
        a.createTenant("acme", "Acme");
        a.setProviderKey("acme", "openai", "sk-acme-secret-1234");
        Registry.Created key = a.createKey("acme", spec("acme key"));

        awaitWithin(1_000, () -> accepts(b, key.secret()), "B accepts the tenant's key made on A");
        assertEquals("acme", b.authenticate(bearer(key.secret())).tenant());
        assertEquals("Acme", b.tenant("acme").orElseThrow().name());
        assertEquals(
                "sk-acme-secret-1234",
                b.providerKey("acme", "openai"),
                "B opens A's provider key with the shared master key");
    }

    @Test
    void aGatewayWithAnotherMasterKeyRefusesToStart() throws Exception {
        gateway(hostA, masterKey, ADMIN_TOKEN);
        // B has no BR_MASTER_KEY: it makes a master.key of its own, as a second host would
        IOException e = assertThrows(IOException.class, () -> gateway(hostB, null, ADMIN_TOKEN));
        assertTrue(
                e.getMessage().contains("Set the same BR_MASTER_KEY on every gateway"),
                "the message says what to do: " + e.getMessage());
        assertTrue(!e.getMessage().contains(masterKey), "the message shows no key");
    }

    @Test
    void twoGatewaysStartingAtOnceOnAnEmptyRedisMakeOneDemoKeyAndOneAdminToken() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Callable<Registry> start = () -> {
                go.await();
                return gateway(Path.of(hostA.toString(), Thread.currentThread().getName()), masterKey, null);
            };
            Future<Registry> fa = pool.submit(start);
            Future<Registry> fb = pool.submit(start);
            go.countDown();
            Registry a = fa.get(20, TimeUnit.SECONDS);
            Registry b = fb.get(20, TimeUnit.SECONDS);

            List<Registry.NewSecret> shown = new ArrayList<>(a.takeNewSecrets());
            shown.addAll(b.takeNewSecrets());
            List<String> demo = shown.stream()
                    .filter(s -> s.fileName().equals(Registry.DEMO_KEY_FILE))
                    .map(Registry.NewSecret::secret)
                    .toList();
            assertEquals(1, demo.size(), "one demo key shown, by one gateway: " + shown);
            assertEquals(
                    1,
                    shown.stream()
                            .filter(s -> s.fileName().equals(Registry.ADMIN_TOKEN_FILE))
                            .count(),
                    "one admin token shown: " + shown);
            awaitWithin(1_000, () -> accepts(a, demo.get(0)) && accepts(b, demo.get(0)), "both accept it");
            assertEquals(1, b.allKeys().size(), "one key in the shared registry: " + b.allKeys());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void changesMadeAtTheSameTimeOnBothGatewaysAreAllKept() throws Exception {
        Registry a = gateway(hostA, masterKey, ADMIN_TOKEN);
        Registry b = gateway(hostB, masterKey, ADMIN_TOKEN);
        int each = 25;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<String>>> made = new ArrayList<>();
            for (Registry r : List.of(a, b)) {
                made.add(pool.submit(() -> {
                    go.await();
                    List<String> secrets = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        secrets.add(r.createKey(Registry.DEFAULT_TENANT, spec("k" + i))
                                .secret());
                    }
                    return secrets;
                }));
            }
            go.countDown();
            List<String> secrets = new ArrayList<>();
            for (Future<List<String>> f : made) {
                secrets.addAll(f.get(20, TimeUnit.SECONDS));
            }
            awaitWithin(
                    1_000,
                    () -> secrets.stream().allMatch(s -> accepts(a, s) && accepts(b, s)),
                    "every key made on either gateway works on both");
            // and the demo key, made at the first start
            assertEquals(2 * each + 1, a.allKeys().size(), "keys on A");
            assertEquals(2 * each + 1, b.allKeys().size(), "keys on B");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void afterRedisRestartsTheGatewaysStillFollowEachOther() throws Exception {
        RedisServerFixture own = RedisServerFixture.start(hostA.resolve("own-redis"), true);
        open.add(own);
        Registry a = gateway(own, hostA, masterKey, ADMIN_TOKEN);
        Registry b = gateway(own, hostB, masterKey, ADMIN_TOKEN);
        Registry.Created before = a.createKey(Registry.DEFAULT_TENANT, spec("before"));
        awaitWithin(1_000, () -> accepts(b, before.secret()), "B follows A");

        own.stop();
        ApiError down = assertThrows(ApiError.class, () -> a.createKey(Registry.DEFAULT_TENANT, spec("while down")));
        assertEquals(503, down.status().code(), "a change while Redis is down: " + down.getMessage());
        assertTrue(accepts(b, before.secret()), "B keeps serving the keys it knows");
        own.start();

        // A's connection comes back by itself; its first change after that must reach B
        Registry.Created after = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (after == null) {
            try {
                after = a.createKey(Registry.DEFAULT_TENANT, spec("after"));
            } catch (ApiError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
        String secret = after.secret();
        awaitWithin(1_000, () -> accepts(b, secret), "B follows A's change after the restart");
        assertTrue(accepts(b, before.secret()), "the key from before the restart is kept (appendonly)");
    }

    // ---- helpers ----

    private Registry gateway(Path stateDir, @Nullable String master, @Nullable String adminToken) throws Exception {
        return gateway(redis(), stateDir, master, adminToken);
    }

    private Registry gateway(
            RedisServerFixture server, Path stateDir, @Nullable String master, @Nullable String adminToken)
            throws Exception {
        RedisLink link = RedisLink.connect(RedisConfig.of(server.uri()).withPrefix(prefix));
        synchronized (open) {
            open.add(link);
        }
        Registry r = Registry.openShared(
                link,
                stateDir,
                new Registry.Bootstrap(List.of(), List.of(), Set.of("openai"), null, adminToken, master, null),
                InstantSource.system());
        synchronized (open) {
            open.add(r);
        }
        return r;
    }

    private static RedisServerFixture redis() {
        RedisServerFixture r = redis;
        if (r == null) {
            throw new IllegalStateException("redis-server was not started");
        }
        return r;
    }

    private static Registry.KeySpec spec(String name) {
        return new Registry.KeySpec(name, KeyKind.API, KeyLimits.NONE, List.of(), null);
    }

    private static boolean accepts(Registry r, String secret) {
        try {
            r.authenticate(bearer(secret));
            return true;
        } catch (ApiError e) {
            return false;
        }
    }

    private static String bearer(String secret) {
        return "Bearer " + secret;
    }

    private static void awaitWithin(long millis, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what + ": not within " + millis + " ms");
            }
            Thread.sleep(5);
        }
    }

    private static String newMasterKey() {
        byte[] key = new byte[SecretBox.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }
}
