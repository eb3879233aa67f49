package io.brainstorm.proxy.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Finds the master key that seals provider keys at rest (docs/architecture.md §6): {@value #ENV} (base64 of 32
 * bytes) when set, otherwise a key file, {@code <stateDir>/}{@value #DEFAULT_FILE} unless configured,
 * created with 32 bytes from {@link SecureRandom} and mode 0600 when absent.
 *
 * <p>Losing the key loses the provider keys sealed under it: they must then be set again.
 *
 * <p><b>Errors:</b> messages name the variable or the file and the expected format, never the key.
 */
public final class MasterKey {
    public static final String ENV = "BR_MASTER_KEY";
    public static final String DEFAULT_FILE = "master.key";
    private static final String EXPECTED =
            "base64 of " + SecretBox.KEY_BYTES + " bytes, 44 characters, as made by " + "'openssl rand -base64 32'";
    private static final System.Logger log = System.getLogger(MasterKey.class.getName());

    private MasterKey() {}

    /**
     * The box under the master key.
     *
     * @param envValue {@value #ENV}, or null or empty to use {@code file}
     * @param file     the key file, created when absent (callers creating it concurrently must hold a lock)
     * @throws IllegalArgumentException when {@code envValue} is not base64 of 32 bytes
     * @throws IOException              when the file cannot be read or created, or does not hold base64 of 32 bytes
     */
    public static SecretBox load(@Nullable String envValue, Path file) throws IOException {
        if (envValue != null && !envValue.isEmpty()) {
            byte[] key = decode(envValue);
            if (key == null) {
                throw new IllegalArgumentException(ENV + ": not a valid key (expected: " + EXPECTED + ")");
            }
            return new SecretBox(key);
        }
        if (!Files.exists(file)) {
            create(file);
        }
        byte[] key = decode(Files.readString(file, StandardCharsets.US_ASCII));
        if (key == null) {
            throw new IOException(file + ": not a valid master key (expected: " + EXPECTED + ")");
        }
        PrivateFiles.warnIfShared(file);
        return new SecretBox(key);
    }

    /** The key's bytes, or null when {@code text} is not base64 of exactly 32 bytes. */
    static byte @Nullable [] decode(String text) {
        try {
            byte[] key = Base64.getDecoder().decode(text.strip());
            return key.length == SecretBox.KEY_BYTES ? key : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void create(Path file) throws IOException {
        byte[] key = new byte[SecretBox.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        Path parent = Objects.requireNonNull(file.toAbsolutePath().getParent(), "a file's absolute path has a parent");
        Files.createDirectories(parent);
        Path tmp = parent.resolve(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        PrivateFiles.create(tmp);
        Files.writeString(tmp, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
        // a rename, so that a crash never leaves a half-written key behind
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }
}
