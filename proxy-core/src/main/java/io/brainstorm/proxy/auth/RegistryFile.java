package io.brainstorm.proxy.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code registry.json} in a state directory: its format ({@link #encode}, {@link #decode}), its lock
 * ({@link #locked}) and its atomic replacement ({@link #write}).
 *
 * <p>The format (version {@value #FORMAT_VERSION}), pretty-printed:
 * <pre>
 * {"version": 1, "admin_token_sha256": "…" | null,
 *  "tenants": [{"id", "name", "created_at"}],
 *  "keys": [{"id", "name", "tenant", "kind": "api" | "admin", "sha256", "daily_budget_nano": n | null, "rpm", "tpm",
 *            "allowed_models": [], "time_zone", "created_at", "revoked_at": "…" | null, "source"}],
 *  "revoked_config_keys": [{"sha256", "revoked_at"}],
 *  "provider_keys": [{"tenant", "provider", "ciphertext": base64 of nonce ‖ ciphertext ‖ tag, "created_at"}]}
 * </pre>
 * Gateway keys appear by SHA-256 only; provider keys sealed by {@link SecretBox} only.
 *
 * <p><b>Errors:</b> a file that does not read fails with an {@link IOException} naming the file and
 * the field; a provider key that does not decrypt names the tenant and provider, never the key.
 */
final class RegistryFile {
    static final int FORMAT_VERSION = 1;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** One lock per state directory in this JVM: a file lock belongs to the process, not to a channel. */
    private static final Map<Path, ReentrantLock> DIRECTORY_LOCKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final Path file;
    /** What messages name: the file, or where in Redis the state is. */
    private final String label;

    private final SecretBox box;

    /**
     * @param dir the state directory, a real path (locks within the JVM are per path)
     * @param box opens the provider keys
     */
    RegistryFile(Path dir, SecretBox box) {
        this(dir, box, dir.resolve(Registry.FILE).toString());
    }

    /**
     * The format alone, for a state kept elsewhere ({@link RegistryRedis}): {@link #decode} and
     * {@link #seal}; messages name {@code label}.
     */
    RegistryFile(Path dir, SecretBox box, String label) {
        this.dir = dir;
        this.file = dir.resolve(Registry.FILE);
        this.label = label;
        this.box = box;
    }

    Path path() {
        return file;
    }

    /** Identity, modification time and size of the file: changes when anyone replaces it. */
    record Stamp(Object fileKey, FileTime modified, long size) {}

    interface Locked<T> {
        T run() throws IOException;
    }

    /** Runs {@code action} holding the state directory's lock, against this JVM's threads and other processes. */
    <T> T locked(Locked<T> action) throws IOException {
        return locked(dir, action);
    }

    /** As {@link #locked(Locked)}, for {@code dir}, a real path. */
    static <T> T locked(Path dir, Locked<T> action) throws IOException {
        ReentrantLock inJvm = DIRECTORY_LOCKS.computeIfAbsent(dir, d -> new ReentrantLock());
        inJvm.lock();
        try (FileChannel ch = FileChannel.open(
                        dir.resolve(Registry.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = ch.lock()) {
            return action.run();
        } finally {
            inJvm.unlock();
        }
    }

    /** {@code secret} sealed for the file as {@code tenant}'s key for {@code provider}. */
    byte[] seal(String tenant, String provider, String secret) {
        return box.seal(tenant, provider, secret);
    }

    /** The file's stamp, or null when it does not exist. */
    @Nullable
    Stamp stamp() throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            // the file key (inode) changes with every rename into place, whatever the clock's resolution
            return new Stamp(a.fileKey(), a.lastModifiedTime(), a.size());
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The file's bytes, or null when it does not exist. Writers replace it whole, so no lock is needed. */
    byte @Nullable [] read() throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Replaces the file with {@code bytes} (mode 0600), on disk before it takes the old one's place. Under the lock. */
    void write(byte[] bytes) throws IOException {
        Path tmp = dir.resolve(Registry.FILE + ".tmp");
        Files.deleteIfExists(tmp);
        PrivateFiles.create(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            // a host crash then leaves the old file or the new one, never an empty one
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static byte[] encode(RegistryState s) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", FORMAT_VERSION);
        root.put("admin_token_sha256", s.adminTokenSha256);
        ArrayNode tenants = root.putArray("tenants");
        for (Tenant t : s.tenants.values()) {
            tenants.addObject()
                    .put("id", t.id())
                    .put("name", t.name())
                    .put("created_at", t.createdAt().toString());
        }
        ArrayNode keys = root.putArray("keys");
        for (ApiKey k : s.keys.values()) {
            ObjectNode n = keys.addObject()
                    .put("id", k.id())
                    .put("name", k.name())
                    .put("tenant", k.tenant())
                    .put("kind", k.kind().name().toLowerCase(Locale.ROOT))
                    .put("sha256", k.sha256());
            if (k.limits().hasBudget()) {
                n.put("daily_budget_nano", k.limits().dailyBudgetNano());
            } else {
                n.putNull("daily_budget_nano");
            }
            n.put("rpm", k.limits().rpm()).put("tpm", k.limits().tpm());
            ArrayNode models = n.putArray("allowed_models");
            k.allowedModels().forEach(models::add);
            n.put("time_zone", k.zone().getId())
                    .put("created_at", k.createdAt().toString())
                    .put(
                            "revoked_at",
                            k.revokedAt() == null ? null : k.revokedAt().toString())
                    .put("source", k.source());
        }
        ArrayNode revoked = root.putArray("revoked_config_keys");
        s.revokedFixedKeys.forEach(
                (hash, at) -> revoked.addObject().put("sha256", hash).put("revoked_at", at.toString()));
        ArrayNode providers = root.putArray("provider_keys");
        for (RegistryState.ProviderEntry p : s.providerKeys.values()) {
            providers
                    .addObject()
                    .put("tenant", p.tenant())
                    .put("provider", p.provider())
                    .put("ciphertext", Base64.getEncoder().encodeToString(p.sealed()))
                    .put("created_at", p.createdAt().toString());
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    }

    /** The state {@code bytes} of this file hold, provider keys decrypted. */
    RegistryState decode(byte[] bytes) throws IOException {
        JsonNode root = readTree(label, bytes);
        if (!root.isObject()) {
            throw new IOException(label + ": expected a JSON object");
        }
        int version = root.path("version").asInt(-1);
        if (version != FORMAT_VERSION) {
            throw new IOException(label + ": version " + root.path("version") + " (expected: " + FORMAT_VERSION
                    + (version > FORMAT_VERSION ? "; written by a newer brainstorm-proxy" : "") + ")");
        }
        RegistryState s = new RegistryState();
        JsonNode admin = root.path("admin_token_sha256");
        if (!admin.isMissingNode() && !admin.isNull()) {
            s.adminTokenSha256 = hash(root, "", "admin_token_sha256");
        }
        int i = 0;
        for (JsonNode n : array(root, "", "tenants")) {
            String where = "tenants[" + i++ + "]";
            String id = text(n, where, "id");
            s.tenants.put(id, new Tenant(id, text(n, where, "name"), instant(n, where, "created_at"), "admin"));
        }
        i = 0;
        for (JsonNode n : array(root, "", "keys")) {
            String where = "keys[" + i++ + "]";
            String hash = hash(n, where, "sha256");
            KeyKind kind;
            try {
                kind = KeyKind.valueOf(text(n, where, "kind").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IOException(label + ": " + where + ".kind " + n.path("kind") + " (expected: api or admin)");
            }
            JsonNode budget = n.path("daily_budget_nano");
            KeyLimits limits;
            try {
                limits = new KeyLimits(
                        budget.isNull() || budget.isMissingNode() ? KeyLimits.UNLIMITED : budget.asLong(),
                        n.path("rpm").asInt(),
                        n.path("tpm").asLong());
            } catch (IllegalArgumentException e) {
                throw new IOException(label + ": " + where + ": " + e.getMessage());
            }
            List<String> models = new ArrayList<>();
            for (JsonNode m : array(n, where, "allowed_models")) {
                models.add(m.asText());
            }
            ZoneId zone;
            try {
                zone = ZoneId.of(text(n, where, "time_zone"));
            } catch (DateTimeException e) {
                throw new IOException(
                        label + ": " + where + ".time_zone " + n.path("time_zone") + " (expected: an IANA time zone)");
            }
            JsonNode revokedAt = n.path("revoked_at");
            s.keys.put(
                    hash,
                    new ApiKey(
                            ApiKey.idOf(hash),
                            text(n, where, "name"),
                            text(n, where, "tenant"),
                            hash,
                            limits,
                            kind,
                            models,
                            zone,
                            instant(n, where, "created_at"),
                            revokedAt.isNull() || revokedAt.isMissingNode() ? null : instant(n, where, "revoked_at"),
                            text(n, where, "source")));
        }
        i = 0;
        for (JsonNode n : array(root, "", "revoked_config_keys")) {
            String where = "revoked_config_keys[" + i++ + "]";
            s.revokedFixedKeys.put(hash(n, where, "sha256"), instant(n, where, "revoked_at"));
        }
        i = 0;
        for (JsonNode n : array(root, "", "provider_keys")) {
            String where = "provider_keys[" + i++ + "]";
            String tenant = text(n, where, "tenant");
            String provider = text(n, where, "provider");
            byte[] sealed;
            try {
                sealed = Base64.getDecoder().decode(text(n, where, "ciphertext"));
            } catch (IllegalArgumentException e) {
                throw new IOException(label + ": " + where + ".ciphertext (expected: base64)");
            }
            String secret;
            try {
                secret = box.open(tenant, provider, sealed);
            } catch (GeneralSecurityException e) {
                throw new IOException(label + ": the provider key of tenant '" + tenant + "' for '" + provider
                        + "' does not decrypt: the master key (" + MasterKey.ENV + " or the master key file) does not "
                        + "match the one " + Registry.FILE + " was written with, or the file was altered. Start with "
                        + "the master key it was written with; provider keys are never dropped silently.");
            }
            s.providerKeys.put(
                    RegistryState.slot(tenant, provider),
                    new RegistryState.ProviderEntry(tenant, provider, secret, sealed, instant(n, where, "created_at")));
        }
        return s;
    }

    private static JsonNode readTree(String file, byte[] bytes) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            // the parser's first line names the problem and position; the file holds no secret in clear
            String message = Objects.requireNonNullElse(e.getMessage(), "");
            throw new IOException(
                    file + ": not valid JSON (" + message.lines().findFirst().orElse("") + ")");
        }
        if (root == null || root.isMissingNode()) {
            throw new IOException(file + ": empty (expected: JSON)");
        }
        return root;
    }

    private String text(JsonNode n, String where, String field) throws IOException {
        JsonNode v = n.path(field);
        if (!v.isTextual()) {
            throw new IOException(label + ": " + name(where, field) + " "
                    + (v.isMissingNode() ? "missing" : v.toString()) + " (expected: a string)");
        }
        return v.asText();
    }

    private String hash(JsonNode n, String where, String field) throws IOException {
        String hash = text(n, where, field);
        if (!SHA256_HEX.matcher(hash).matches()) {
            throw new IOException(
                    label + ": " + name(where, field) + " '" + hash + "' (expected: 64 lower-case hex digits)");
        }
        return hash;
    }

    private Instant instant(JsonNode n, String where, String field) throws IOException {
        String text = text(n, where, field);
        try {
            return Instant.parse(text);
        } catch (DateTimeException e) {
            throw new IOException(
                    label + ": " + name(where, field) + " '" + text + "' (expected: an ISO-8601 UTC time)");
        }
    }

    private Iterable<JsonNode> array(JsonNode n, String where, String field) throws IOException {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new IOException(label + ": " + name(where, field) + " (expected: an array)");
        }
        return v;
    }

    /** {@code keys[2].sha256}, or the field alone at the top level. */
    private static String name(String where, String field) {
        return where.isEmpty() ? field : where + "." + field;
    }
}
