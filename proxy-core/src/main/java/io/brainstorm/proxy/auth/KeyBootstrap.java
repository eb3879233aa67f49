package io.brainstorm.proxy.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.config.KeyConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * Fills the {@link KeyRing} at start: keys from config, {@code BR_API_KEY} from the environment,
 * and keys created earlier in this state directory ({@code keys.json}, hashes only). When none
 * exists, it creates a demo key and shows it once (DESIGN §6): printed when stdout is a terminal,
 * otherwise written to {@code demo-key.txt} (mode 0600) in the state directory, whose path is printed.
 *
 * @deprecated {@link Registry} does all of this and more (tenants, admin keys, revocation, provider
 * keys, several processes), and imports {@code keys.json}: open it with {@link Registry#open} and show
 * {@link Registry#takeNewSecrets()} with {@link Secrets#showOnce}. This class goes once {@code Main}
 * no longer calls it.
 */
@Deprecated
public final class KeyBootstrap {
    public static final String ENV_API_KEY = "BR_API_KEY";
    static final String KEYS_FILE = "keys.json";
    static final String DEMO_KEY_FILE = "demo-key.txt";
    private static final ObjectMapper JSON = ParsedRequest.JSON;

    private KeyBootstrap() {
    }

    /**
     * @param interactive true when stdout is a terminal (the demo key may be printed)
     * @param out         where notices go
     * @return the filled ring
     * @throws IllegalArgumentException when {@code BR_API_KEY} is not a well-formed key
     */
    public static KeyRing load(List<KeyConfig> configured, Map<String, String> env, Path stateDir,
                               boolean interactive, PrintStream out) throws IOException {
        KeyRing ring = new KeyRing();
        for (KeyConfig k : configured) {
            ring.add(ApiKey.of(k.name(), k.tenant(), k.sha256(), new KeyLimits(k.dailyBudgetNano(), k.rpm(), k.tpm())));
        }
        String fromEnv = env.get(ENV_API_KEY);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            if (!ApiKeys.isWellFormed(fromEnv)) {
                throw new IllegalArgumentException(ENV_API_KEY + ": " + ApiKeys.hint(fromEnv)
                        + " (expected: 'br_live_' followed by 32 letters or digits)");
            }
            ring.add(ApiKey.of("env", "default", ApiKeys.sha256(fromEnv)));
        }
        Path keysFile = stateDir.resolve(KEYS_FILE);
        for (ApiKey k : readKeys(keysFile)) {
            ring.add(k);
        }
        if (ring.isEmpty()) {
            String secret = ApiKeys.generate();
            ApiKey demo = ApiKey.of("demo", "default", ApiKeys.sha256(secret));
            writeKeys(keysFile, List.of(demo));
            ring.add(demo);
            show(secret, stateDir, interactive, out);
        }
        return ring;
    }

    private static void show(String secret, Path stateDir, boolean interactive, PrintStream out) throws IOException {
        if (interactive) {
            out.println();
            out.println("  Demo API key (shown once, only its SHA-256 is stored):");
            out.println("    " + secret);
            out.println();
            return;
        }
        Path file = stateDir.resolve(DEMO_KEY_FILE);
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("could not create " + file + " exclusively", e);
        }
        Files.writeString(file, secret + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        out.println("A demo API key was created and written to " + file.toAbsolutePath().normalize()
                + " (mode 0600); it is not shown anywhere else.");
    }

    static List<ApiKey> readKeys(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        JsonNode root = JSON.readTree(file.toFile());
        if (root == null || !root.isArray()) {
            throw new IOException(file + ": expected a JSON array of keys");
        }
        List<ApiKey> keys = new java.util.ArrayList<>();
        for (JsonNode n : root) {
            String hash = n.path("sha256").asText("");
            if (!hash.matches("[0-9a-f]{64}")) {
                throw new IOException(file + ": sha256 " + hash + " (expected: 64 lower-case hex digits)");
            }
            keys.add(ApiKey.of(n.path("name").asText("key"), n.path("tenant").asText("default"), hash));
        }
        return keys;
    }

    static void writeKeys(Path file, List<ApiKey> keys) throws IOException {
        ArrayNode arr = JSON.createArrayNode();
        for (ApiKey k : keys) {
            arr.addObject().put("id", k.id()).put("name", k.name()).put("tenant", k.tenant()).put("sha256", k.sha256());
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
