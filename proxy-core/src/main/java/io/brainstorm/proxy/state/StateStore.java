package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.LearningStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The opened state directory (DESIGN §10): budgets, rate windows and learning. Open it once at
 * start, off the request path (measured here: 1.3 to 1.9 s and 80 to 115 MB of resident memory
 * for the first open in a JVM, fresh or existing directory alike, while Chronicle loads and
 * compiles; 20 to 30 ms for a later one), and close it at shutdown.
 *
 * <h2>Files</h2>
 * <pre>
 * file                             key → value                                 sized for          on disk
 * stateDir/rates.cm3               key id → minute, requests, tokens           {@value #RATE_KEYS} keys         1.1 MB
 * stateDir/learning.cm3            candidate id → 12 × (α, β, observations)   {@value #LEARNING_CANDIDATES} candidates   1.0 MB
 * stateDir/budgets/YYYY-MM-DD.cm3  key id → spent, requests, 8 owner slots    {@value #BUDGET_KEYS} keys per day 3.4 MB
 * </pre>
 * Budget and rate keys are 64-bit hashes of the key id checked by a second hash (see
 * {@link ChronicleCellStore}), so key ids of any length fit; candidate ids are stored as they are
 * (about 40 bytes). Each map may grow to four times its size before it is full; a full map makes
 * the call that needed a new entry throw {@link StateStoreException} (the request fails, the
 * event loop does not). Budgets live in a file per day, so they never fill with past days; past
 * days' files stay for read-outs and may be deleted by hand or a cron job once the audit holds
 * what they say. Several processes may open one directory at once: every update takes the
 * entry's lock inside the mapped file.
 *
 * <h2>Crashes</h2>
 * Chronicle Map survives a process crash (the kernel keeps the mapped pages), not a host crash.
 * Reserved money is recorded per owner process (pid and start time). {@link #open} releases what
 * owners that are no longer alive still hold in the day files of the last
 * {@value #RELEASE_SCAN_DAYS} days (and any older day file when it is first opened); a live peer's
 * reservations are never touched, and settled spend is never changed.
 *
 * <p><b>Threading:</b> everything returned is thread-safe. {@link #budgets()} opens a day's file
 * the first time that day is used (tens of milliseconds); {@link #open} creates today's and
 * tomorrow's (UTC) and {@link #prepareDay} lets a timer create the next one ahead of midnight.
 */
public final class StateStore implements AutoCloseable {
    private static final System.Logger log = System.getLogger(StateStore.class.getName());

    /** Budget keys per day file (keys are 64-bit hashes of the key id, so its length does not matter). */
    static final int BUDGET_KEYS = 10_000;
    static final int RATE_KEYS = 20_000;
    static final int LEARNING_CANDIDATES = 2_048;
    static final int RELEASE_SCAN_DAYS = 7;
    private static final String AVERAGE_CANDIDATE_ID = "provider/model-name-1.5@endpoint-east";
    private static final long LEARNING_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

    static {
        // Chronicle must never phone home, also under a bare `java -jar` without the launcher's -D flags;
        // this runs before any Chronicle class is loaded (they are only reached through open())
        for (String p : new String[] {"chronicle.analytics.disable", "chronicle.announcer.disable"}) {
            if (System.getProperty(p) == null) {
                System.setProperty(p, "true");
            }
        }
    }

    private final Path dir;
    private final Map<LocalDate, CellStore<String>> days = new ConcurrentHashMap<>();
    private final CellStore<String> rateCells;
    private final CellStore<String> learningCells;
    private final CellBudgetLedger budgets;
    private final RateWindows rates;
    private final Map<Double, LearningStore> learning = new ConcurrentHashMap<>();
    private volatile int releasedAtOpen;
    private volatile boolean closed;

    private StateStore(Path dir, CellStore<String> rateCells, CellStore<String> learningCells) {
        this.dir = dir;
        this.rateCells = rateCells;
        this.learningCells = learningCells;
        this.budgets = new CellBudgetLedger(this::forDay, ProcessOwner.CURRENT);
        this.rates = new CellRateWindows(rateCells);
    }

    /**
     * Opens (creating as needed) the state files under {@code stateDir} and releases the
     * reservations of dead owners. Slow: about two seconds for the first map in a JVM.
     */
    public static StateStore open(Path stateDir) throws IOException {
        long t0 = System.nanoTime();
        Path budgetDir = Files.createDirectories(stateDir.resolve("budgets"));
        ChronicleCellStore<Long> rateCells = ChronicleCellStore.hashed(stateDir.resolve("rates.cm3"), "rates",
                RateCells.LENGTH, RATE_KEYS);
        ChronicleCellStore<byte[]> learningCells;
        try {
            learningCells = ChronicleCellStore.named(stateDir.resolve("learning.cm3"), "learning",
                    CellLearningStore.LENGTH, LEARNING_CANDIDATES, AVERAGE_CANDIDATE_ID);
        } catch (IOException | RuntimeException e) {
            rateCells.close();
            throw e;
        }
        StateStore store = new StateStore(stateDir, rateCells, learningCells);
        try {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            int released = 0;
            for (LocalDate day : dayFiles(budgetDir)) {
                if (!day.isBefore(today.minusDays(RELEASE_SCAN_DAYS))) {
                    released += store.openDay(day);
                }
            }
            store.prepareDay(today);
            store.prepareDay(today.plusDays(1));
            store.releasedAtOpen = released;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        log.log(Level.INFO, "state store {0} opened in {1} ms; released {2} reservations of dead owners",
                stateDir, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), store.releasedAtOpen);
        return store;
    }

    /** The same semantics on the heap: for tests and a gateway without a state directory. */
    public static StateStore inMemory() {
        return new StateStore(null, new HeapCellStore<>(RateCells.LENGTH), new HeapCellStore<>(CellLearningStore.LENGTH));
    }

    public BudgetLedger budgets() {
        return budgets;
    }

    public RateWindows rates() {
        return rates;
    }

    /** The learnt posteriors, updated with {@code discount} (γ of {@code Posterior.update}); one store per discount. */
    public LearningStore learning(double discount) {
        return learning.computeIfAbsent(discount,
                d -> new CellLearningStore(learningCells, d, dir == null ? Long.MAX_VALUE : LEARNING_REFRESH_NANOS));
    }

    /** Reservations of dead owners that {@link #open} released. */
    public int releasedAtOpen() {
        return releasedAtOpen;
    }

    /** Opens (creating) the budget file of {@code day} now, so its first request does not wait for it. */
    public void prepareDay(LocalDate day) throws IOException {
        try {
            forDay(day, true);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<CellStore<String>> all = new ArrayList<>(days.values());
        all.add(rateCells);
        all.add(learningCells);
        for (CellStore<String> s : all) {
            if (s instanceof ChronicleCellStore<?> c) {
                c.close();
            }
        }
        days.clear();
    }

    private CellStore<String> forDay(LocalDate day, boolean create) {
        CellStore<String> s = days.get(day);
        if (s != null) {
            return s;
        }
        if (closed) {
            throw new IllegalStateException("state store " + dir + " is closed");
        }
        if (dir == null) {
            return create ? days.computeIfAbsent(day, d -> new HeapCellStore<>(BudgetCells.LENGTH)) : null;
        }
        if (!create && !Files.exists(dayFile(day))) {
            return null;
        }
        try {
            openDay(day);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return days.get(day);
    }

    /** Opens the file of {@code day} if not yet open and releases its dead owners' reservations; returns how many. */
    private int openDay(LocalDate day) throws IOException {
        int[] released = new int[1];
        IOException[] failed = new IOException[1];
        days.computeIfAbsent(day, d -> {
            try {
                ChronicleCellStore<Long> s = ChronicleCellStore.hashed(dayFile(d), "budgets-" + d, BudgetCells.LENGTH,
                        BUDGET_KEYS);
                released[0] = releaseDeadOwners(s, d);
                return s;
            } catch (IOException e) {
                failed[0] = e;
                return null;
            }
        });
        if (failed[0] != null) {
            throw failed[0];
        }
        return released[0];
    }

    private static int releaseDeadOwners(CellStore<String> s, LocalDate day) {
        Map<ProcessOwner, Boolean> alive = new HashMap<>();
        long[] total = new long[3];
        s.updateAll(c -> {
            long[] r = BudgetCells.releaseDead(c, o -> alive.computeIfAbsent(o, ProcessOwner::isAlive));
            if (r[1] == 0 && r[0] == 0) {
                return 0;
            }
            total[0] += r[0];
            total[1] += r[1];
            total[2] += 1;
            return 1;
        });
        if (total[1] > 0 || total[0] > 0) {
            log.log(Level.WARNING, "budgets of {0}: released {1} reservations ({2} nano-USD) on {3} keys held by "
                    + "processes no longer alive: {4}", day, total[1], total[0], total[2],
                    alive.entrySet().stream().filter(e -> !e.getValue()).map(e -> "pid " + e.getKey().pid()).toList());
        }
        return Math.toIntExact(total[1]);
    }

    private Path dayFile(LocalDate day) {
        return dir.resolve("budgets").resolve(day + ".cm3");
    }

    private static List<LocalDate> dayFiles(Path budgetDir) throws IOException {
        List<LocalDate> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(budgetDir, "*.cm3")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                try {
                    out.add(LocalDate.parse(name.substring(0, name.length() - ".cm3".length())));
                } catch (DateTimeParseException e) {
                    log.log(Level.WARNING, "state: ignoring {0}, not a budget day file", f);
                }
            }
        }
        return out;
    }
}
