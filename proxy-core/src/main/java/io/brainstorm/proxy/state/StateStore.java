package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.InMemoryAnswerLog;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The opened state directory (docs/architecture.md §10): budgets, rate windows, learning, and which endpoint
 * answered which request (for feedback). Open it once at start, off the request path (measured
 * through the launcher: 0.2 to 0.5 s for the first open in a JVM, fresh or existing directory
 * alike, 20 to 30 ms for a later one; 1.3 to 2.7 s and 50 MB more memory while Chronicle compiled a
 * class with javac at each start, which the jar now ships, generated at build time:
 * {@code net.openhft.chronicle.hash.VanillaGlobalMutableState$$Native}), and close it at shutdown.
 *
 * <h2>Files</h2>
 * <pre>
 * file                             key → value                                 sized for          on disk
 * stateDir/rates.cm3               key id → minute, requests, tokens           {@value #RATE_KEYS} keys         1.1 MB
 * stateDir/beliefs.cm3             candidate id, or tenant + candidate id →   {@value #BELIEF_KEYS} keys         6.2 MB
 *                                  12 × a belief (docs/routing.md)
 * stateDir/endpoints.cm3           candidate id → its two 64-bit hashes        {@value #LEARNING_CANDIDATES} candidates   0.2 MB
 * stateDir/budgets/YYYY-MM-DD.cm3  key id → spent, requests, 8 owner slots    {@value #BUDGET_KEYS} keys per day 3.4 MB
 * stateDir/answers/YYYY-MM-DD.cm3  request id → tenant, endpoint, task class,  {@value #ANSWERS_PER_DAY} answers   19.7 MB
 *                                  answered at (two hashes each for tenant     per day
 *                                  and endpoint)
 * stateDir/open.lock               a byte per file above; see below            empty
 * </pre>
 * Budget, rate and answer keys are 64-bit hashes of the key id (request id) checked by a second
 * hash (see {@link ChronicleCellStore}), so ids of any length fit; candidate ids are stored as
 * they are (about 40 bytes). Chronicle allocates a file's size on disk when it creates it (the
 * sizes above). Each map may grow to four times its size (measured on an answer file: five)
 * before it is full; a full map makes the call that needed a new entry throw
 * {@link StateStoreException} (the request fails, the event loop does not), except an answer
 * file: see below. Several processes may open one directory at once: every update takes the
 * entry's lock inside the mapped file.
 *
 * <p>Budgets live in a file per day, so no map fills with past days. While a process has a file
 * mapped it holds a shared lock on that file's byte of {@code open.lock} ({@link OpenLocks}); only
 * a process that can lock the byte exclusively, so that no process has the file open, deletes or
 * moves the file. {@link #purgeDays} (run by {@link #open} and hourly by the gateway) first
 * unmaps this process's day files older than {@value #MAPPED_DAYS} days, which no request
 * writes any more (a key's day is at most one day off the UTC day), then deletes the day files
 * older than {@link Options#budgetDaysKept()} days (35 by default) that no process has open. A
 * file another process still has open is kept and tried again at the next purge.
 *
 * <p>Answers ({@link #answers()}) live in a file per UTC day of the answer too, under the same
 * rules. Feedback looks in the files of the last 8 days, newest first (an answer can be scored
 * for 7 days), so a process keeps those mapped; {@link #purgeDays} deletes the files older than
 * {@value #ANSWER_DAYS_KEPT} days: at most ten files (200 MB) on disk, today's and tomorrow's
 * included. An answer file that is full (or cannot be opened) never fails a request: the
 * process logs it once and keeps no more of that day's answers; feedback on those gets a 404.
 * Endpoint ids are kept once, in {@code endpoints.cm3}, and answer entries name them by hash.
 *
 * <h2>Crashes</h2>
 * Chronicle Map survives a process crash (the kernel keeps the mapped pages), not a host crash.
 * Reserved money is recorded per owner process (pid and start time). {@link #open} releases what
 * owners that are no longer alive still hold in the day files of the last
 * {@value #RELEASE_SCAN_DAYS} days (and any older day file when it is first opened); a live peer's
 * reservations are never touched, and settled spend is never lowered. A dead owner's budget lease
 * ({@link BudgetLease}) is counted as spent instead: it may hold spend not yet written, which cannot
 * be told from its unused money. {@link #close} writes back this process's leases.
 *
 * <p>A file Chronicle refuses to open because it is damaged (its header garbled, its length not
 * what the header says, or a header whose writer died before finishing it) is recovered only when
 * no other process has it open: it is moved aside to {@code NAME.corrupt-<UTC time>}, an ERROR
 * line says what was lost, and a fresh file takes its place. Lost with {@code beliefs.cm3}: the
 * learnt beliefs (routing starts from the priors); with {@code rates.cm3}: this minute's
 * counts (a key may get one extra minute's allowance); with a budget day file: that day's spend
 * and reservations of every key (a key may spend its whole budget for that day again; the audit
 * log keeps what was spent); with an answer day file or {@code endpoints.cm3}: what feedback on
 * that day's (or earlier) answers needs, so it gets a 404. A damaged file another process has
 * open makes {@link #open} fail, saying that recovery needs every gateway process on the
 * directory stopped. A file that cannot be opened for another reason (permissions, a full disk,
 * not a regular file) is never taken for damage: the error is reported as it is and the file left
 * alone. Damage inside the entries, behind an intact header, is not detected.
 *
 * <p><b>Threading:</b> everything returned is thread-safe. {@link #budgets()} and
 * {@link #answers()} open a day's file the first time that day is used (tens of milliseconds);
 * {@link #open} creates today's and tomorrow's (UTC) and {@link #prepareDay} lets a timer create
 * the next ones ahead of midnight.
 */
public final class StateStore implements AutoCloseable {
    private static final System.Logger log = System.getLogger(StateStore.class.getName());

    /** Budget keys per day file (keys are 64-bit hashes of the key id, so its length does not matter). */
    static final int BUDGET_KEYS = 10_000;

    static final int RATE_KEYS = 20_000;
    static final int LEARNING_CANDIDATES = 2_048;
    /** Beliefs entries: a shared one per candidate, and one per tenant and candidate it used. */
    static final int BELIEF_KEYS = 4_096;
    /**
     * Answers per answer day file: 19.7 MB on disk, about 80 bytes an answer. It takes about five
     * times that (1.28 million, 99 MB) before it is full: 15 requests a second around the clock. A
     * busier gateway wants a larger number here ({@link Options#answersPerDay()}).
     */
    static final int ANSWERS_PER_DAY = 250_000;

    static final int RELEASE_SCAN_DAYS = 7;
    /** Budget day files older than this many days before the UTC day are unmapped by {@link #purgeDays}. */
    static final int MAPPED_DAYS = 2;
    /** Answer day files older than this many days before the UTC day are deleted by {@link #purgeDays}. */
    static final int ANSWER_DAYS_KEPT = CellAnswerLog.DAYS_SEARCHED;

    /** The answer log's queue is written to the day files this often (and at close). */
    static final long ANSWER_FLUSH_MILLIS = 100;
    /** The learning state's observations are written to {@code beliefs.cm3} this often (and at close). */
    static final long LEARNING_FLUSH_MILLIS = 200;
    /** The flush thread's tick: every period of its rounds is a multiple of it. */
    static final long FLUSH_TICK_MILLIS = 50;

    private static final String AVERAGE_CANDIDATE_ID = "provider/model-name-1.5@endpoint-east";
    private static final String AVERAGE_BELIEF_KEY = "~tenant-name|provider/model-name-1.5@endpoint-east";
    private static final long LEARNING_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Bytes of {@code open.lock}: one per file; a day file's is its epoch day above its kind's first slot. */
    private static final long RATES_SLOT = 0;

    private static final long LEARNING_SLOT = 1;
    private static final long ENDPOINTS_SLOT = 2;
    private static final long BUDGET_DAY_SLOTS = 1L << 40;
    private static final long ANSWER_DAY_SLOTS = 2L << 40;

    private static final String RATES_LOSS = "this minute's request and token counts of every key: a key may get"
            + " up to one extra minute's rate allowance";
    private static final String LEARNING_LOSS =
            "the learnt routing beliefs, shared and per tenant: routing starts again from the priors and learns anew";
    private static final String ENDPOINTS_LOSS = "the names of the endpoints that answer files refer to: feedback on"
            + " an earlier answer gets a 404 unless its endpoint has answered again since";

    static {
        // Chronicle must never phone home, also under a bare `java -jar` without the launcher's -D flags;
        // this runs before any Chronicle class is loaded (they are only reached through open())
        for (String p : new String[] {"chronicle.analytics.disable", "chronicle.announcer.disable"}) {
            if (System.getProperty(p) == null) {
                System.setProperty(p, "true");
            }
        }
        // Chronicle calls posix_fallocate and msync through jnr-ffi, which by default generates
        // bytecode and x86 stubs for them at each start; calls through reflection instead make the
        // first open 40 ms shorter and 3 to 6 MB smaller, and these calls are never on a request's path
        if (System.getProperty("jnr.ffi.asm.enabled") == null) {
            System.setProperty("jnr.ffi.asm.enabled", "false");
        }
    }

    /**
     * How a state directory is kept.
     *
     * @param budgetDaysKept budget day files older than this many days before the UTC day are
     *                       deleted by {@link #purgeDays}; at least 3, since a request may still
     *                       write a day up to {@value #MAPPED_DAYS} days back
     * @param answersPerDay  the size of a new answer day file ({@value #ANSWERS_PER_DAY} by
     *                       default); an existing file keeps the size it was made with
     */
    public record Options(int budgetDaysKept, int answersPerDay) {
        /** 35 days: a month of read-outs of past days, and some margin for whoever reads them. */
        public static final Options DEFAULTS = new Options(35);

        public Options {
            if (budgetDaysKept <= MAPPED_DAYS) {
                throw new IllegalArgumentException(
                        "budgetDaysKept: " + budgetDaysKept + " (expected: > " + MAPPED_DAYS + ")");
            }
            if (answersPerDay < 1) {
                throw new IllegalArgumentException("answersPerDay: " + answersPerDay + " (expected: >= 1)");
            }
        }

        /** {@code budgetDaysKept} and {@value #ANSWERS_PER_DAY} answers per day file. */
        public Options(int budgetDaysKept) {
            this(budgetDaysKept, ANSWERS_PER_DAY);
        }
    }

    /** The files of a state directory that are not kept per day; {@code endpoints} is null on the heap. */
    private record FixedFiles(
            OpenedFile rates, OpenedFile learning, @Nullable OpenedFile endpoints) {
        void close() {
            if (endpoints != null) {
                endpoints.close();
            }
            rates.close();
            learning.close();
        }
    }

    private final @Nullable Path dir;
    private final Options options;
    private final @Nullable OpenLocks locks;
    private final DayFiles budgetDays;
    /** Null on the heap, as {@link FixedFiles#endpoints}. */
    private final @Nullable DayFiles answerDays;

    private final FixedFiles files;
    private final CellBudgetLedger budgets;
    private final AnswerLog answers;
    private final CellRateWindows rates;
    private final Map<LearningSettings, CellLearningStore> learning = new ConcurrentHashMap<>();
    /** Writes the queued answers and observations; null on the heap, which writes them at once. */
    private final @Nullable StateFlusher flusher;

    private final AtomicInteger releasedDead = new AtomicInteger();
    private volatile int releasedAtOpen;
    private volatile boolean closed;

    private StateStore(@Nullable Path dir, Options options, @Nullable OpenLocks locks, FixedFiles files) {
        this.dir = dir;
        this.options = options;
        this.locks = locks;
        this.files = files;
        this.budgetDays = new DayFiles(
                new DayFiles.Kind(
                        "budgets",
                        "budget",
                        BUDGET_DAY_SLOTS,
                        BudgetCells.LENGTH,
                        BUDGET_KEYS,
                        MAPPED_DAYS,
                        options.budgetDaysKept(),
                        StateStore::dayLoss),
                dir,
                locks,
                (cells, day) -> releasedDead.addAndGet(releaseDeadOwners(cells, day)));
        this.budgets = new CellBudgetLedger(budgetDays, ProcessOwner.CURRENT, dir != null);
        // the answer log wakes the flush thread made below when its queue fills up
        StateFlusher[] wake = new StateFlusher[1];
        if (dir == null) {
            this.answerDays = null;
            this.answers = new InMemoryAnswerLog();
        } else {
            // find reads back DAYS_SEARCHED - 1 days, so those stay mapped
            this.answerDays = new DayFiles(
                    new DayFiles.Kind(
                            "answers",
                            "answer",
                            ANSWER_DAY_SLOTS,
                            CellAnswerLog.LENGTH,
                            options.answersPerDay(),
                            CellAnswerLog.DAYS_SEARCHED - 1,
                            ANSWER_DAYS_KEPT,
                            StateStore::answerLoss),
                    dir,
                    locks,
                    (cells, day) -> {});
            OpenedFile endpoints = Objects.requireNonNull(files.endpoints(), "endpoints file of a state directory");
            CellAnswerLog log = new CellAnswerLog(answerDays, endpoints.cells(), () -> wake[0].soon());
            this.answers = log;
        }
        this.rates = new CellRateWindows(files.rates().cells(), dir != null);
        if (answers instanceof CellAnswerLog log) {
            this.flusher = new StateFlusher(
                    FLUSH_TICK_MILLIS,
                    List.of(
                            new StateFlusher.Round(ANSWER_FLUSH_MILLIS, log::flush),
                            new StateFlusher.Round(CellBudgetLedger.FLUSH_MILLIS, () -> budgets.flush(false)),
                            new StateFlusher.Round(LEARNING_FLUSH_MILLIS, () -> {
                                for (CellLearningStore l : learning.values()) {
                                    l.flush();
                                }
                            }),
                            new StateFlusher.Round(CellRateWindows.CHECK_MILLIS, () -> rates.giveBack(false))));
            wake[0] = flusher;
        } else {
            this.flusher = null;
        }
    }

    /** {@link #open(Path, Options)} with {@link Options#DEFAULTS}. */
    public static StateStore open(Path stateDir) throws IOException {
        return open(stateDir, Options.DEFAULTS);
    }

    /**
     * Opens (creating as needed) the state files under {@code stateDir}, recovering a damaged one
     * that no other process has open, releases the reservations of dead owners and purges old
     * budget days ({@link #purgeDays}). Slow: a few hundred milliseconds for the first map in a JVM.
     *
     * @throws IOException naming the file when one cannot be opened, or is damaged while another
     *                     process has it open
     */
    public static StateStore open(Path stateDir, Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        long t0 = System.nanoTime();
        Files.createDirectories(stateDir.resolve("budgets"));
        Files.createDirectories(stateDir.resolve("answers"));
        OpenLocks locks = OpenLocks.acquire(stateDir);
        List<OpenedFile> opened = new java.util.ArrayList<>();
        StateStore store;
        try {
            opened.add(StateFileOpener.open(
                    locks,
                    RATES_SLOT,
                    stateDir.resolve("rates.cm3"),
                    RATES_LOSS,
                    true,
                    f -> ChronicleCellStore.hashed(f, "rates", RateCells.LENGTH, RATE_KEYS)));
            opened.add(StateFileOpener.open(
                    locks,
                    LEARNING_SLOT,
                    stateDir.resolve("beliefs.cm3"),
                    LEARNING_LOSS,
                    true,
                    f -> ChronicleCellStore.named(
                            f, "beliefs", CellLearningStore.LENGTH, BELIEF_KEYS, AVERAGE_BELIEF_KEY)));
            opened.add(StateFileOpener.open(
                    locks,
                    ENDPOINTS_SLOT,
                    stateDir.resolve("endpoints.cm3"),
                    ENDPOINTS_LOSS,
                    true,
                    f -> ChronicleCellStore.named(
                            f, "endpoints", CellAnswerLog.ENDPOINT_LENGTH, LEARNING_CANDIDATES, AVERAGE_CANDIDATE_ID)));
            LegacyLearning.importInto(stateDir, opened.get(1).cells(), LEARNING_CANDIDATES, AVERAGE_CANDIDATE_ID);
            store = new StateStore(
                    stateDir, options, locks, new FixedFiles(opened.get(0), opened.get(1), opened.get(2)));
        } catch (IOException | RuntimeException e) {
            for (OpenedFile o : opened) {
                o.close();
            }
            locks.release();
            throw e;
        }
        try {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            store.budgetDays.openFrom(today.minusDays(RELEASE_SCAN_DAYS));
            Objects.requireNonNull(store.answerDays, "answer files of a state directory")
                    .openFrom(today.minusDays(CellAnswerLog.DAYS_SEARCHED - 1));
            store.releasedAtOpen = store.releasedDead.get();
            store.prepareDay(today);
            store.prepareDay(today.plusDays(1));
            store.purgeDays(today);
            Objects.requireNonNull(store.flusher, "flusher of a state directory")
                    .start();
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        log.log(
                Level.INFO,
                "state store {0} opened in {1} ms; released {2} reservations of dead owners",
                stateDir,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                store.releasedAtOpen);
        return store;
    }

    /** The same semantics on the heap: for tests and a gateway without a state directory. */
    public static StateStore inMemory() {
        return new StateStore(
                null,
                Options.DEFAULTS,
                null,
                new FixedFiles(
                        new OpenedFile(new HeapCellStore<>(RateCells.LENGTH), null),
                        new OpenedFile(new HeapCellStore<>(CellLearningStore.LENGTH), null),
                        null));
    }

    public BudgetLedger budgets() {
        return budgets;
    }

    public RateWindows rates() {
        return rates;
    }

    /**
     * Which endpoint answered which request, for feedback: in the answer day files, or on the heap
     * (the last {@value InMemoryAnswerLog#DEFAULT_CAPACITY}) for {@link #inMemory}.
     */
    public AnswerLog answers() {
        return answers;
    }

    /** The learnt beliefs, updated under {@code settings} (its detector and discount); one store per settings. */
    public LearningStore learning(LearningSettings settings) {
        return learning.computeIfAbsent(
                settings,
                d -> new CellLearningStore(
                        files.learning().cells(),
                        d,
                        dir == null ? Long.MAX_VALUE : LEARNING_REFRESH_NANOS,
                        dir != null));
    }

    /**
     * Writes what the request path queued (answers, observations) now rather than at the next
     * round of the timer: for tests, and {@link #close}. Not on an event loop.
     */
    void flush() {
        if (answers instanceof CellAnswerLog a) {
            a.flush();
        }
        for (CellLearningStore l : learning.values()) {
            l.flush();
        }
    }

    /** Answers not kept for feedback because too many waited to be written (0 on the heap). */
    public long answersDropped() {
        return answers instanceof CellAnswerLog a ? a.dropped() : 0;
    }

    /** Reservations of dead owners that {@link #open} released. */
    public int releasedAtOpen() {
        return releasedAtOpen;
    }

    /** Opens (creating) the budget and answer files of {@code day} now, so its first request does not wait for them. */
    public void prepareDay(LocalDate day) throws IOException {
        budgetDays.prepare(day);
        if (answerDays != null) {
            answerDays.prepare(day);
        }
    }

    /**
     * Unmaps this process's budget files of days more than {@value #MAPPED_DAYS} days before
     * {@code today} (UTC) and its answer files of days that feedback no longer reads, and deletes
     * the budget files of days more than {@link Options#budgetDaysKept()} days before it and the
     * answer files of days more than {@value #ANSWER_DAYS_KEPT} days before it that no process has
     * open; logs what it deleted and what it kept because another process has it open. The heap
     * store forgets those budget days instead. Runs at {@link #open}; call it from a timer (hourly,
     * say), off the event loops.
     *
     * @return the days some of whose files were deleted, oldest first
     */
    public synchronized List<LocalDate> purgeDays(LocalDate today) throws IOException {
        if (closed) {
            return List.of();
        }
        java.util.SortedSet<LocalDate> deleted = new java.util.TreeSet<>(budgetDays.purge(today));
        if (answerDays != null) {
            deleted.addAll(answerDays.purge(today));
        }
        return List.copyOf(deleted);
    }

    /** The days whose budget maps this process has open: for tests. */
    java.util.Set<LocalDate> openDays() {
        return budgetDays.openDays();
    }

    /** The days whose answer maps this process has open: for tests. */
    java.util.Set<LocalDate> openAnswerDays() {
        return Objects.requireNonNull(answerDays, "answer files (none on the heap)")
                .openDays();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (flusher != null) {
            try {
                if (!flusher.stop(5_000)) {
                    log.log(Level.WARNING, "the state flush thread did not stop within 5 s; flushing beside it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // nothing queued is lost at a shutdown; the leases go back
        flush();
        budgets.close();
        rates.close();
        budgetDays.close();
        if (answerDays != null) {
            answerDays.close();
        }
        files.close();
        if (locks != null) {
            locks.release();
        }
    }

    private static String answerLoss(LocalDate day) {
        return "which endpoint gave each answer of " + day + ": feedback on those requests gets a 404";
    }

    private static String dayLoss(LocalDate day) {
        return "what every key spent and had reserved on " + day + ": each key's budget for " + day
                + " starts again from zero, so a key may spend its whole budget for that day once more; the audit"
                + " log keeps what was spent";
    }

    private static int releaseDeadOwners(CellStore<String> s, LocalDate day) {
        Map<ProcessOwner, Boolean> alive = new HashMap<>();
        // released nano-USD, released reservations, keys changed, lease nano-USD counted as spent
        long[] total = new long[4];
        s.updateAll(c -> {
            long[] r = BudgetCells.releaseDead(c, o -> alive.computeIfAbsent(o, ProcessOwner::isAlive));
            if (r[1] == 0 && r[0] == 0 && r[2] == 0) {
                return 0;
            }
            total[0] += r[0];
            total[1] += r[1];
            total[2] += 1;
            total[3] += r[2];
            return 1;
        });
        if (total[2] > 0) {
            log.log(
                    Level.WARNING,
                    "budgets of {0}: released {1} reservations ({2} nano-USD) and counted {3} nano-USD of leases"
                            + " as spent on {4} keys held by processes no longer alive: {5}",
                    day,
                    total[1],
                    total[0],
                    total[3],
                    total[2],
                    alive.entrySet().stream()
                            .filter(e -> !e.getValue())
                            .map(e -> "pid " + e.getKey().pid())
                            .toList());
        }
        return Math.toIntExact(total[1]);
    }
}
