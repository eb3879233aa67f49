package io.brainstorm.proxy.auth;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Shows a secret made at start once (docs/architecture.md §6): printed when stdout is a terminal, otherwise
 * written to a file with mode 0600 in the state directory whose path is printed. Never logged.
 */
public final class Secrets {
    private Secrets() {}

    /**
     * @param secret      from {@link Registry#takeNewSecrets()}
     * @param stateDir    where the file goes when not {@code interactive}
     * @param interactive true when stdout is a terminal: the secret is printed
     * @param out         stdout
     * @return the file written, or null when printed
     */
    public static @Nullable Path showOnce(
            Registry.NewSecret secret, Path stateDir, boolean interactive, PrintStream out) throws IOException {
        if (interactive) {
            out.println();
            out.println("  " + secret.label() + " (shown once, only its SHA-256 is stored):");
            out.println("    " + secret.secret());
            out.println();
            return null;
        }
        Path file = stateDir.resolve(secret.fileName());
        // a fresh file, so that a copy left readable by others is not reused
        Files.deleteIfExists(file);
        PrivateFiles.create(file);
        Files.writeString(file, secret.secret() + "\n", StandardCharsets.UTF_8);
        out.println(secret.label() + " created and written to "
                + file.toAbsolutePath().normalize() + " (mode 0600); it is not shown anywhere else.");
        return file;
    }
}
