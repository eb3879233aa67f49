package io.brainstorm.proxy.auth;

import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Makes and hashes gateway keys: API keys ({@code br_live_}) and admin keys or tokens
 * ({@code br_admin_}), each followed by 32 random base62 characters.
 */
public final class ApiKeys {
    public static final String PREFIX = "br_live_";
    public static final String ADMIN_PREFIX = "br_admin_";
    public static final int RANDOM_CHARS = 32;
    private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
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

    private ApiKeys() {}

    /** A new API key from {@link SecureRandom}; the caller shows it once and keeps only its hash. */
    public static String generate() {
        return generate(PREFIX);
    }

    /** A new admin key or admin token from {@link SecureRandom}; the caller shows it once and keeps only its hash. */
    public static String generateAdmin() {
        return generate(ADMIN_PREFIX);
    }

    private static String generate(String prefix) {
        char[] out = new char[RANDOM_CHARS];
        for (int i = 0; i < out.length; i++) {
            out[i] = BASE62[RANDOM.nextInt(BASE62.length)];
        }
        return prefix + new String(out);
    }

    /** True when {@code key} has the shape of a gateway API key ({@code br_live_}). */
    public static boolean isWellFormed(String key) {
        return key != null && isWellFormed(key, 0, key.length(), PREFIX);
    }

    /** True when {@code key} has the shape of a generated admin key or token ({@code br_admin_}). */
    public static boolean isWellFormedAdmin(String key) {
        return key != null && isWellFormed(key, 0, key.length(), ADMIN_PREFIX);
    }

    /** True when the characters {@code from} (inclusive) to {@code to} (exclusive) of {@code s} are a gateway API key. */
    static boolean isWellFormed(String s, int from, int to) {
        return isWellFormed(s, from, to, PREFIX);
    }

    private static boolean isWellFormed(String s, int from, int to, String prefix) {
        if (to - from != prefix.length() + RANDOM_CHARS || !s.startsWith(prefix, from)) {
            return false;
        }
        for (int i = from + prefix.length(); i < to; i++) {
            if (!isBase62(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isBase62(char c) {
        return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
    }

    /** Lower-case hex SHA-256 of the key's UTF-8 bytes: what is stored instead of the key. */
    public static String sha256(String key) {
        return HEX.formatHex(SHA256.get().digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    /** A short, non-secret label for logs and messages: the prefix and the first 4 random characters. */
    public static String hint(String key) {
        String prefix = key.startsWith(PREFIX) ? PREFIX : key.startsWith(ADMIN_PREFIX) ? ADMIN_PREFIX : null;
        if (prefix == null) {
            return "(not a br_live_ key)";
        }
        return key.length() >= prefix.length() + 4
                ? prefix + key.substring(prefix.length(), prefix.length() + 4) + "…"
                : "(malformed)";
    }
}
