package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.config.KeyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("deprecation") // until Main opens the Registry instead; then both go
class KeyBootstrapTest {
    @TempDir
    Path stateDir;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    private KeyRing load(Map<String, String> env, boolean interactive) throws Exception {
        return KeyBootstrap.load(List.of(), env, stateDir, interactive, out);
    }

    private Path demoFile() {
        return stateDir.resolve(KeyBootstrap.DEMO_KEY_FILE);
    }

    private Path keysFile() {
        return stateDir.resolve(KeyBootstrap.KEYS_FILE);
    }

    @Test
    void firstStartWithoutTerminalWritesTheDemoKeyToAPrivateFile() throws Exception {
        KeyRing ring = load(Map.of(), false);

        assertTrue(Files.exists(demoFile()));
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(demoFile()), "mode 0600");
        String secret = Files.readString(demoFile()).strip();
        assertTrue(ApiKeys.isWellFormed(secret), secret);
        ring.authenticate("Bearer " + secret);
        assertEquals(1, ring.keys().size());

        String stored = Files.readString(keysFile());
        assertFalse(stored.contains(secret), "keys.json never holds the key");
        assertFalse(stored.contains(secret.substring(ApiKeys.PREFIX.length())));
        assertTrue(stored.contains(ApiKeys.sha256(secret)), "only its hash");

        assertFalse(printed().contains(secret.substring(ApiKeys.PREFIX.length())), "not printed: " + printed());
        assertTrue(printed().contains(demoFile().toAbsolutePath().toString()), "the file's path is printed");
    }

    @Test
    void secondStartKeepsTheKeyAndMakesNoNewOne() throws Exception {
        load(Map.of(), false);
        String secret = Files.readString(demoFile()).strip();
        String keysJson = Files.readString(keysFile());
        printed.reset();

        KeyRing again = load(Map.of(), false);
        again.authenticate("Bearer " + secret);
        assertEquals(1, again.keys().size(), "no second demo key");
        assertEquals(keysJson, Files.readString(keysFile()));
        assertEquals(secret, Files.readString(demoFile()).strip(), "the demo key file is untouched");
        assertEquals("", printed(), "nothing new to announce");
    }

    @Test
    void envKeyIsRegisteredAndNoDemoKeyIsMade() throws Exception {
        String secret = ApiKeys.generate();
        KeyRing ring = load(Map.of(KeyBootstrap.ENV_API_KEY, secret), false);
        ring.authenticate("Bearer " + secret);
        assertEquals(1, ring.keys().size());
        assertFalse(Files.exists(demoFile()), "no demo key when the operator gave one");
        assertFalse(printed().contains(secret));
    }

    @Test
    void envKeyAddsToKeysCreatedEarlier() throws Exception {
        load(Map.of(), false);
        String demo = Files.readString(demoFile()).strip();
        String secret = ApiKeys.generate();
        KeyRing ring = load(Map.of(KeyBootstrap.ENV_API_KEY, secret), false);
        ring.authenticate("Bearer " + secret);
        ring.authenticate("Bearer " + demo);
        assertEquals(2, ring.keys().size());
    }

    @Test
    void malformedEnvKeyIsRejectedWithoutShowingIt() {
        String value = "br_live_thisIsNotLongEnoughButSecret";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> load(Map.of(KeyBootstrap.ENV_API_KEY, value), false));
        assertTrue(e.getMessage().contains(KeyBootstrap.ENV_API_KEY), e.getMessage());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
        assertFalse(e.getMessage().contains(value), e.getMessage());
        assertFalse(e.getMessage().contains("NotLongEnoughButSecret"), e.getMessage());
        assertFalse(Files.exists(demoFile()));
    }

    @Test
    void terminalStartPrintsTheKeyOnceAndWritesNoFile() throws Exception {
        KeyRing ring = load(Map.of(), true);
        String text = printed();
        String secret = text.lines().map(String::strip).filter(ApiKeys::isWellFormed).findFirst().orElseThrow(
                () -> new AssertionError("no key printed: " + text));
        assertEquals(text.indexOf(secret), text.lastIndexOf(secret), "printed once");
        ring.authenticate("Bearer " + secret);
        assertFalse(Files.exists(demoFile()));
        assertFalse(Files.readString(keysFile()).contains(secret));
    }

    @Test
    void configuredKeysCountAndPreventTheDemoKey() throws Exception {
        String secret = ApiKeys.generate();
        KeyRing ring = KeyBootstrap.load(List.of(new KeyConfig("ci", ApiKeys.sha256(secret), "default")),
                Map.of(), stateDir, false, out);
        ring.authenticate("Bearer " + secret);
        assertFalse(Files.exists(demoFile()));
    }

    @Test
    void corruptKeysFileIsReportedNotReplaced() throws Exception {
        Files.writeString(keysFile(), "[{\"sha256\":\"not-a-hash\"}]");
        Exception e = assertThrows(java.io.IOException.class, () -> load(Map.of(), false));
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        assertEquals("[{\"sha256\":\"not-a-hash\"}]", Files.readString(keysFile()));
    }
}
