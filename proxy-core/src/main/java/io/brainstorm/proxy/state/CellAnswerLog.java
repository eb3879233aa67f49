package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.spi.TaskClass;
import java.lang.System.Logger.Level;
import java.time.LocalDate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * {@link AnswerLog} in day files: each answer goes to the file of its UTC day, keyed by request id
 * (hashed, with the check hash of {@link ChronicleCellStore#hashed}), and {@link #find} looks in
 * the files of the last {@value #DAYS_SEARCHED} days, newest first. Every gateway process on the
 * state directory sees every other's answers, and they outlive restarts.
 *
 * <p>An entry is {@value #LENGTH} longs: the tenant's two 64-bit hashes (so another tenant's key
 * finds nothing unless both hashes collide, about 2^-128), the answering endpoint's two hashes,
 * the task class ({@link TaskClass#index()} + 1, so a stored entry is never all zeros) and the
 * time of the answer. Endpoint ids are long and few, so they are stored once, in a small map of
 * their own ({@code endpoints}: id → its two hashes), and an entry names its endpoint by hash;
 * this process keeps both directions of that map on the heap and reads the file again when it
 * meets a hash it does not know (another process's endpoint).
 *
 * <p><b>Batches.</b> {@link #remember} does not touch the files: it adds the answer to a bounded
 * heap queue of {@value #PENDING_CAPACITY}, which {@link #flush} writes (a timer of the state store,
 * every {@value StateStore#ANSWER_FLUSH_MILLIS} ms, and at close), one entry update per answer. A
 * queue half full asks the timer to flush at once ({@code flushSoon}); a full one drops the answer
 * and counts it ({@link #dropped()}; the flush logs how many). {@link #find} looks in the queue
 * first, so feedback right after an answer works in this process; another process finds the answer
 * once this one has flushed it. A process killed with {@code kill -9} loses what it had not
 * flushed: at most the last {@value StateStore#ANSWER_FLUSH_MILLIS} ms of answers.
 *
 * <p><b>Errors:</b> {@link #remember} never throws: the answer is on its way to the client. When
 * a day's file cannot take an entry (it is full, or cannot be opened) this process stops trying
 * for the rest of that day, so a full file costs nothing per request, and logs it once.
 *
 * <p><b>Threading:</b> thread-safe. {@link #remember} is a lock-free queue offer and a counter
 * increment: it never waits for the flusher or another writer. {@link #find} scans the queue and
 * reads a few entries under their locks; {@link #flush} runs on one thread at a time, off the event
 * loops (the entries' locks may be held by another process).
 */
final class CellAnswerLog implements AnswerLog {
    private static final System.Logger log = System.getLogger(CellAnswerLog.class.getName());

    static final int LENGTH = 6;
    /** Longs per entry of the endpoints map: the id's key hash and check hash. */
    static final int ENDPOINT_LENGTH = 2;

    private static final long DAY_MILLIS = 24L * 3600 * 1000;
    /** Today and the days before it that can hold an answer younger than the retention. */
    static final int DAYS_SEARCHED = (int) (RETENTION_MILLIS / DAY_MILLIS) + 1;

    private static final int TENANT = 0;
    private static final int TENANT_CHECK = 1;
    private static final int ENDPOINT = 2;
    private static final int ENDPOINT_CHECK = 3;
    private static final int TASK_CLASS = 4;
    private static final int AT = 5;

    /** Answers waiting for {@link #flush}: at most this many, then they are dropped. */
    static final int PENDING_CAPACITY = 8_192;

    private final DayStores days;
    private final CellStore<String> endpoints;
    /** Endpoints known to be in the endpoints map, with their hashes; and the reverse. */
    private final ConcurrentHashMap<String, long[]> hashesById = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<Long, String> idByHash = new ConcurrentHashMap<>();
    /** The day whose answers this process no longer tries to keep. */
    private final AtomicReference<LocalDate> givenUp = new AtomicReference<>();

    private record Remembered(String requestId, Answer answer) {}

    /** Oldest first; only {@link #flush} removes, so what it peeked at is what it polls. */
    private final ConcurrentLinkedQueue<Remembered> pending = new ConcurrentLinkedQueue<>();

    private final AtomicInteger pendingCount = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private long droppedLogged;
    private final Runnable flushSoon;

    /** @param flushSoon asks for a {@link #flush} now, without waiting for it: the queue is half full */
    CellAnswerLog(DayStores days, CellStore<String> endpoints, Runnable flushSoon) {
        this.days = days;
        this.endpoints = endpoints;
        this.flushSoon = flushSoon;
    }

    @Override
    public void remember(String requestId, Answer answer) {
        if (dayOf(answer.atMillis()).equals(givenUp.get())) {
            return;
        }
        int before = pendingCount.getAndIncrement();
        if (before >= PENDING_CAPACITY) {
            pendingCount.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        pending.offer(new Remembered(requestId, answer));
        if (before == PENDING_CAPACITY / 2) {
            flushSoon.run();
        }
    }

    /** Answers dropped so far because the queue was full. */
    long dropped() {
        return dropped.get();
    }

    /**
     * Writes the queued answers to their day files, oldest first. One thread at a time (the state
     * store's timer, or its close), never an event loop.
     */
    synchronized void flush() {
        for (Remembered r = pending.peek(); r != null; r = pending.peek()) {
            write(r.requestId, r.answer);
            // removed only once written, so find sees it in one place or the other
            pending.poll();
            pendingCount.decrementAndGet();
        }
        long d = dropped.get();
        if (d != droppedLogged) {
            log.log(
                    Level.WARNING,
                    "answers: "
                            + (d - droppedLogged)
                            + " answers were not kept for feedback (feedback on them gets a 404): more than "
                            + PENDING_CAPACITY
                            + " waited to be written");
            droppedLogged = d;
        }
    }

    private void write(String requestId, Answer answer) {
        LocalDate day = dayOf(answer.atMillis());
        if (day.equals(givenUp.get())) {
            return;
        }
        try {
            long[] endpoint = endpoint(answer.candidateId());
            long tenant = ChronicleCellStore.keyHash(answer.tenant());
            long tenantCheck = ChronicleCellStore.checkHash(answer.tenant());
            days.forDay(day).update(requestId, c -> {
                if (c[TASK_CLASS] != 0) {
                    // the first answer to an id stands
                    return 0;
                }
                c[TENANT] = tenant;
                c[TENANT_CHECK] = tenantCheck;
                c[ENDPOINT] = endpoint[0];
                c[ENDPOINT_CHECK] = endpoint[1];
                c[TASK_CLASS] = answer.taskClass().index() + 1;
                c[AT] = answer.atMillis();
                return 0;
            });
        } catch (RuntimeException e) {
            LocalDate before = givenUp.get();
            if (!day.equals(before) && givenUp.compareAndSet(before, day)) {
                log.log(
                        Level.WARNING,
                        "answers of " + day + " are no longer kept for feedback by this process"
                                + " (feedback on them gets a 404): keeping " + requestId + " failed",
                        e);
            }
        }
    }

    @Override
    public @Nullable Answer find(String requestId, String tenant, long nowMillis) {
        // the queue before the files: an answer leaves the queue only once it is in its file
        Remembered queued = queued(requestId);
        LocalDate today = dayOf(nowMillis);
        long[] c = new long[LENGTH];
        for (int back = 0; back < DAYS_SEARCHED; back++) {
            CellStore<String> s = days.forDay(today.minusDays(back), false);
            if (s == null || !read(s, requestId, c)) {
                continue;
            }
            int taskClass = (int) c[TASK_CLASS] - 1;
            boolean theirs = c[TENANT] == ChronicleCellStore.keyHash(tenant)
                    && c[TENANT_CHECK] == ChronicleCellStore.checkHash(tenant);
            if (!theirs || nowMillis - c[AT] > RETENTION_MILLIS || taskClass < 0 || taskClass >= TaskClass.COUNT) {
                return null;
            }
            String endpoint = endpointOf(c[ENDPOINT], c[ENDPOINT_CHECK]);
            return endpoint == null
                    ? null
                    : new Answer(tenant, endpoint, TaskClass.all().get(taskClass), c[AT]);
        }
        // not written yet; one in a file came first and stands
        if (queued == null) {
            return null;
        }
        Answer a = queued.answer;
        return a.tenant().equals(tenant) && nowMillis - a.atMillis() <= RETENTION_MILLIS ? a : null;
    }

    /** The oldest queued answer to {@code requestId}, or null. */
    private @Nullable Remembered queued(String requestId) {
        for (Remembered r : pending) {
            if (r.requestId.equals(requestId)) {
                return r;
            }
        }
        return null;
    }

    /** Reads the entry of {@code requestId}; false when absent or when another id holds its 64-bit hash. */
    private static boolean read(CellStore<String> s, String requestId, long[] into) {
        try {
            return s.read(requestId, into);
        } catch (StateStoreException collision) {
            return false;
        }
    }

    /** The hashes of endpoint {@code id}, put in the endpoints map the first time this process meets it. */
    private long[] endpoint(String id) {
        long[] h = hashesById.get(id);
        if (h != null) {
            return h;
        }
        long[] hashes = {ChronicleCellStore.keyHash(id), ChronicleCellStore.checkHash(id)};
        endpoints.update(id, c -> {
            c[0] = hashes[0];
            c[1] = hashes[1];
            return 0;
        });
        idByHash.put(hashes[0], id);
        hashesById.put(id, hashes);
        return hashes;
    }

    /** The endpoint id with these hashes, or null when the endpoints map has none. */
    private @Nullable String endpointOf(long hash, long check) {
        String id = known(hash, check);
        if (id == null) {
            // another process's endpoint, or one this process has not met since it started
            endpoints.forEach((name, c) -> {
                hashesById.putIfAbsent(name, c.clone());
                idByHash.putIfAbsent(c[0], name);
            });
            id = known(hash, check);
        }
        return id;
    }

    private @Nullable String known(long hash, long check) {
        String id = idByHash.get(hash);
        long[] h = id == null ? null : hashesById.get(id);
        return h != null && h[1] == check ? id : null;
    }

    private static LocalDate dayOf(long millis) {
        return LocalDate.ofEpochDay(Math.floorDiv(millis, DAY_MILLIS));
    }
}
