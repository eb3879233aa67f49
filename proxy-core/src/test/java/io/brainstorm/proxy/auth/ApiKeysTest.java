package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void generatedKeysAreWellFormedAndDistinct() {
        Set<String> seen = new HashSet<>();
        Set<Character> alphabet = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            String key = ApiKeys.generate();
            assertTrue(key.matches("br_live_[0-9A-Za-z]{32}"), key);
            assertTrue(ApiKeys.isWellFormed(key), key);
            assertTrue(seen.add(key), "no key twice");
            for (char c : key.substring(ApiKeys.PREFIX.length()).toCharArray()) {
                alphabet.add(c);
            }
        }
        assertEquals(62, alphabet.size(), "all of base62 is used");
    }

    @Test
    void malformedKeysAreRecognised() {
        String good = ApiKeys.generate();
        String random = good.substring(ApiKeys.PREFIX.length());
        assertFalse(ApiKeys.isWellFormed(null));
        assertFalse(ApiKeys.isWellFormed(""));
        assertFalse(ApiKeys.isWellFormed(good.substring(0, good.length() - 1)), "31 characters");
        assertFalse(ApiKeys.isWellFormed(good + "a"), "33 characters");
        assertFalse(ApiKeys.isWellFormed("BR_LIVE_" + random), "prefix is case-sensitive");
        assertFalse(ApiKeys.isWellFormed("sk_live_" + random));
        assertFalse(ApiKeys.isWellFormed(ApiKeys.PREFIX + random.substring(1) + "-"));
        assertFalse(ApiKeys.isWellFormed(ApiKeys.PREFIX + random.substring(1) + "é"), "letters are ASCII only");
        assertFalse(ApiKeys.isWellFormed(ApiKeys.PREFIX + random.substring(1) + "٣"), "digits are ASCII only");
        assertFalse(ApiKeys.isWellFormed(" " + good.substring(1)));
    }

    @Test
    void sha256IsStableLowerCaseHex() {
        // FIPS 180-2 test vector
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeys.sha256("abc"));
        String key = ApiKeys.generate();
        assertEquals(ApiKeys.sha256(key), ApiKeys.sha256(new String(key.toCharArray())));
        assertTrue(ApiKeys.sha256(key).matches("[0-9a-f]{64}"));
        assertNotEquals(ApiKeys.sha256(key), ApiKeys.sha256(ApiKeys.generate()));
    }

    @Test
    void hintShowsOnlyAFewCharacters() {
        String key = ApiKeys.generate();
        String hint = ApiKeys.hint(key);
        assertTrue(hint.startsWith(key.substring(0, ApiKeys.PREFIX.length() + 4)), hint);
        assertFalse(hint.contains(key.substring(ApiKeys.PREFIX.length() + 4, ApiKeys.PREFIX.length() + 8)), hint);
        assertEquals("(not a br_live_ key)", ApiKeys.hint("short"));
        assertEquals(
                "(not a br_live_ key)",
                ApiKeys.hint("sk-proj-abcdefghijklmnop"),
                "a pasted provider key shows nothing");
        assertEquals("(malformed)", ApiKeys.hint("br_live_ab"));
    }

    @Test
    void apiKeyIdIsDerivedFromTheHashNotTheSecret() {
        String secret = ApiKeys.generate();
        ApiKey key = ApiKey.of("demo", "default", ApiKeys.sha256(secret));
        assertEquals("key_" + ApiKeys.sha256(secret).substring(0, 12), key.id());
        assertFalse(key.toString().contains(secret.substring(ApiKeys.PREFIX.length())), key.toString());
    }

    @Test
    void adminKeysHaveTheirOwnPrefixAndAreNotApiKeys() {
        String admin = ApiKeys.generateAdmin();
        assertTrue(admin.matches("br_admin_[0-9A-Za-z]{32}"), admin);
        assertTrue(ApiKeys.isWellFormedAdmin(admin));
        assertFalse(ApiKeys.isWellFormed(admin), "an admin key is not an API key");
        assertFalse(ApiKeys.isWellFormedAdmin(ApiKeys.generate()), "an API key is not an admin key");
        assertFalse(ApiKeys.isWellFormedAdmin(admin + "a"));
        assertFalse(ApiKeys.isWellFormedAdmin(admin.substring(0, admin.length() - 1) + "-"));
        assertFalse(ApiKeys.isWellFormedAdmin(null));
        assertNotEquals(admin, ApiKeys.generateAdmin());
        String hint = ApiKeys.hint(admin);
        assertTrue(hint.startsWith(admin.substring(0, ApiKeys.ADMIN_PREFIX.length() + 4)), hint);
        assertFalse(hint.contains(admin.substring(ApiKeys.ADMIN_PREFIX.length() + 4)), hint);
    }
}
