package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

class SecretBoxTest {
    private static final String SECRET = "sk-proj-Zq8XnT1cR4vB7yL0aM3kP6wE9sD2fG5h";

    private static SecretBox box() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new SecretBox(key);
    }

    @Test
    void sealedKeyOpensForTheSameTenantAndProvider() throws Exception {
        SecretBox box = box();
        byte[] sealed = box.seal("acme", "openai", SECRET);
        assertEquals(SECRET, box.open("acme", "openai", sealed));
        assertEquals(
                SecretBox.NONCE_BYTES + SECRET.length() + SecretBox.TAG_BITS / 8,
                sealed.length,
                "nonce, ciphertext as long as the key, 16-byte tag");
        assertFalse(new String(sealed, StandardCharsets.ISO_8859_1).contains("sk-proj"), "no plaintext in it");
    }

    @Test
    void everySealHasItsOwnNonce() {
        SecretBox box = box();
        byte[] a = box.seal("acme", "openai", SECRET);
        byte[] b = box.seal("acme", "openai", SECRET);
        assertFalse(Arrays.equals(Arrays.copyOf(a, SecretBox.NONCE_BYTES), Arrays.copyOf(b, SecretBox.NONCE_BYTES)));
        assertFalse(Arrays.equals(a, b));
    }

    @Test
    void aKeyMovedToAnotherTenantOrProviderDoesNotOpen() {
        SecretBox box = box();
        byte[] sealed = box.seal("acme", "openai", SECRET);
        assertThrows(AEADBadTagException.class, () -> box.open("other", "openai", sealed));
        assertThrows(AEADBadTagException.class, () -> box.open("acme", "groq", sealed));
        // the separator keeps ("ab", "c") apart from ("a", "bc")
        byte[] joined = box.seal("ab", "c", SECRET);
        assertThrows(AEADBadTagException.class, () -> box.open("a", "bc", joined));
    }

    @Test
    void anotherMasterKeyOrAnAlteredByteDoesNotOpen() {
        SecretBox box = box();
        byte[] sealed = box.seal("acme", "openai", SECRET);
        assertThrows(AEADBadTagException.class, () -> box().open("acme", "openai", sealed));
        for (int i : new int[] {0, SecretBox.NONCE_BYTES, sealed.length - 1}) {
            byte[] altered = sealed.clone();
            altered[i] ^= 1;
            assertThrows(AEADBadTagException.class, () -> box.open("acme", "openai", altered), "byte " + i);
        }
        assertThrows(GeneralSecurityException.class, () -> box.open("acme", "openai", new byte[20]), "too short");
    }

    @Test
    void theMasterKeyHas32Bytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SecretBox(new byte[16]));
        assertTrue(e.getMessage().contains("16 bytes (expected: 32)"), e.getMessage());
        byte[] key = new byte[32];
        SecretBox box = new SecretBox(key);
        key[0] = 1; // the box copied it
        assertThrows(AEADBadTagException.class, () -> new SecretBox(key).open("t", "p", box.seal("t", "p", "x")));
    }
}
