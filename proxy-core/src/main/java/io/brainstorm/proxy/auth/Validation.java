package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the registry accepts: tenant ids, names of tenants and keys, model patterns, rate limits and
 * provider keys, one rule each. The registry (and so the admin API), the config loader and the CLI
 * all check against these, so that a value one of them accepts is accepted by the others, and the
 * CLI refuses before sending what the gateway would refuse.
 *
 * <p>Each check answers yes or no, or says what is wrong; the caller words the error for its reader
 * (an {@code ApiError} naming the field, a usage error naming the option). A tenant id is what
 * {@code registry.json} and {@code brainstorm.yaml} have always held, so every stored id still
 * passes.
 */
public final class Validation {
    /** A tenant id, as messages describe it. */
    public static final String TENANT_ID_RULE =
            "1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit";
    /** The longest name of a tenant or key, in characters. */
    public static final int MAX_NAME_CHARS = 100;
    /** The highest requests-per-minute limit of a key. */
    public static final long MAX_RPM = Integer.MAX_VALUE;
    /** The highest tokens-per-minute limit of a key. */
    public static final long MAX_TPM = Long.MAX_VALUE;

    private static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    private Validation() {}

    /** True when {@code id} is a tenant id ({@value #TENANT_ID_RULE}). */
    public static boolean isTenantId(String id) {
        return id != null && TENANT_ID.matcher(id).matches();
    }

    /**
     * What is wrong with {@code name} as the name of a tenant or key ({@code is empty (expected: 1 to
     * 100 characters)}), or null when it is fine.
     */
    public static @Nullable String nameProblem(@Nullable String name) {
        if (name == null || name.isBlank()) {
            return "is empty (expected: 1 to " + MAX_NAME_CHARS + " characters)";
        }
        if (name.length() > MAX_NAME_CHARS) {
            return "has " + name.length() + " characters (expected: 1 to " + MAX_NAME_CHARS + ")";
        }
        if (name.chars().anyMatch(Character::isISOControl)) {
            return "contains control characters";
        }
        return null;
    }

    /** True when {@code model} may stand in a key's allowed models: not empty, no spaces or control characters. */
    public static boolean isModelPattern(@Nullable String model) {
        return model != null
                && !model.isEmpty()
                && model.chars().noneMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c));
    }

    /**
     * What is wrong with {@code secret} as a provider key ({@code is empty}, {@code contains spaces or
     * control characters}), or null when it is fine. The answer never holds the secret.
     */
    public static @Nullable String providerKeyProblem(@Nullable String secret) {
        if (secret == null || secret.isBlank()) {
            return "is empty";
        }
        if (secret.chars().anyMatch(c -> c <= ' ' || Character.isISOControl(c) || Character.isWhitespace(c))) {
            return "contains spaces or control characters";
        }
        return null;
    }

    /** {@code value} when it is a name ({@link #nameProblem}), else a 400 naming {@code param}. */
    static String checkName(String param, String value) {
        String problem = nameProblem(value);
        if (problem != null) {
            throw ApiError.invalidRequest(param, "'" + param + "' " + problem + ".");
        }
        return value;
    }

    /** A value for a message: quoted, cut to 64 characters, null as {@code null}. */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        return "'" + (s.length() > 64 ? s.substring(0, 64) + "…" : s) + "'";
    }
}
