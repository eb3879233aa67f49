package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeyTest {
    @TempDir
    Path dir;

    private static String randomKey(int bytes) {
        byte[] key = new byte[bytes];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    @Test
    void aMissingKeyFileIsCreatedPrivateAndReusedAfter() throws Exception {
        Path file = dir.resolve("sub").resolve(MasterKey.DEFAULT_FILE);
        SecretBox first = MasterKey.load(null, file);

        assertEquals(
                Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(file),
                "mode 0600");
        assertEquals(32, Base64.getDecoder().decode(Files.readString(file).strip()).length);
        assertFalse(Files.exists(file.resolveSibling(MasterKey.DEFAULT_FILE + ".tmp")), "no temporary file left");

        byte[] sealed = first.seal("acme", "openai", "sk-1");
        assertEquals("sk-1", MasterKey.load("", file).open("acme", "openai", sealed), "the same key at the next start");
    }

    @Test
    void theEnvironmentWinsAndNoFileIsMade() throws Exception {
        String key = randomKey(32);
        Path file = dir.resolve(MasterKey.DEFAULT_FILE);
        byte[] sealed = MasterKey.load(key, file).seal("t", "p", "secret");
        assertFalse(Files.exists(file));
        assertEquals("secret", MasterKey.load(key, file).open("t", "p", sealed));
    }

    @Test
    void aMalformedEnvironmentValueIsNamedButNotShown() {
        for (String value : new String[] {randomKey(16), randomKey(33), "not base64 at all!!", "c2hvcnQ="}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> MasterKey.load(value, dir.resolve("k")), value);
            assertTrue(e.getMessage().startsWith(MasterKey.ENV + ":"), e.getMessage());
            assertTrue(e.getMessage().contains("base64 of 32 bytes"), e.getMessage());
            assertFalse(e.getMessage().contains(value), e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("k")), "no file made when the variable is wrong");
    }

    @Test
    void aBadKeyFileIsReportedNotReplaced() throws Exception {
        Path file = dir.resolve(MasterKey.DEFAULT_FILE);
        String shortKey = randomKey(16);
        Files.writeString(file, shortKey + "\n");
        IOException e = assertThrows(IOException.class, () -> MasterKey.load(null, file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("base64 of 32 bytes"), e.getMessage());
        assertFalse(e.getMessage().contains(shortKey), e.getMessage());
        assertEquals(shortKey + "\n", Files.readString(file));
    }
}
