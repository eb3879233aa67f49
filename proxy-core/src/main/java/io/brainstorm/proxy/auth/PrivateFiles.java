package io.brainstorm.proxy.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Files readable by their owner only (mode 0600), set at creation so no other user can open them in between. */
final class PrivateFiles {
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private PrivateFiles() {
    }

    /** Creates {@code file}, which must not exist, with mode 0600 where the file system has POSIX modes. */
    static void create(Path file) throws IOException {
        try {
            Files.createFile(file, OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
    }
}
