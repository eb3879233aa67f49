package io.brainstorm.proxy.settle.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The audit trail's HMAC key (docs/architecture.md §9): {@value #ENV} (hex or base64, at least 32 bytes) when
 * set, otherwise a key file, {@code <state_dir>/audit.key} unless configured, created with 32 bytes
 * from {@link SecureRandom} (as 64 hex digits) and mode 0600 when absent. The key file must lie
 * outside the audit folder: whoever can rewrite the records must not find the key beside them.
 *
 * <p>Losing the key does not lose records, but they can no longer be verified: keep a copy where the
 * trail's readers cannot write.
 *
 * <p><b>Errors:</b> messages name the variable or the file and the expected format, never the key.
 */
public final class AuditKey {
    public static final String ENV = "BR_AUDIT_KEY";
    public static final int MIN_BYTES = 32;
    private static final String EXPECTED = "at least " + MIN_BYTES + " bytes as hex (64 or more hex digits, as made"
            + " by 'openssl rand -hex 32') or base64";
    private static final System.Logger log = System.getLogger(AuditKey.class.getName());

    private AuditKey() {}

    /**
     * The key for writing: {@value #ENV} from {@code env}, else {@code keyFile}, created when absent.
     *
     * @param auditDir the audit folder, which must not hold the key file
     * @throws IllegalArgumentException when {@value #ENV} is set but not a valid key
     * @throws IOException              when the key file lies in {@code auditDir}, cannot be read or
     *                                  created, or holds no valid key
     */
    public static byte[] load(Map<String, String> env, Path keyFile, Path auditDir) throws IOException {
        String value = env.get(ENV);
        if (value != null && !value.isBlank()) {
            return fromEnv(value);
        }
        Path key = keyFile.toAbsolutePath().normalize();
        if (key.startsWith(auditDir.toAbsolutePath().normalize())) {
            throw new IOException("audit.key_file: " + keyFile + " lies inside the audit folder " + auditDir
                    + " (expected: a file outside it, e.g. <state_dir>/audit.key, so that whoever can edit the"
                    + " records cannot also find the key)");
        }
        if (!Files.exists(key)) {
            create(key);
        }
        return read(key);
    }

    /**
     * The key for verifying: {@value #ENV}, else {@code keyFile}, which must exist (a verifier never
     * makes a key).
     */
    public static byte[] forVerify(Map<String, String> env, @Nullable Path keyFile) throws IOException {
        String value = env.get(ENV);
        if (keyFile == null && value != null && !value.isBlank()) {
            return fromEnv(value);
        }
        if (keyFile == null || !Files.exists(keyFile)) {
            throw new IOException((keyFile == null ? "no key file" : keyFile + " does not exist")
                    + " (expected: the key that wrote the trail, from " + ENV + ", --key-file FILE or"
                    + " <state_dir>/audit.key)");
        }
        return read(keyFile);
    }

    private static byte[] fromEnv(String value) {
        byte[] key = decode(value);
        if (key == null) {
            throw new IllegalArgumentException(ENV + ": not a valid audit key (expected: " + EXPECTED + ")");
        }
        return key;
    }

    private static byte[] read(Path file) throws IOException {
        byte[] key = decode(Files.readString(file, StandardCharsets.US_ASCII));
        if (key == null) {
            throw new IOException(file + ": not a valid audit key (expected: " + EXPECTED + ")");
        }
        io.brainstorm.proxy.auth.PrivateFiles.warnIfShared(file);
        return key;
    }

    /** The key's bytes, or null when {@code text} is neither hex nor base64 of at least 32 bytes. */
    static byte @Nullable [] decode(String text) {
        String t = text.strip();
        byte[] key;
        if (t.length() % 2 == 0 && t.matches("[0-9a-fA-F]+")) {
            key = HexFormat.of().parseHex(t);
        } else {
            try {
                key = Base64.getDecoder().decode(t);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return key.length >= MIN_BYTES ? key : null;
    }

    /**
     * Writes a new key into a temporary file of mode 0600 and links it into place: when two gateway
     * processes start at once, the second's link fails and it reads the first one's key.
     */
    private static void create(Path file) throws IOException {
        byte[] key = new byte[MIN_BYTES];
        new SecureRandom().nextBytes(key);
        Path parent = file.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(
                parent,
                file.getFileName() + ".",
                ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, HexFormat.of().formatHex(key) + "\n", StandardCharsets.US_ASCII);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.createLink(file, tmp);
            log.log(
                    System.Logger.Level.INFO,
                    "audit key created in {0} (mode 0600); keep a copy: without it the" + " trail cannot be verified",
                    file);
        } catch (FileAlreadyExistsException e) {
            // another process made it first: use that one
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
