package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.state.CellStore;
import io.brainstorm.proxy.state.StoreUnavailableException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The learning state's entries ({@code state.CellLearningStore}) in Redis, shared by every gateway
 * on it, so that each belief merges every gateway's observations.
 *
 * <p><b>Keys.</b> An entry is one string, {@code <prefix>belief:{<entry>}}, holding
 * {@code "<version>:<base64 of the longs, big-endian>"}. The hash {@code <prefix>beliefs} maps each
 * entry's name to its latest version ({@code belief-announce.lua}: versions only go up), so a
 * refresh reads only what changed. Beside each entry, {@code <prefix>belief:{<entry>}:writer:<id>}
 * holds the id of this gateway's last write that landed (same hash tag, so a write stays in one
 * Cluster slot), kept {@value #MARKER_TTL_SECONDS} s after it.
 *
 * <p><b>Writes</b> ({@link #update}) are optimistic: the entry as this gateway last saw it is
 * changed on a copy and written by {@code belief-cas.lua} only if its version is still the one
 * read; when another gateway wrote first, the script answers with the current value and the op
 * runs again on it (at most {@value #MAX_ATTEMPTS} times). So each write lands exactly once, on top
 * of every write before it, whichever gateway made it. A write whose answer is lost (a timeout, a
 * connection dropped) throws {@link StoreUnavailableException}; tried again with the same write id
 * it is found in the marker when it had landed, and not written twice.
 *
 * <p><b>Reads</b> ({@link #read}, {@link #forEach}) never touch Redis: they serve a mirror on the
 * heap that {@link #refresh} (a background round, every {@value #REFRESH_MILLIS} ms) brings up to
 * the versions in {@code <prefix>beliefs}, and that {@link #update} brings up to what it wrote or
 * was told.
 *
 * <p><b>Threading:</b> thread-safe. {@link #read} and {@link #forEach} are map reads, for any
 * thread, event loops included. {@link #update} and {@link #refresh} wait for Redis (at most a
 * few times the command timeout): call them only on a background thread (the state flusher).
 *
 * <p><b>Errors:</b> Redis unreachable or slow: {@link #update} and {@link #refresh} throw
 * {@link StoreUnavailableException}, and the mirror stays as it was. A version that could not be
 * announced is announced again by the next {@link #refresh}. {@link #updateAll} is not supported
 * (the learning state never needs it).
 */
public final class RedisCellStore implements CellStore<String> {
    /** How often the gateway's refresh round runs: the delay before another gateway's writes show. */
    public static final long REFRESH_MILLIS = 500;

    static final int MAX_ATTEMPTS = 64;
    static final long MARKER_TTL_SECONDS = 7L * 24 * 3600;
    private static final int GET_BATCH = 256;

    private final RedisLink link;
    private final RedisAsyncCommands<String, String> redis;
    private final String prefix;
    private final int length;
    private final long waitMillis;
    private final String writer;
    private final RedisScript cas = new RedisScript("belief-cas.lua");
    private final RedisScript announce = new RedisScript("belief-announce.lua");

    /** An entry at a version. */
    private record Mirrored(long version, long[] cells) {}

    /** A write whose answer was lost: tried again from the same entry, under the same id. */
    private record Doubt(long writeId, long version, long[] base) {}

    private final java.util.concurrent.atomic.AtomicLong ownWriteIds = new java.util.concurrent.atomic.AtomicLong();

    private final ConcurrentHashMap<String, Mirrored> mirror = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Doubt> inDoubt = new ConcurrentHashMap<>();
    /** Versions written whose announcement failed: entry → version. */
    private final ConcurrentHashMap<String, Long> unannounced = new ConcurrentHashMap<>();

    /** @param length longs per entry */
    public RedisCellStore(RedisLink link, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 1)");
        }
        this.link = link;
        this.redis = link.async();
        this.prefix = link.prefix();
        this.length = length;
        // Lettuce times every command out itself; this is only a backstop
        this.waitMillis = 2 * link.config().timeout().toMillis() + 1_000;
        byte[] id = new byte[8];
        new SecureRandom().nextBytes(id);
        this.writer = HexFormat.of().formatHex(id);
    }

    @Override
    public long update(String key, Op op) {
        // write ids need only differ among this store's writes: each writer has a marker of its own
        return update(key, ownWriteIds.decrementAndGet(), op);
    }

    @Override
    public long update(String key, long writeId, Op op) {
        Objects.requireNonNull(key, "key");
        Doubt doubt = inDoubt.remove(key);
        long version;
        long[] base;
        if (doubt != null && doubt.writeId == writeId) {
            // the same write again: from the entry it was made on, so the op computes what it wrote
            version = doubt.version;
            base = doubt.base;
        } else {
            Mirrored m = mirror.get(key);
            version = m == null ? 0 : m.version;
            base = m == null ? new long[length] : m.cells;
        }
        String id = Long.toString(writeId);
        for (int attempt = 1; ; attempt++) {
            long[] c = base.clone();
            long result = op.apply(c);
            if (version == 0 && isZero(c)) {
                return result;
            }
            List<Object> reply;
            try {
                reply = await(cas.<List<Object>>call(
                        redis,
                        ScriptOutputType.MULTI,
                        new String[] {entryKey(key), markerKey(key)},
                        Long.toString(version),
                        encode(version + 1, c),
                        id,
                        Long.toString(MARKER_TTL_SECONDS)));
            } catch (StoreUnavailableException e) {
                inDoubt.put(key, new Doubt(writeId, version, base));
                throw e;
            }
            long status = (Long) reply.get(0);
            if (status == 1) {
                install(key, new Mirrored(version + 1, c));
                announce(key, version + 1);
                return result;
            }
            String current = reply.size() > 1 ? (String) reply.get(1) : null;
            Mirrored now = current == null ? null : decode(key, current);
            if (now != null) {
                install(key, now);
            }
            if (status == 2) {
                // it landed on the entry it was made on: what the op returned then, it returns now
                announce(key, version + 1);
                return result;
            }
            if (attempt >= MAX_ATTEMPTS) {
                throw new StoreUnavailableException("learning entry " + key + ": " + attempt
                        + " writes in a row lost the race to other gateways (expected: fewer than " + MAX_ATTEMPTS
                        + ")");
            }
            version = now == null ? 0 : now.version;
            base = now == null ? new long[length] : now.cells;
        }
    }

    @Override
    public boolean read(String key, long[] into) {
        Mirrored m = mirror.get(key);
        if (m == null) {
            return false;
        }
        System.arraycopy(m.cells, 0, into, 0, length);
        return true;
    }

    @Override
    public void updateAll(Op op) {
        throw new UnsupportedOperationException("updateAll: not supported by the Redis learning store");
    }

    @Override
    public void forEach(BiConsumer<String, long[]> action) {
        for (Map.Entry<String, Mirrored> e : mirror.entrySet()) {
            action.accept(e.getKey(), e.getValue().cells.clone());
        }
    }

    /**
     * Brings the mirror up to Redis: announces the versions that could not be announced, reads the
     * versions of every entry and then, in pipelined batches, the entries that changed. On a
     * background thread: it waits for Redis.
     *
     * @return how many entries changed in the mirror
     * @throws StoreUnavailableException Redis could not be reached or did not answer in time
     */
    public int refresh() {
        for (Map.Entry<String, Long> e : unannounced.entrySet()) {
            long v = e.getValue();
            unannounced.remove(e.getKey(), v);
            // put back when it fails again
            announce(e.getKey(), v);
        }
        Map<String, String> versions = await(redis.hgetall(versionsKey()));
        List<String> changed = new ArrayList<>();
        for (Map.Entry<String, String> e : versions.entrySet()) {
            Mirrored m = mirror.get(e.getKey());
            if (m == null || parseVersion(e.getValue()) > m.version) {
                changed.add(e.getKey());
            }
        }
        int installed = 0;
        for (int from = 0; from < changed.size(); from += GET_BATCH) {
            List<String> batch = changed.subList(from, Math.min(changed.size(), from + GET_BATCH));
            List<RedisFuture<String>> gets = new ArrayList<>(batch.size());
            for (String k : batch) {
                // one GET per entry (pipelined on the connection), not MGET: each entry has its own slot
                gets.add(redis.get(entryKey(k)));
            }
            for (int i = 0; i < batch.size(); i++) {
                String value = await(gets.get(i));
                if (value != null && install(batch.get(i), decode(batch.get(i), value))) {
                    installed++;
                }
            }
        }
        return installed;
    }

    /** Entries in the mirror: for read-outs and tests. */
    public int mirrored() {
        return mirror.size();
    }

    String entryKey(String key) {
        return prefix + "belief:{" + key + "}";
    }

    private String markerKey(String key) {
        return entryKey(key) + ":writer:" + writer;
    }

    String versionsKey() {
        return prefix + "beliefs";
    }

    /** Puts {@code m} in the mirror unless it holds a newer version; true when it did. */
    private boolean install(String key, Mirrored m) {
        boolean[] done = new boolean[1];
        mirror.compute(key, (k, old) -> {
            if (old != null && old.version >= m.version) {
                return old;
            }
            done[0] = true;
            return m;
        });
        return done[0];
    }

    /**
     * Records the version in {@code <prefix>beliefs}, waiting for it, so that a refresh anywhere
     * after this write returns reads it; a failure is left for the next {@link #refresh}, since the
     * write itself landed.
     */
    private void announce(String key, long version) {
        try {
            await(announce.<Long>call(
                    redis, ScriptOutputType.INTEGER, new String[] {versionsKey()}, key, Long.toString(version)));
        } catch (StoreUnavailableException e) {
            unannounced.merge(key, version, Math::max);
        }
    }

    private <T> T await(CompletionStage<T> f) {
        try {
            return link.timed(RedisLink.Op.LEARNING, f).toCompletableFuture().get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("learning: interrupted while waiting for Redis", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new StoreUnavailableException("learning: Redis did not take the command: " + c, c);
        } catch (TimeoutException e) {
            throw new StoreUnavailableException("learning: no answer from Redis within " + waitMillis + " ms", e);
        }
    }

    String encode(long version, long[] cells) {
        ByteBuffer b = ByteBuffer.allocate(8 * length);
        for (long v : cells) {
            b.putLong(v);
        }
        return version + ":" + Base64.getEncoder().encodeToString(b.array());
    }

    private Mirrored decode(String key, String value) {
        int colon = value.indexOf(':');
        byte[] bytes = colon > 0 ? Base64.getDecoder().decode(value.substring(colon + 1)) : new byte[0];
        if (bytes.length != 8 * length) {
            throw new IllegalStateException("learning entry " + entryKey(key) + ": " + bytes.length
                    + " bytes (expected: " + 8 * length + " after \"<version>:\")");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long[] cells = new long[length];
        for (int i = 0; i < length; i++) {
            cells[i] = b.getLong();
        }
        return new Mirrored(parseVersion(value.substring(0, colon)), cells);
    }

    private static long parseVersion(@Nullable String s) {
        try {
            return s == null ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean isZero(long[] c) {
        for (long v : c) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
