package io.brainstorm.proxy.config;

/**
 * A configuration file ({@code brainstorm.yaml}, {@code models.yaml}) is unreadable or invalid.
 *
 * <p>The message names the field path and what was expected, e.g.
 * {@code providers[1].base_url: "ftp://x" (expected: an http or https URL)}; when the problem is in a
 * file the message starts with that file's name. Messages never contain a secret: API keys and
 * key hashes are shown as {@code (hidden)}.
 */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
