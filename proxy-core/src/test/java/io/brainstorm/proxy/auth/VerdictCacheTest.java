package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.Registry.Bootstrap;
import io.brainstorm.proxy.config.KeyConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key lookup cache, seen through {@link Registry#authenticate}: what a caller gets back, hit or miss. */
class VerdictCacheTest {
    private static final InstantSource CLOCK = InstantSource.system();
    private static final String ADMIN_TOKEN = "a-long-operator-chosen-admin-token";
    /** Every secret in one slot: each lookup that finds an entry there must tell secrets apart by their bytes. */
    private static final VerdictCache.Hash ONE_SLOT = (s, from, to) -> 42L;

    @TempDir
    Path stateDir;

    private static Bootstrap boot(List<KeyConfig> keys) {
        return new Bootstrap(keys, List.of(), Set.of("openai"), ApiKeys.generate(), ADMIN_TOKEN, null, null);
    }

    private static Registry.KeySpec apiKey(String name) {
        return new Registry.KeySpec(name, KeyKind.API, KeyLimits.NONE, List.of(), null);
    }

    private static String bearer(String secret) {
        return "Bearer " + secret;
    }

    private static String refusal(Registry r, String secret) {
        return assertThrows(ApiError.class, () -> r.authenticate(bearer(secret)))
                .getMessage();
    }

    @Test
    void aKeySeenBeforeIsConfirmedFromTheCache() {
        Registry r = Registry.inMemory(boot(List.of()), CLOCK);
        Registry.Created c = r.createKey("default", apiKey("k"));
        assertEquals(0, r.verdicts().size(), "nothing looked up yet");

        ApiKey first = r.authenticate(bearer(c.secret()));
        assertEquals(c.key(), first);
        assertEquals(1, r.verdicts().size(), "the key found by its hash is remembered");
        assertSame(first, r.authenticate(bearer(c.secret())));
        assertSame(first, r.authenticate("bearer \t" + c.secret() + "  "), "the header's spaces and case as before");
        assertEquals(1, r.verdicts().size());
    }

    @Test
    void aSecretWithTheSameCheapHashIsNeverTakenForAnother() {
        Registry r = Registry.inMemory(boot(List.of()), CLOCK, ONE_SLOT);
        Registry.Created a = r.createKey("default", apiKey("a"));
        Registry.Created b = r.createKey("default", apiKey("b"));
        assertEquals(a.key(), r.authenticate(bearer(a.secret())));

        String unknown = ApiKeys.generate();
        assertTrue(refusal(r, unknown).startsWith("Incorrect API key provided"), "an unknown key in A's slot");
        char last = a.secret().charAt(a.secret().length() - 1);
        String oneCharOff = a.secret().substring(0, a.secret().length() - 1) + (last == 'x' ? 'y' : 'x');
        assertTrue(refusal(r, oneCharOff).startsWith("Incorrect API key provided"), "A but for its last character");

        assertEquals(b.key(), r.authenticate(bearer(b.secret())), "B, found while A held the slot");
        assertEquals(a.key(), r.authenticate(bearer(a.secret())), "A again, found while B held the slot");
        assertEquals(1, r.verdicts().size(), "one slot");
    }

    @Test
    void aCharacterOutsideAsciiNeverMatchesTheByteItEndsIn() {
        VerdictCache cache = new VerdictCache(1, ONE_SLOT);
        String secret = ApiKeys.generate();
        ApiKey key = ApiKey.of("k", "default", ApiKeys.sha256(secret));
        cache.put(42L, secret, key);
        assertSame(key, cache.get(42L, "Bearer " + secret, 7, 7 + secret.length()));

        // 'A' + 0x100 keeps 'A' in its low byte
        String lookalike = secret.substring(0, 8) + (char) (secret.charAt(8) + 0x100) + secret.substring(9);
        assertNull(cache.get(42L, lookalike, 0, lookalike.length()));
        assertNull(cache.get(42L, secret + "0", 0, secret.length() + 1), "a longer secret");
    }

    @Test
    void aRevokedKeyIsRefusedRightAfterItsRevocation() {
        Registry r = Registry.inMemory(boot(List.of()), CLOCK);
        Registry.Created c = r.createKey("default", apiKey("k"));
        r.authenticate(bearer(c.secret()));
        r.authenticate(bearer(c.secret()));

        r.revokeKey(c.key().id());
        assertEquals("This API key was revoked.", refusal(r, c.secret()));
        assertEquals("This API key was revoked.", refusal(r, c.secret()), "and stays refused");
    }

    @Test
    void aPeersRevocationIsRefusedAtTheFirstLookupAfterTheFileIsReadAgain() throws Exception {
        Bootstrap boot = boot(List.of());
        try (Registry here = Registry.open(stateDir, boot, CLOCK);
                Registry peer = Registry.open(stateDir, boot, CLOCK)) {
            Registry.Created c = peer.createKey("default", apiKey("k"));
            here.poll(); // what the watcher does every 500 ms
            assertEquals(c.key(), here.authenticate(bearer(c.secret())));
            assertEquals(c.key(), here.authenticate(bearer(c.secret())));
            assertEquals(1, here.verdicts().size());

            peer.revokeKey(c.key().id());
            here.poll();
            assertEquals("This API key was revoked.", refusal(here, c.secret()));
        }
    }

    @Test
    void manyBadKeysNeitherGrowTheCacheNorPushAGoodKeyOut() {
        Registry r = Registry.inMemory(boot(List.of()), CLOCK);
        Registry.Created good = r.createKey("default", apiKey("good"));
        ApiKey key = r.authenticate(bearer(good.secret()));
        for (int i = 0; i < 20_000; i++) {
            refusal(r, ApiKeys.generate());
        }
        assertEquals(1, r.verdicts().size(), "failed lookups are not remembered");
        assertSame(key, r.authenticate(bearer(good.secret())), "the good key's entry is still there");
    }

    @Test
    void manyGoodKeysStayWithinTheBoundAndEachStillFindsItself() {
        int count = 3 * VerdictCache.MAX_SLOTS;
        List<String> secrets = new ArrayList<>();
        List<KeyConfig> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String secret = ApiKeys.generate();
            secrets.add(secret);
            keys.add(new KeyConfig("k" + i, ApiKeys.sha256(secret), "default"));
        }
        Registry r = Registry.inMemory(boot(keys), CLOCK);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < count; i++) {
                assertEquals("k" + i, r.authenticate(bearer(secrets.get(i))).name());
            }
        }
        assertEquals(VerdictCache.MAX_SLOTS, r.verdicts().capacity());
        assertTrue(
                r.verdicts().size() <= VerdictCache.MAX_SLOTS,
                "size " + r.verdicts().size());
    }

    @Test
    void threadsSharingOneSlotEachGetTheirOwnKey() throws Exception {
        assertEachThreadGetsItsOwnKey(Registry.inMemory(boot(List.of()), CLOCK, ONE_SLOT));
    }

    @Test
    void threadsSharingTheSeededCacheEachGetTheirOwnKey() throws Exception {
        assertEachThreadGetsItsOwnKey(Registry.inMemory(boot(List.of()), CLOCK));
    }

    private static void assertEachThreadGetsItsOwnKey(Registry r) throws Exception {
        int threads = 4;
        List<Registry.Created> keys = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            keys.add(r.createKey("default", apiKey("k" + i)));
        }
        String unknown = ApiKeys.generate();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    int checked = 0;
                    for (int i = 0; i < 5_000; i++) {
                        int pick = random.nextInt(threads + 1);
                        if (pick == threads) {
                            assertThrows(ApiError.class, () -> r.authenticate(bearer(unknown)));
                        } else {
                            Registry.Created k = keys.get(pick);
                            assertEquals(
                                    k.key().id(),
                                    r.authenticate(bearer(k.secret())).id());
                        }
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : done) {
                assertEquals(5_000, f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }
}
