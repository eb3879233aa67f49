package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two gateway processes on one state directory: the file lock, not the JVM's, keeps their changes apart. */
class RegistryProcessesTest {
    private static final String ADMIN_TOKEN = "a-long-operator-chosen-admin-token";
    private static final int KEYS_EACH = 15;

    @TempDir
    Path stateDir;

    private Registry open() throws Exception {
        return Registry.open(
                stateDir,
                new Registry.Bootstrap(List.of(), List.of(), Set.of("openai"), null, ADMIN_TOKEN, null, null),
                InstantSource.system());
    }

    @Test
    void keysMadeAtTheSameTimeByTwoProcessesAreAllKept() throws Exception {
        try (Registry here = open()) {
            Process peer = ChildJvm.main(RegistryPeer.class)
                    .args(stateDir.toString(), String.valueOf(KEYS_EACH), ADMIN_TOKEN)
                    .start()
                    .process();
            try {
                BufferedReader out =
                        new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("ready", out.readLine());
                Writer in = new OutputStreamWriter(peer.getOutputStream(), StandardCharsets.UTF_8);
                in.write("go\n");
                in.flush();

                List<String> secrets = new ArrayList<>();
                for (int i = 0; i < KEYS_EACH; i++) {
                    secrets.add(here.createKey(
                                    Registry.DEFAULT_TENANT,
                                    new Registry.KeySpec("here-" + i, KeyKind.API, KeyLimits.NONE, List.of(), null))
                            .secret());
                }
                for (String line = out.readLine(); !"done".equals(line); line = out.readLine()) {
                    assertTrue(line != null && ApiKeys.isWellFormed(line), "the peer's output: " + line);
                    secrets.add(line);
                }
                assertTrue(peer.waitFor(10, TimeUnit.SECONDS));
                assertEquals(0, peer.exitValue());

                assertEquals(2 * KEYS_EACH, secrets.size());
                here.poll();
                try (Registry later = open()) {
                    for (String secret : secrets) {
                        here.authenticate("Bearer " + secret);
                        later.authenticate("Bearer " + secret);
                    }
                    assertEquals(
                            2 * KEYS_EACH + 1, later.allKeys().size(), "all of them and the demo key, nothing more");
                }
            } finally {
                peer.destroyForcibly();
            }
        }
    }
}
