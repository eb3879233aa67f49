package io.brainstorm.proxy.state;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Opens one state file under a shared hold on its byte of {@code open.lock} ({@link OpenLocks}),
 * and recovers a damaged one that no other process has open by moving it aside to
 * {@code NAME.corrupt-<UTC time>} (the rules are in {@link StateStore}'s <em>Crashes</em> section).
 * Used by {@link StateStore} for its fixed files and by {@link DayFiles} for the day files.
 *
 * <p><b>Threading:</b> stateless; the hold on the file's byte is what keeps other processes from
 * deleting or moving the file while it is open.
 */
final class StateFileOpener {
    /** Under the state store's name, as before this code moved here: the ERROR line about a damaged file is grepped for. */
    private static final System.Logger log = System.getLogger(StateStore.class.getName());

    /**
     * What Chronicle Map (2026.1) says when it refuses a file for its contents: a garbled or short
     * header, a length the header does not match, a header whose writer never finished. Nothing
     * else counts as damage. {@code StateStoreRecoveryTest} fails if an upgrade words the first three
     * differently; the last comes after a minute's wait, which {@link #moveAsideIfAbandoned} spares.
     */
    private static final List<String> DAMAGE_SIGNS = List.of(
            "shorter than the header size",
            "checksum doesn't match",
            "probably corrupted",
            "likely the process which created the file crashed");

    private static final DateTimeFormatter ASIDE_STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Maps one file: Chronicle's open or create, with the sizes of its kind. */
    @FunctionalInterface
    interface Opener {
        ChronicleCellStore<?> open(Path file) throws IOException;
    }

    private StateFileOpener() {}

    /**
     * Opens {@code file} under a shared hold on its byte of {@code open.lock}. A damaged file that
     * no other process has open is moved aside first and a fresh one created; damage while another
     * process has it open, and any other failure, is thrown. Null when the file does not exist and
     * {@code create} is false.
     */
    static @Nullable OpenedFile open(OpenLocks locks, long slot, Path file, String loss, boolean create, Opener opener)
            throws IOException {
        boolean lookedAgain = false;
        for (int round = 0; ; round++) {
            moveAsideIfAbandoned(locks, slot, file, loss);
            OpenLocks.Hold hold = locks.share(slot);
            List<Object> before = null;
            try {
                // under the hold: nobody deletes or moves the file until it is released
                if (Files.exists(file)) {
                    before = identity(file);
                } else if (!create) {
                    hold.close();
                    return null;
                }
                return new OpenedFile(opener.open(file), hold);
            } catch (IOException e) {
                hold.close();
                if (!damaged(file, e)) {
                    throw new IOException(
                            file + " cannot be opened: " + e.getMessage()
                                    + " (not a damaged file, so it was left as it is)",
                            e);
                }
                if (round >= 2) {
                    throw e;
                }
                try (OpenLocks.Hold alone = locks.tryExclusive(slot)) {
                    if (alone != null) {
                        // moved aside only if nobody replaced it meanwhile (another process's recovery)
                        if (before != null && before.equals(identity(file))) {
                            moveAside(file, e.getMessage(), loss);
                        }
                    } else if (lookedAgain) {
                        throw new IOException(
                                file + " is damaged (" + e.getMessage() + ") and another gateway"
                                        + " process has it open; recovery needs every gateway process on "
                                        + file.getParent() + " stopped",
                                e);
                    } else {
                        // another process may be recovering it right now: look once more
                        lookedAgain = true;
                    }
                }
            } catch (RuntimeException e) {
                hold.close();
                throw e;
            }
        }
    }

    /**
     * A file whose header was never completed makes Chronicle wait a minute for its writer and then
     * fail. When no process has it open, no process is writing it: it is moved aside at once.
     */
    private static void moveAsideIfAbandoned(OpenLocks locks, long slot, Path file, String loss) throws IOException {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) == 0) {
                // absent or empty: Chronicle creates it
                return;
            }
        } catch (NoSuchFileException e) {
            return;
        }
        try (OpenLocks.Hold alone = locks.tryExclusive(slot)) {
            // held: someone has it open, or is writing its header now and Chronicle waits for them
            if (alone != null && headerUnfinished(file)) {
                moveAside(file, "its header was never completed: the process creating it stopped", loss);
            }
        }
    }

    /**
     * Whether the size word of Chronicle's header (an int at byte 8) says the header is still being
     * written, as Chronicle reads it (ready when positive). False when unreadable: Chronicle then
     * reports why.
     */
    static boolean headerUnfinished(Path file) {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = c.size();
            if (size == 0) {
                return false;
            }
            ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (word.hasRemaining() && c.read(word, 8 + word.position()) > 0) {
                // read to the end of the word or of the file
            }
            return word.hasRemaining() || word.getInt(0) <= 0;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether Chronicle refused {@code file} for its contents: a regular file this process may read
     * and write, refused with one of {@link #DAMAGE_SIGNS}. (Checked with access(2), not by opening
     * it: closing a descriptor of a file drops the process's locks on it, Chronicle's included.)
     */
    private static boolean damaged(Path file, IOException e) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                || !Files.isReadable(file)
                || !Files.isWritable(file)) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && DAMAGE_SIGNS.stream().anyMatch(message::contains)) {
                return true;
            }
        }
        return false;
    }

    /** Moves {@code file} to {@code NAME.corrupt-<UTC time>} beside it; the caller holds its byte exclusively. */
    private static void moveAside(Path file, @Nullable String reason, String loss) throws IOException {
        String name = file.getFileName() + ".corrupt-" + ASIDE_STAMP.format(Instant.now());
        Path aside = file.resolveSibling(name);
        for (int n = 2; Files.exists(aside, LinkOption.NOFOLLOW_LINKS); n++) {
            aside = file.resolveSibling(name + "-" + n);
        }
        Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
        log.log(
                Level.ERROR,
                "state file {0} is damaged ({1}); moved it to {2} and started a fresh one. Lost: {3}",
                file,
                reason,
                aside.getFileName(),
                loss);
    }

    /** What tells one file from its successor at the same path: inode (where the OS has one), size, mtime. */
    private static List<Object> identity(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return Arrays.asList(a.fileKey(), a.size(), a.lastModifiedTime());
    }
}
