package io.brainstorm.proxy.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Files readable by their owner only (mode 0600), set at creation so no other user can open them in between. */
public final class PrivateFiles {
    private static final System.Logger log = System.getLogger(PrivateFiles.class.getName());
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private PrivateFiles() {}

    /** Creates {@code file}, which must not exist, with mode 0600 where the file system has POSIX modes. */
    public static void create(Path file) throws IOException {
        try {
            Files.createFile(file, OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
    }

    /** Logs a warning when {@code file} (a key) is readable by its group or by other users. */
    public static void warnIfShared(Path file) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            mode.retainAll(java.util.EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ));
            if (!mode.isEmpty()) {
                log.log(System.Logger.Level.WARNING, "{0} is readable by other users; 'chmod 600' it", file);
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
