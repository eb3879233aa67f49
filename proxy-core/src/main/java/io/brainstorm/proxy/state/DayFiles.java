package io.brainstorm.proxy.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One kind of state kept per UTC day: a Chronicle file per day, {@code stateDir/FOLDER/YYYY-MM-DD.cm3},
 * or a heap map per day for {@link StateStore#inMemory()}, so that no map fills with past days.
 * A day's file is opened the first time the day is used and held open (mapped) until
 * {@link #purge} unmaps it, {@link Kind#mappedDays()} days later; {@link #purge} also deletes the
 * files older than {@link Kind#keptDays()} days that no process has open. Every file is opened
 * under a shared hold on its own byte of {@code open.lock} ({@link OpenLocks}): the day's epoch
 * day above {@link Kind#firstSlot()}.
 *
 * <p><b>Threading:</b> thread-safe. {@link #forDay} opens a day's file the first time it is used
 * (tens of milliseconds), so {@link #prepare} opens it ahead from a timer; {@link #purge} and
 * {@link #close} are called under the {@link StateStore}'s lock.
 */
final class DayFiles implements DayStores {
    private static final System.Logger log = System.getLogger(DayFiles.class.getName());

    /**
     * What is kept per day.
     *
     * @param folder     the folder under the state directory, also the files' map name ({@code budgets-<day>})
     * @param noun       what one file is, for the log ("budget" file)
     * @param firstSlot  the byte of {@code open.lock} of epoch day 0
     * @param length     longs per entry
     * @param entries    entries per day file (it may grow to 4× that before it is full)
     * @param mappedDays files of days more than this many days before the UTC day are unmapped by {@link #purge}
     * @param keptDays   files of days more than this many days before the UTC day are deleted by {@link #purge}
     * @param loss       what is lost with a day's file when it is damaged, for the log
     */
    record Kind(
            String folder,
            String noun,
            long firstSlot,
            int length,
            long entries,
            int mappedDays,
            int keptDays,
            Function<LocalDate, String> loss) {}

    private final Kind kind;
    /** Null on the heap. */
    private final @Nullable Path dir;

    /** Null with {@link #dir}: on the heap. */
    private final @Nullable OpenLocks locks;

    private final BiConsumer<CellStore<String>, LocalDate> onOpen;
    private final Map<LocalDate, OpenedFile> days = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param stateDir the state directory, or null for heap maps
     * @param onOpen   runs on a day's entries when this process opens its file (budgets: releasing dead owners)
     */
    DayFiles(
            Kind kind,
            @Nullable Path stateDir,
            @Nullable OpenLocks locks,
            BiConsumer<CellStore<String>, LocalDate> onOpen) {
        this.kind = kind;
        this.dir = stateDir == null ? null : stateDir.resolve(kind.folder());
        this.locks = locks;
        this.onOpen = onOpen;
    }

    @Override
    public @Nullable CellStore<String> forDay(LocalDate day, boolean create) {
        OpenedFile d = days.get(day);
        if (d != null) {
            return d.cells();
        }
        if (closed) {
            throw new IllegalStateException("state store " + (dir == null ? null : dir.getParent()) + " is closed");
        }
        if (dir == null) {
            return create
                    ? days.computeIfAbsent(day, x -> new OpenedFile(new HeapCellStore<>(kind.length()), null))
                            .cells()
                    : null;
        }
        if (!create && !Files.exists(file(day))) {
            return null;
        }
        try {
            d = open(day, create);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d == null ? null : d.cells();
    }

    /** Opens (creating) the file of {@code day} now, so its first use does not wait for it. */
    void prepare(LocalDate day) throws IOException {
        try {
            forDay(day, true);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Opens the existing files of {@code first} and later days. */
    void openFrom(LocalDate first) throws IOException {
        if (dir == null) {
            return;
        }
        for (LocalDate day : onDisk()) {
            if (!day.isBefore(first)) {
                open(day, false);
            }
        }
    }

    /**
     * Unmaps this process's files of days more than {@link Kind#mappedDays()} days before
     * {@code today}, and deletes the files of days more than {@link Kind#keptDays()} days before it
     * that no process has open; logs what it deleted and what it kept because another process has
     * it open. On the heap, forgets the days beyond {@link Kind#keptDays()} instead.
     *
     * @return the days whose files were deleted (on the heap: forgotten)
     */
    List<LocalDate> purge(LocalDate today) throws IOException {
        LocalDate oldestKept = today.minusDays(kind.keptDays());
        // nothing writes these any more; a read of one maps it again until the next purge
        LocalDate oldestMapped = dir == null ? oldestKept : today.minusDays(kind.mappedDays());
        List<LocalDate> forgotten = new ArrayList<>();
        for (LocalDate day : List.copyOf(days.keySet())) {
            if (day.isBefore(oldestMapped)) {
                OpenedFile gone = days.remove(day);
                if (gone != null) {
                    gone.close();
                    forgotten.add(day);
                }
            }
        }
        if (dir == null) {
            return forgotten;
        }
        List<LocalDate> deleted = new ArrayList<>();
        List<LocalDate> inUse = new ArrayList<>();
        for (LocalDate day : onDisk()) {
            if (!day.isBefore(oldestKept)) {
                continue;
            }
            try (OpenLocks.Hold alone = locks().tryExclusive(slot(day))) {
                if (alone == null) {
                    inUse.add(day);
                } else if (Files.deleteIfExists(file(day))) {
                    deleted.add(day);
                }
            } catch (IOException e) {
                log.log(
                        Level.WARNING,
                        "state: deleting the " + kind.noun() + " file of " + day + " failed; tried"
                                + " again at the next purge",
                        e);
            }
        }
        if (!deleted.isEmpty()) {
            log.log(
                    Level.INFO,
                    "state: deleted the {0} files of {1} (older than {2} days)",
                    kind.noun(),
                    deleted,
                    kind.keptDays());
        }
        if (!inUse.isEmpty()) {
            log.log(
                    Level.INFO,
                    "state: kept the {0} files of {1}, older than {2} days, because another process"
                            + " has them open; tried again at the next purge",
                    kind.noun(),
                    inUse,
                    kind.keptDays());
        }
        return deleted;
    }

    /** The days whose maps this process has open. */
    Set<LocalDate> openDays() {
        return Set.copyOf(days.keySet());
    }

    /** Unmaps every file and releases its hold. */
    void close() {
        closed = true;
        List<OpenedFile> all = new ArrayList<>(days.values());
        days.clear();
        for (OpenedFile o : all) {
            o.close();
        }
    }

    /** The open file of {@code day}, opened the first time; null when it does not exist and {@code create} is false. */
    private @Nullable OpenedFile open(LocalDate day, boolean create) throws IOException {
        IOException[] failed = new IOException[1];
        OpenedFile opened = days.computeIfAbsent(day, d -> {
            try {
                OpenedFile o = StateFileOpener.open(
                        locks(),
                        slot(d),
                        file(d),
                        kind.loss().apply(d),
                        create,
                        f -> ChronicleCellStore.hashed(f, kind.folder() + "-" + d, kind.length(), kind.entries()));
                if (o != null) {
                    try {
                        onOpen.accept(o.cells(), d);
                    } catch (RuntimeException e) {
                        o.close();
                        throw e;
                    }
                }
                return o;
            } catch (IOException e) {
                failed[0] = e;
                return null;
            }
        });
        if (failed[0] != null) {
            throw failed[0];
        }
        return opened;
    }

    private long slot(LocalDate day) {
        return kind.firstSlot() + day.toEpochDay();
    }

    // the two below: only for days kept in files, where the state directory and its locks exist

    private Path file(LocalDate day) {
        return Objects.requireNonNull(dir, "state directory").resolve(day + ".cm3");
    }

    private OpenLocks locks() {
        return Objects.requireNonNull(locks, "open.lock of the state directory");
    }

    /** The days that have a file, oldest first. */
    private List<LocalDate> onDisk() throws IOException {
        List<LocalDate> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.cm3")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                try {
                    out.add(LocalDate.parse(name.substring(0, name.length() - ".cm3".length())));
                } catch (DateTimeParseException e) {
                    log.log(Level.WARNING, "state: ignoring {0}, not a {1} day file", f, kind.noun());
                }
            }
        }
        out.sort(null);
        return out;
    }
}
