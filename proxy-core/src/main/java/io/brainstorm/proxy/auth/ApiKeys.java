package io.brainstorm.proxy.auth;

import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Makes and hashes gateway API keys: {@code br_live_} followed by 32 random base62 characters. */
public final class ApiKeys {
    public static final String PREFIX = "br_live_";
    public static final int RANDOM_CHARS = 32;
    private static final char[] BASE62 =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();
    /** A digest per thread: every request hashes its key on its event loop. */
    private static final FastThreadLocal<MessageDigest> SHA256 = new FastThreadLocal<>() {
        @Override
        protected MessageDigest initialValue() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 missing from this JDK", e);
            }
        }
    };

    private ApiKeys() {
    }

    /** A new key from {@link SecureRandom}; the caller shows it once and keeps only its hash. */
    public static String generate() {
        char[] out = new char[RANDOM_CHARS];
        for (int i = 0; i < out.length; i++) {
            out[i] = BASE62[RANDOM.nextInt(BASE62.length)];
        }
        return PREFIX + new String(out);
    }

    /** True when {@code key} has the shape of a gateway key. */
    public static boolean isWellFormed(String key) {
        if (key == null || key.length() != PREFIX.length() + RANDOM_CHARS || !key.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
    }

    /** Lower-case hex SHA-256 of the key's UTF-8 bytes: what is stored instead of the key. */
    public static String sha256(String key) {
        return HEX.formatHex(SHA256.get().digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    /** A short, non-secret label for logs: the first 4 random characters. */
    public static String hint(String key) {
        if (!key.startsWith(PREFIX)) {
            return "(not a br_live_ key)";
        }
        return key.length() >= PREFIX.length() + 4 ? PREFIX + key.substring(PREFIX.length(), PREFIX.length() + 4) + "…"
                : "(malformed)";
    }
}
