package io.brainstorm.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals tenants' provider keys for {@code registry.json} (docs/architecture.md §6): AES-256-GCM under the master
 * key, a fresh random 12-byte nonce per seal and a 128-bit tag. The tenant and provider are the
 * associated data, so a sealed key moved to another tenant or provider no longer opens.
 *
 * <p>A sealed value is {@code nonce ‖ ciphertext ‖ tag}.
 *
 * <p><b>Threading:</b> immutable; each call makes its own {@link Cipher}.
 */
public final class SecretBox {
    public static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final String TRANSFORMATION = "AES/GCM/NoPadding";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String CHECK_LABEL = "brainstorm-proxy master key check v1";

    private final SecretKeySpec key;

    /** @param key the 32-byte master key; copied */
    public SecretBox(byte[] key) {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("master key: " + key.length + " bytes (expected: " + KEY_BYTES + ")");
        }
        this.key = new SecretKeySpec(key, "AES");
    }

    /** {@code plaintext} sealed for {@code tenant}'s key of provider account {@code provider}. */
    public byte[] seal(String tenant, String provider, String plaintext) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, nonce, tenant, provider);
            byte[] in = plaintext.getBytes(StandardCharsets.UTF_8);
            byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + cipher.getOutputSize(in.length));
            cipher.doFinal(in, 0, in.length, out, NONCE_BYTES);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not usable in this JDK", e);
        }
    }

    /**
     * The plaintext of a value {@link #seal} made for the same tenant and provider.
     *
     * @throws GeneralSecurityException when it was sealed under another key, for another tenant or
     *                                  provider, or altered since ({@link javax.crypto.AEADBadTagException})
     */
    public String open(String tenant, String provider, byte[] sealed) throws GeneralSecurityException {
        if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new GeneralSecurityException("sealed value: " + sealed.length + " bytes (expected: at least "
                    + (NONCE_BYTES + TAG_BITS / 8) + ")");
        }
        Cipher cipher = cipher(Cipher.DECRYPT_MODE, Arrays.copyOf(sealed, NONCE_BYTES), tenant, provider);
        byte[] plain = cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
        return new String(plain, StandardCharsets.UTF_8);
    }

    /**
     * HMAC-SHA-256 of a fixed label under the master key, in hex: equal for two gateways exactly when
     * they have the same master key, and it tells nothing of the key. Stored in Redis so that a
     * gateway started with another key refuses to start ({@link RegistryRedis}).
     */
    String checkValue() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(CHECK_LABEL.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA-256 is not usable in this JDK", e);
        }
    }

    private Cipher cipher(int mode, byte[] nonce, String tenant, String provider) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(TRANSFORMATION);
        cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD((tenant + "\u0000" + provider).getBytes(StandardCharsets.UTF_8));
        return cipher;
    }

    @Override
    public String toString() {
        return "SecretBox[AES-256-GCM]";
    }
}
