package io.brainstorm.proxy.auth;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;

/**
 * Another gateway process on the same state directory, for {@link RegistryProcessesTest}: opens the
 * registry, says {@code ready}, waits for {@code go} on stdin, creates keys and prints their secrets,
 * then {@code done}.
 *
 * <p>Arguments: state directory, number of keys, admin token.
 */
public final class RegistryPeer {
    private RegistryPeer() {}

    public static void main(String[] args) throws Exception {
        Registry.Bootstrap boot =
                new Registry.Bootstrap(List.of(), List.of(), Set.of("openai"), null, args[2], null, null);
        try (Registry r = Registry.open(Path.of(args[0]), boot, InstantSource.system())) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (!"go".equals(in.readLine())) {
                return;
            }
            for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                System.out.println(r.createKey(
                                Registry.DEFAULT_TENANT,
                                new Registry.KeySpec("peer-" + i, KeyKind.API, KeyLimits.NONE, List.of(), null))
                        .secret());
            }
            System.out.println("done");
        }
    }
}
