package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.Registry.Bootstrap;
import io.brainstorm.proxy.auth.Registry.Created;
import io.brainstorm.proxy.auth.Registry.KeySpec;
import io.brainstorm.proxy.auth.Registry.KeyUpdate;
import io.brainstorm.proxy.auth.Registry.NewSecret;
import io.brainstorm.proxy.auth.Registry.ProviderSecret;
import io.brainstorm.proxy.config.KeyConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class RegistryTest {
    private static final InstantSource CLOCK = InstantSource.system();
    private static final String ADMIN_TOKEN = "a-long-operator-chosen-admin-token";
    private static final String OPENAI_KEY = "sk-proj-Zq8XnT1cR4vB7yL0aM3kP6wE9sD2fG5h";
    private static final Set<PosixFilePermission> OWNER_ONLY =
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    @TempDir
    Path stateDir;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    /** An operator's start: an env key and an admin token, so no secret is made. */
    private static Bootstrap boot() {
        return boot(List.of(), List.of(), ApiKeys.generate(), ADMIN_TOKEN, null);
    }

    private static Bootstrap boot(
            List<KeyConfig> keys,
            List<ProviderSecret> providerKeys,
            String envKey,
            String adminToken,
            String masterKey) {
        return new Bootstrap(keys, providerKeys, Set.of("openai", "groq"), envKey, adminToken, masterKey, null);
    }

    private Registry open(Bootstrap boot) throws IOException {
        return Registry.open(stateDir, boot, CLOCK);
    }

    private static KeySpec apiKey(String name) {
        return new KeySpec(name, KeyKind.API, KeyLimits.NONE, List.of(), null);
    }

    private static ApiError refused(int status, Executable call) {
        ApiError e = assertThrows(ApiError.class, call);
        assertEquals(status, e.status().code(), e.getMessage());
        return e;
    }

    private static String bearer(String secret) {
        return "Bearer " + secret;
    }

    /** Waits for a peer's change to be seen: a bounded loop, well past {@link Registry#RELOAD_MILLIS}. */
    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 3 * Registry.RELOAD_MILLIS * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " not seen within " + 3 * Registry.RELOAD_MILLIS + " ms");
            }
            Thread.sleep(20);
        }
    }

    private static boolean accepted(Registry r, String secret) {
        try {
            r.authenticate(bearer(secret));
            return true;
        } catch (ApiError e) {
            return false;
        }
    }

    private String registryJson() throws IOException {
        return Files.readString(stateDir.resolve(Registry.FILE));
    }

    // ---- keys through one instance ----

    @Test
    void keysAreCreatedListedUpdatedAndRevokedAtOnce() throws Exception {
        try (Registry r = open(boot())) {
            Tenant acme = r.createTenant("acme", "Acme Inc.");
            assertEquals(new Tenant("acme", "Acme Inc.", acme.createdAt(), "admin"), acme);
            Created c = r.createKey(
                    "acme",
                    new KeySpec(
                            "checkout",
                            KeyKind.API,
                            new KeyLimits(5_000_000_000L, 600, 200_000),
                            List.of("sim/alpha", "openai/*"),
                            ZoneId.of("Europe/Berlin")));
            assertTrue(ApiKeys.isWellFormed(c.secret()), "a br_live_ secret");
            assertFalse(c.toString().contains(c.secret()), c.toString());
            ApiKey key = c.key();
            assertEquals(ApiKey.idOf(ApiKeys.sha256(c.secret())), key.id());
            assertEquals("admin", key.source());
            assertEquals(ZoneId.of("Europe/Berlin"), key.zone());

            assertEquals(key, r.authenticate(bearer(c.secret())));
            assertEquals(List.of(key), r.keys("acme"));
            assertEquals(key, r.key(key.id()).orElseThrow());
            assertTrue(r.allKeys().contains(key));
            assertTrue(key.allows("openai/gpt-4o") && !key.allows("groq/llama"));

            ApiKey changed = r.updateKey(key.id(), new KeyUpdate("checkout-v2", new KeyLimits(1, 2, 3), null, null));
            assertEquals("checkout-v2", changed.name());
            assertEquals(key.allowedModels(), changed.allowedModels(), "fields left out stay");
            assertEquals(ZoneId.of("Europe/Berlin"), changed.zone());
            assertEquals(
                    new KeyLimits(1, 2, 3), r.authenticate(bearer(c.secret())).limits(), "seen at once");

            ApiKey revoked = r.revokeKey(key.id());
            assertTrue(revoked.revoked());
            ApiError e = refused(401, () -> r.authenticate(bearer(c.secret())));
            assertEquals("This API key was revoked.", e.getMessage());
            assertEquals(revoked, r.revokeKey(key.id()), "revoking twice changes nothing");
            assertEquals(List.of(revoked), r.keys("acme"), "revoked keys stay listed");
            refused(409, () -> r.updateKey(key.id(), new KeyUpdate("again", null, null, null)));
            refused(404, () -> r.revokeKey("key_000000000000"));
            refused(404, () -> r.updateKey("key_000000000000", new KeyUpdate("x", null, null, null)));
        }
    }

    @Test
    void keysAreListedOldestFirst() throws Exception {
        Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
        try (Registry r = Registry.open(stateDir, boot(), () -> now[0])) {
            List<String> made = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                made.add(r.createKey("default", apiKey("k" + i)).key().id());
                if (i == 2) {
                    now[0] = now[0].plusSeconds(1);
                }
            }
            List<String> listed = r.keys("default").stream()
                    .filter(k -> k.source().equals("admin"))
                    .map(ApiKey::id)
                    .toList();
            assertEquals(made, listed, "in creation order, also within one instant");
            assertEquals("env", r.keys("default").get(0).source(), "keys from the environment first");
        }
    }

    @Test
    void badInputIsRefusedWithTheFieldNamed() throws Exception {
        try (Registry r = open(boot())) {
            for (String id : new String[] {"Acme", "-acme", "ac me", "a".repeat(65), "", "acme/x"}) {
                assertEquals("id", refused(400, () -> r.createTenant(id, null)).param(), id);
            }
            assertEquals(
                    "a".repeat(63) + "b",
                    r.createTenant("a".repeat(63) + "b", null).id(),
                    "64 characters");
            refused(409, () -> r.createTenant("default", null));
            r.createTenant("acme", null);
            assertEquals(
                    "Tenant 'acme' already exists.",
                    refused(409, () -> r.createTenant("acme", "Again")).getMessage());
            assertEquals("acme", r.tenant("acme").orElseThrow().name(), "the id names a tenant made without a name");

            assertTrue(refused(404, () -> r.createKey("nobody", apiKey("x")))
                    .getMessage()
                    .contains("nobody"));
            for (String name : new String[] {"", " ", "a".repeat(101), "tab\there", "line\nbreak"}) {
                assertEquals(
                        "name",
                        refused(400, () -> r.createKey("acme", apiKey(name))).param(),
                        name);
            }
            r.createKey("acme", apiKey("a".repeat(100)));
            for (String model : new String[] {"", "sim/ alpha", "sim/alpha\n"}) {
                assertEquals(
                        "allowed_models",
                        refused(
                                        400,
                                        () -> r.createKey(
                                                "acme",
                                                new KeySpec("k", KeyKind.API, KeyLimits.NONE, List.of(model), null)))
                                .param(),
                        model);
            }
            Created defaults = r.createKey("acme", new KeySpec("plain", null, null, null, null));
            assertEquals(KeyKind.API, defaults.key().kind());
            assertEquals(KeyLimits.NONE, defaults.key().limits());
            assertEquals(ZoneOffset.UTC, defaults.key().zone(), "UTC unless set");
            assertEquals(List.of(), defaults.key().allowedModels());
            assertEquals(
                    "name",
                    refused(400, () -> r.updateKey(defaults.key().id(), new KeyUpdate("", null, null, null)))
                            .param());
            assertEquals(2, r.keys("acme").size(), "refused requests made nothing");
        }
    }

    @Test
    void authenticationFailuresSayWhyWithoutEchoingTheKey() throws Exception {
        try (Registry r = open(boot())) {
            assertTrue(refused(401, () -> r.authenticate(null)).getMessage().startsWith("Missing API key"));
            assertTrue(
                    refused(401, () -> r.authenticate("Basic abc")).getMessage().startsWith("Malformed Authorization"));
            assertTrue(refused(401, () -> r.authenticate("Bearer sk-proj-SECRETVALUE"))
                    .getMessage()
                    .startsWith("Malformed API key"));
            String other = ApiKeys.generate();
            ApiError unknown = refused(401, () -> r.authenticate(bearer(other)));
            assertEquals("invalid_api_key", unknown.code());
            assertTrue(unknown.getMessage().contains(ApiKeys.hint(other)), unknown.getMessage());
            assertFalse(unknown.getMessage().contains(other.substring(12)), unknown.getMessage());
        }
    }

    // ---- admin keys and the admin token ----

    @Test
    void adminKeysOpenTheAdminApiOfTheirTenantOnly() throws Exception {
        try (Registry r = open(boot())) {
            r.createTenant("acme", null);
            Created admin = r.createKey("acme", new KeySpec("ops", KeyKind.ADMIN, KeyLimits.NONE, List.of(), null));
            assertTrue(ApiKeys.isWellFormedAdmin(admin.secret()), admin.secret().substring(0, 9));
            Created api = r.createKey("acme", apiKey("app"));

            AdminPrincipal p = r.authenticateAdmin(bearer(admin.secret()));
            assertEquals(new AdminPrincipal("acme", admin.key().id()), p);
            assertFalse(p.superAdmin());
            assertTrue(p.canAccess("acme"));
            assertFalse(p.canAccess("default"));

            ApiError onApi = refused(401, () -> r.authenticate(bearer(admin.secret())));
            assertTrue(onApi.getMessage().contains("admin API only"), onApi.getMessage());
            ApiError liveOnAdmin = refused(401, () -> r.authenticateAdmin(bearer(api.secret())));
            assertTrue(liveOnAdmin.getMessage().contains("OpenAI-compatible API only"), liveOnAdmin.getMessage());
            refused(401, () -> r.authenticateAdmin(bearer(ApiKeys.generateAdmin())));
            refused(401, () -> r.authenticateAdmin(null));
            refused(401, () -> r.authenticateAdmin("Bearer "));

            r.revokeKey(admin.key().id());
            assertEquals(
                    "This admin key was revoked.",
                    refused(401, () -> r.authenticateAdmin(bearer(admin.secret())))
                            .getMessage());
        }
    }

    @Test
    void theOperatorsAdminTokenOpensEverything() throws Exception {
        try (Registry r = open(boot())) {
            AdminPrincipal p = r.authenticateAdmin(bearer(ADMIN_TOKEN));
            assertEquals(AdminPrincipal.SUPER, p);
            assertTrue(p.superAdmin() && p.canAccess("anyone"));
            assertEquals(AdminPrincipal.SUPER, r.authenticateAdmin("bearer  " + ADMIN_TOKEN + " "));
            ApiError wrong = refused(401, () -> r.authenticateAdmin(bearer(ADMIN_TOKEN + "x")));
            assertFalse(wrong.getMessage().contains(ADMIN_TOKEN), wrong.getMessage());
            assertTrue(r.takeNewSecrets().isEmpty(), "no token generated when the operator gave one");
            assertFalse(registryJson().contains(ADMIN_TOKEN));
        }
    }

    @Test
    void aShortAdminTokenIsRefusedWithoutShowingIt() {
        String shortToken = "only-19-characters!";
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> open(boot(List.of(), List.of(), null, shortToken, null)));
        assertTrue(e.getMessage().startsWith(Registry.ENV_ADMIN_TOKEN + ": 19 characters"), e.getMessage());
        assertTrue(e.getMessage().contains("at least 20"), e.getMessage());
        assertFalse(e.getMessage().contains(shortToken), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> open(boot(List.of(), List.of(), null, "twenty characters but spaces", null)));
        assertFalse(Files.exists(stateDir.resolve(Registry.FILE)), "nothing written");
    }

    // ---- secrets made at start ----

    @Test
    void demoKeyAndAdminTokenAreHandedOutOnceAndNotMadeAgain() throws Exception {
        String demo;
        String token;
        try (Registry r = open(boot(List.of(), List.of(), null, null, null))) {
            List<NewSecret> made = r.takeNewSecrets();
            assertEquals(
                    List.of("demo-key.txt", "admin-token.txt"),
                    made.stream().map(NewSecret::fileName).toList());
            assertEquals(List.of(), r.takeNewSecrets(), "handed out once");
            demo = made.get(0).secret();
            token = made.get(1).secret();
            assertTrue(ApiKeys.isWellFormed(demo));
            assertTrue(ApiKeys.isWellFormedAdmin(token));
            assertFalse(made.toString().contains(demo) || made.toString().contains(token), made.toString());

            ApiKey key = r.authenticate(bearer(demo));
            assertEquals("demo", key.source());
            assertEquals(Registry.DEFAULT_TENANT, key.tenant());
            assertEquals(AdminPrincipal.SUPER, r.authenticateAdmin(bearer(token)));
        }
        String stored = registryJson();
        assertFalse(stored.contains(demo.substring(ApiKeys.PREFIX.length())), "only the hash is stored");
        assertFalse(stored.contains(token.substring(ApiKeys.ADMIN_PREFIX.length())));
        assertTrue(stored.contains(ApiKeys.sha256(demo)) && stored.contains(ApiKeys.sha256(token)));

        try (Registry again = open(boot(List.of(), List.of(), null, null, null))) {
            assertEquals(List.of(), again.takeNewSecrets(), "nothing new at the next start");
            again.authenticate(bearer(demo));
            assertEquals(AdminPrincipal.SUPER, again.authenticateAdmin(bearer(token)));
            assertEquals(1, again.allKeys().size(), "no second demo key");
        }
        assertEquals(stored, registryJson(), "a start with nothing new writes nothing");
    }

    @Test
    void theOperatorsAdminTokenReplacesTheGeneratedOne() throws Exception {
        String token;
        try (Registry r = open(boot(List.of(), List.of(), null, null, null))) {
            token = r.takeNewSecrets().get(1).secret();
        }
        try (Registry r = open(boot(List.of(), List.of(), null, ADMIN_TOKEN, null))) {
            refused(401, () -> r.authenticateAdmin(bearer(token)));
            assertEquals(AdminPrincipal.SUPER, r.authenticateAdmin(bearer(ADMIN_TOKEN)));
        }
    }

    @Test
    void firstStartWithoutTerminalWritesTheDemoKeyToAPrivateFile() throws Exception {
        try (Registry r = open(boot(List.of(), List.of(), null, ADMIN_TOKEN, null))) {
            List<NewSecret> made = r.takeNewSecrets();
            assertEquals(1, made.size());
            Path file = Secrets.showOnce(made.get(0), stateDir, false, out);

            assertEquals(stateDir.resolve(Registry.DEMO_KEY_FILE), file);
            assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(file), "mode 0600");
            String secret = Files.readString(file).strip();
            r.authenticate(bearer(secret));
            String text = printed.toString(StandardCharsets.UTF_8);
            assertFalse(text.contains(secret.substring(ApiKeys.PREFIX.length())), "not printed: " + text);
            assertTrue(text.contains(file.toAbsolutePath().toString()), "the file's path is printed: " + text);
        }
    }

    @Test
    void terminalStartPrintsTheSecretOnceAndWritesNoFile() throws Exception {
        try (Registry r = open(boot(List.of(), List.of(), null, null, null))) {
            for (NewSecret s : r.takeNewSecrets()) {
                assertNull(Secrets.showOnce(s, stateDir, true, out));
            }
            String text = printed.toString(StandardCharsets.UTF_8);
            String demo = text.lines()
                    .map(String::strip)
                    .filter(ApiKeys::isWellFormed)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no key printed: " + text));
            String token = text.lines()
                    .map(String::strip)
                    .filter(ApiKeys::isWellFormedAdmin)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no token printed: " + text));
            assertEquals(text.indexOf(demo), text.lastIndexOf(demo), "printed once");
            r.authenticate(bearer(demo));
            r.authenticateAdmin(bearer(token));
            assertFalse(Files.exists(stateDir.resolve(Registry.DEMO_KEY_FILE)));
            assertFalse(Files.exists(stateDir.resolve(Registry.ADMIN_TOKEN_FILE)));
        }
    }

    @Test
    void anEnvOrConfigKeyMeansNoDemoKey() throws Exception {
        String env = ApiKeys.generate();
        try (Registry r = open(boot(List.of(), List.of(), env, ADMIN_TOKEN, null))) {
            assertEquals(List.of(), r.takeNewSecrets());
            ApiKey key = r.authenticate(bearer(env));
            assertEquals("env", key.source());
            assertEquals(List.of(key), r.allKeys());
        }
        Path other = stateDir.resolve("other");
        String configured = ApiKeys.generate();
        try (Registry r = Registry.open(
                other,
                boot(
                        List.of(new KeyConfig("ci", ApiKeys.sha256(configured), "default")),
                        List.of(),
                        null,
                        ADMIN_TOKEN,
                        null),
                CLOCK)) {
            assertEquals(List.of(), r.takeNewSecrets());
            assertEquals("config", r.authenticate(bearer(configured)).source());
        }
    }

    @Test
    void anEnvKeyAddsToTheKeysMadeEarlier() throws Exception {
        String demo;
        try (Registry r = open(boot(List.of(), List.of(), null, ADMIN_TOKEN, null))) {
            demo = r.takeNewSecrets().get(0).secret();
        }
        String env = ApiKeys.generate();
        try (Registry r = open(boot(List.of(), List.of(), env, ADMIN_TOKEN, null))) {
            r.authenticate(bearer(env));
            r.authenticate(bearer(demo));
            assertEquals(2, r.allKeys().size());
        }
    }

    @Test
    void aMalformedEnvKeyIsRefusedWithoutShowingIt() {
        String value = "br_live_thisIsNotLongEnoughButSecret";
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> open(boot(List.of(), List.of(), value, ADMIN_TOKEN, null)));
        assertTrue(e.getMessage().startsWith(Registry.ENV_API_KEY + ":"), e.getMessage());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
        assertFalse(e.getMessage().contains("NotLongEnoughButSecret"), e.getMessage());
        assertFalse(Files.exists(stateDir.resolve(Registry.FILE)));
    }

    // ---- config keys ----

    @Test
    void configKeysCannotBeChangedButTheirRevocationOutlivesARestart() throws Exception {
        String secret = ApiKeys.generate();
        String env = ApiKeys.generate();
        Bootstrap boot = boot(
                List.of(new KeyConfig("ci", ApiKeys.sha256(secret), "team", 7_000, 10, 20)),
                List.of(),
                env,
                ADMIN_TOKEN,
                null);
        String id;
        try (Registry r = open(boot)) {
            ApiKey key = r.authenticate(bearer(secret));
            id = key.id();
            assertEquals(new KeyLimits(7_000, 10, 20), key.limits());
            assertEquals(Instant.EPOCH, key.createdAt());
            assertEquals(
                    new Tenant("team", "team", Instant.EPOCH, "config"),
                    r.tenant("team").orElseThrow(),
                    "a tenant named by config exists");
            ApiError e = refused(409, () -> r.updateKey(id, new KeyUpdate("renamed", null, null, null)));
            assertTrue(e.getMessage().contains("conf/brainstorm.yaml"), e.getMessage());
            String envId = r.authenticate(bearer(env)).id();
            assertTrue(refused(409, () -> r.updateKey(envId, new KeyUpdate("x", null, null, null)))
                    .getMessage()
                    .contains(Registry.ENV_API_KEY));
            refused(409, () -> r.deleteTenant("team"));

            assertTrue(r.revokeKey(id).revoked());
            refused(401, () -> r.authenticate(bearer(secret)));
        }
        assertFalse(registryJson().contains("\"ci\""), "config keys are not copied into the file");
        try (Registry r = open(boot)) {
            assertEquals(
                    "This API key was revoked.",
                    refused(401, () -> r.authenticate(bearer(secret))).getMessage());
            assertTrue(r.key(id).orElseThrow().revoked());
            r.authenticate(bearer(env));
        }
    }

    // ---- provider keys ----

    @Test
    void providerKeysAreKeptEncryptedAndShownByFingerprintOnly() throws Exception {
        try (Registry r = open(boot())) {
            r.createTenant("acme", null);
            ProviderKeyInfo info = r.setProviderKey("acme", "openai", OPENAI_KEY);
            assertEquals("sha256:" + ApiKeys.sha256(OPENAI_KEY).substring(0, 8), info.fingerprint());
            assertEquals("admin", info.source());
            assertEquals(List.of(info), r.providerKeys("acme"));
            assertEquals(OPENAI_KEY, r.providerKey("acme", "openai"));
            assertNull(r.providerKey("default", "openai"), "another tenant's key is not shared");
            assertNull(r.providerKey("acme", "groq"));
            r.createKey("acme", apiKey("k"));
            r.createKey("acme", new KeySpec("a", KeyKind.ADMIN, null, null, null));
        }
        byte[] bytes = Files.readAllBytes(stateDir.resolve(Registry.FILE));
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains(OPENAI_KEY.substring(8)), "no plaintext provider key in registry.json");
        assertFalse(
                text.contains(Base64.getEncoder()
                        .encodeToString(OPENAI_KEY.getBytes(StandardCharsets.UTF_8))
                        .substring(4, 30)),
                "nor its base64");
        assertFalse(text.contains(ApiKeys.PREFIX) || text.contains(ApiKeys.ADMIN_PREFIX), "no gateway secret either");
        assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(stateDir.resolve(Registry.FILE)));
        assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(stateDir.resolve(MasterKey.DEFAULT_FILE)));

        try (Registry r = open(boot())) {
            assertEquals(OPENAI_KEY, r.providerKey("acme", "openai"), "decrypted at the next start");
        }
    }

    @Test
    void providerKeyRules() throws Exception {
        Bootstrap boot = boot(
                List.of(),
                List.of(new ProviderSecret("default", "openai", OPENAI_KEY)),
                ApiKeys.generate(),
                ADMIN_TOKEN,
                null);
        try (Registry r = open(boot)) {
            assertEquals(OPENAI_KEY, r.providerKey("default", "openai"));
            ProviderKeyInfo fromConfig = r.providerKeys("default").get(0);
            assertEquals("config", fromConfig.source());
            assertEquals(Instant.EPOCH, fromConfig.createdAt());
            refused(409, () -> r.setProviderKey("default", "openai", "sk-other"));
            refused(409, () -> r.deleteProviderKey("default", "openai"));

            assertEquals(
                    "provider",
                    refused(400, () -> r.setProviderKey("default", "sim", "x")).param());
            ApiError unknown = refused(404, () -> r.setProviderKey("default", "opnai", "sk-1"));
            assertTrue(
                    unknown.getMessage().contains("opnai")
                            && unknown.getMessage().contains("groq, openai"),
                    unknown.getMessage());
            refused(404, () -> r.setProviderKey("nobody", "groq", "gsk-1"));
            for (String bad : new String[] {"", "  ", "gsk 1", "gsk-1\n"}) {
                ApiError e = refused(400, () -> r.setProviderKey("default", "groq", bad));
                assertEquals("api_key", e.param());
                assertFalse(!bad.isBlank() && e.getMessage().contains(bad), e.getMessage());
            }
            refused(404, () -> r.deleteProviderKey("default", "groq"));

            r.setProviderKey("default", "groq", "gsk-1");
            r.setProviderKey("default", "groq", "gsk-2");
            assertEquals("gsk-2", r.providerKey("default", "groq"), "replaced");
            assertEquals(
                    List.of("groq", "openai"),
                    r.providerKeys("default").stream()
                            .map(ProviderKeyInfo::provider)
                            .toList());
            r.deleteProviderKey("default", "groq");
            assertNull(r.providerKey("default", "groq"));
        }
    }

    @Test
    void anotherMasterKeyFailsTheStartInsteadOfDroppingKeys() throws Exception {
        String master = randomMasterKey();
        try (Registry r = open(boot(List.of(), List.of(), ApiKeys.generate(), ADMIN_TOKEN, master))) {
            r.setProviderKey("default", "openai", OPENAI_KEY);
        }
        assertFalse(Files.exists(stateDir.resolve(MasterKey.DEFAULT_FILE)), "BR_MASTER_KEY wins over the file");
        String before = registryJson();
        String other = randomMasterKey();
        IOException e = assertThrows(
                IOException.class, () -> open(boot(List.of(), List.of(), ApiKeys.generate(), ADMIN_TOKEN, other)));
        assertTrue(e.getMessage().contains("master key") && e.getMessage().contains(Registry.FILE), e.getMessage());
        assertFalse(e.getMessage().contains(OPENAI_KEY) || e.getMessage().contains(other), e.getMessage());
        assertEquals(before, registryJson(), "the file is left as it was");
        IOException noKey = assertThrows(IOException.class, () -> open(boot()), "the key file is another key");
        assertTrue(noKey.getMessage().contains("master key"), noKey.getMessage());

        IllegalArgumentException malformed = assertThrows(
                IllegalArgumentException.class, () -> open(boot(List.of(), List.of(), null, ADMIN_TOKEN, "c2hvcnQ=")));
        assertTrue(malformed.getMessage().startsWith(MasterKey.ENV), malformed.getMessage());
    }

    @Test
    void aTamperedCiphertextFailsTheStart() throws Exception {
        try (Registry r = open(boot())) {
            r.setProviderKey("default", "openai", OPENAI_KEY);
        }
        String json = registryJson();
        int at = json.indexOf("\"ciphertext\" : \"") + 20;
        char c = json.charAt(at);
        Files.writeString(
                stateDir.resolve(Registry.FILE),
                json.substring(0, at) + (c == 'A' ? 'B' : 'A') + json.substring(at + 1));
        IOException e = assertThrows(IOException.class, () -> open(boot()));
        assertTrue(e.getMessage().contains("'default'") && e.getMessage().contains("'openai'"), e.getMessage());
        assertTrue(e.getMessage().contains("altered"), e.getMessage());
    }

    private static String randomMasterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    // ---- tenants ----

    @Test
    void deletingATenantRevokesItsKeysAndForgetsItsProviderKeys() throws Exception {
        try (Registry r = open(boot())) {
            r.createTenant("acme", "Acme");
            Created api = r.createKey("acme", apiKey("app"));
            Created admin = r.createKey("acme", new KeySpec("ops", KeyKind.ADMIN, null, null, null));
            r.setProviderKey("acme", "openai", OPENAI_KEY);
            Created other = r.createKey("default", apiKey("stays"));

            r.deleteTenant("acme");
            assertTrue(r.tenant("acme").isEmpty());
            assertFalse(r.tenants().stream().anyMatch(t -> t.id().equals("acme")));
            refused(401, () -> r.authenticate(bearer(api.secret())));
            refused(401, () -> r.authenticateAdmin(bearer(admin.secret())));
            assertTrue(r.keys("acme").stream().allMatch(ApiKey::revoked));
            assertNull(r.providerKey("acme", "openai"));
            assertEquals(List.of(), r.providerKeys("acme"));
            r.authenticate(bearer(other.secret()));

            refused(404, () -> r.deleteTenant("acme"));
            refused(404, () -> r.createKey("acme", apiKey("late")));
            refused(409, () -> r.deleteTenant("default"));
        }
    }

    @Test
    void tenantScopeHelpersSeparateTenants() throws Exception {
        try (Registry r = open(boot())) {
            r.createTenant("acme", null);
            r.createTenant("beta", null);
            Created a = r.createKey("acme", apiKey("a"));
            r.createKey("beta", apiKey("b"));
            r.setProviderKey("beta", "groq", "gsk-beta");
            assertEquals(
                    List.of("acme", "beta", "default"),
                    r.tenants().stream().map(Tenant::id).toList());
            assertEquals(List.of(a.key()), r.keys("acme"));
            assertEquals(List.of(), r.providerKeys("acme"));
            assertNull(r.providerKey("acme", "groq"));
            assertEquals(List.of(), r.keys("nobody"));

            AdminPrincipal acmeAdmin =
                    r.authenticateAdmin(bearer(r.createKey("acme", new KeySpec("ops", KeyKind.ADMIN, null, null, null))
                            .secret()));
            assertEquals(
                    List.of("acme"),
                    r.tenants().stream()
                            .map(Tenant::id)
                            .filter(acmeAdmin::canAccess)
                            .toList());
            assertTrue(r.allKeys().stream()
                    .filter(k -> acmeAdmin.canAccess(k.tenant()))
                    .allMatch(k -> k.tenant().equals("acme")));
        }
    }

    // ---- processes ----

    @Test
    void aPeerSeesChangesWithinTheReloadInterval() throws Exception {
        Bootstrap boot = boot();
        try (Registry first = open(boot);
                Registry second = open(boot)) {
            long version = second.version();
            Created c = first.createKey("default", apiKey("made-by-first"));
            first.authenticate(bearer(c.secret()));
            eventually("a key made by a peer", () -> accepted(second, c.secret()));
            assertTrue(second.version() > version, "version grows with a peer's change");

            second.createTenant("acme", null);
            second.setProviderKey("acme", "openai", OPENAI_KEY);
            second.revokeKey(c.key().id());
            refused(401, () -> second.authenticate(bearer(c.secret())));
            eventually("a revocation by a peer", () -> !accepted(first, c.secret()));
            assertEquals(
                    "This API key was revoked.",
                    refused(401, () -> first.authenticate(bearer(c.secret()))).getMessage());
            assertEquals(OPENAI_KEY, first.providerKey("acme", "openai"), "a peer's tenant and provider key too");
            assertTrue(first.tenant("acme").isPresent());
        }
    }

    @Test
    void concurrentChangesFromTwoInstancesLoseNothing() throws Exception {
        Bootstrap boot = boot();
        int perThread = 8;
        try (Registry first = open(boot);
                Registry second = open(boot)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<List<Created>>> futures = new ArrayList<>();
            try {
                for (Registry r : List.of(first, second, first, second)) {
                    Callable<List<Created>> task = () -> {
                        List<Created> made = new ArrayList<>();
                        for (int i = 0; i < perThread; i++) {
                            made.add(r.createKey("default", apiKey("k" + i)));
                        }
                        return made;
                    };
                    futures.add(pool.submit(task));
                }
                List<Created> all = new ArrayList<>();
                for (Future<List<Created>> f : futures) {
                    all.addAll(f.get());
                }
                assertEquals(
                        4 * perThread,
                        new HashSet<>(all.stream().map(c -> c.key().id()).toList()).size());
                try (Registry third = open(boot)) {
                    for (Created c : all) {
                        third.authenticate(bearer(c.secret()));
                    }
                }
                eventually(
                        "every key at both",
                        () -> all.stream().allMatch(c -> accepted(first, c.secret()) && accepted(second, c.secret())));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aBrokenFileIsReportedAndNotReplaced() throws Exception {
        Files.writeString(stateDir.resolve(Registry.FILE), "{\"version\": 1, \"keys\": [{\"sha256\": \"nope\"}]}");
        IOException e = assertThrows(IOException.class, () -> open(boot()));
        assertTrue(e.getMessage().contains(Registry.FILE) && e.getMessage().contains("sha256"), e.getMessage());
        Files.writeString(stateDir.resolve(Registry.FILE), "{\"version\": 2}");
        assertTrue(
                assertThrows(IOException.class, () -> open(boot())).getMessage().contains("newer"));
        assertEquals("{\"version\": 2}", registryJson());
    }

    @Test
    void aPeersBrokenWriteKeepsWhatWasKnownAndRefusesChanges() throws Exception {
        try (Registry r = open(boot())) {
            Created c = r.createKey("default", apiKey("k"));
            long version = r.version();
            Files.writeString(stateDir.resolve(Registry.FILE), "not json");
            r.poll(); // what the watcher does
            assertEquals(version, r.version(), "the snapshot is kept");
            r.authenticate(bearer(c.secret()));
            assertThrows(java.io.UncheckedIOException.class, () -> r.createKey("default", apiKey("k2")));
            assertEquals("not json", registryJson(), "not overwritten");
        }
    }

    // ---- in memory ----

    @Test
    void inMemoryWorksWithoutFiles() {
        Registry r = Registry.inMemory(boot(List.of(), List.of(), null, null, null), CLOCK);
        assertEquals(2, r.takeNewSecrets().size(), "a demo key and an admin token, as on disk");
        long version = r.version();
        r.createTenant("acme", null);
        assertTrue(r.version() > version);
        r.setProviderKey("acme", "openai", OPENAI_KEY);
        assertEquals(OPENAI_KEY, r.providerKey("acme", "openai"));
        Created c = r.createKey("acme", apiKey("k"));
        r.revokeKey(c.key().id());
        refused(401, () -> r.authenticate(bearer(c.secret())));
        r.close();
    }
}
