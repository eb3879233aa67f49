package io.brainstorm.proxy.auth;

import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * The verdicts of one {@link RegistrySnapshot}'s recent API key lookups: which {@link ApiKey} a
 * presented secret is, so that a key seen before is found without its SHA-256
 * (docs/architecture.md §6).
 *
 * <p>A table of at most {@value #MAX_SLOTS} slots, indexed by a cheap hash of the secret's
 * characters ({@link #SEEDED}: seeded per process, so no one can aim collisions at a key's slot),
 * each holding one secret's bytes and its key. It is direct-mapped: a new entry replaces whatever
 * held its slot, so it never grows and evicting costs nothing. Only secrets the snapshot knows are
 * entered, after their SHA-256 found them; a failed lookup leaves no trace, so random bad keys
 * neither fill the table nor push good keys out. A hit is confirmed by comparing the whole secret in
 * constant time ({@link MessageDigest#isEqual}), so two secrets with the same cheap hash never pass
 * for each other.
 *
 * <p><b>Revocation:</b> the cache belongs to one snapshot, and every change to the registry (this
 * process's, or a peer's seen by the file watch) publishes a new snapshot with an empty cache, so a
 * verdict never outlives the state it was made from.
 *
 * <p><b>Threading:</b> any thread, never blocking. Entries are immutable; a slot is written with
 * release and read with acquire semantics. Two threads filling one slot race harmlessly: the last one
 * wins, and each reader confirms whatever entry it read.
 *
 * <p><b>Secrets:</b> an entry keeps its secret's bytes, since confirming a hit needs them; nothing
 * reads them out (no accessor, and {@code toString()} names sizes only).
 */
final class VerdictCache {
    /** The most slots a cache has, whatever the number of keys. */
    static final int MAX_SLOTS = 4096;

    private static final int MIN_SLOTS = 16;

    /** A cheap hash of the characters {@code from} (inclusive) to {@code to} (exclusive) of a string. */
    @FunctionalInterface
    interface Hash {
        long of(String s, int from, int to);
    }

    /** The process's hash, seeded once from {@link SecureRandom}. */
    static final Hash SEEDED = seeded(new SecureRandom().nextLong());

    /** Where a presented secret's bytes go to be compared: one buffer per thread, so a hit allocates nothing. */
    private static final FastThreadLocal<byte[]> PRESENTED = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[ApiKeys.PREFIX.length() + ApiKeys.RANDOM_CHARS];
        }
    };

    private final Hash hash;
    private final AtomicReferenceArray<@Nullable Entry> slots;
    private final int mask;

    /**
     * A cache for a snapshot of {@code keys} keys: twice as many slots, a power of two from
     * {@value #MIN_SLOTS} to {@value #MAX_SLOTS}.
     */
    VerdictCache(int keys, Hash hash) {
        int want = Math.max(MIN_SLOTS, Math.min(MAX_SLOTS, 2 * Math.max(keys, 1)));
        int slots = Integer.highestOneBit(want - 1) << 1;
        this.hash = hash;
        this.slots = new AtomicReferenceArray<>(slots);
        this.mask = slots - 1;
    }

    /**
     * A 64-bit hash of the characters, four to a word, mixed with {@code seed}: not cryptographic, but
     * without the seed no one can tell which secrets share a slot.
     */
    static Hash seeded(long seed) {
        return (s, from, to) -> {
            long h = seed ^ (to - from) * 0x9E3779B97F4A7C15L;
            int i = from;
            for (; i + 4 <= to; i += 4) {
                long word = s.charAt(i)
                        | (long) s.charAt(i + 1) << 16
                        | (long) s.charAt(i + 2) << 32
                        | (long) s.charAt(i + 3) << 48;
                h = Long.rotateLeft(h ^ word * 0xC2B2AE3D27D4EB4FL, 31) * 0x9E3779B97F4A7C15L;
            }
            for (; i < to; i++) {
                h = (h ^ s.charAt(i)) * 0x9E3779B97F4A7C15L;
            }
            h ^= h >>> 33;
            h *= 0xFF51AFD7ED558CCDL;
            return h ^ h >>> 33;
        };
    }

    /** The cheap hash of the secret at {@code from} to {@code to} of {@code s}, for {@link #get} and {@link #put}. */
    long hash(String s, int from, int to) {
        return hash.of(s, from, to);
    }

    /**
     * The key whose secret is exactly the characters {@code from} to {@code to} of {@code s}, when this
     * cache holds it; null otherwise (then look it up by its SHA-256).
     *
     * @param h the {@link #hash} of those characters
     */
    @Nullable
    ApiKey get(long h, String s, int from, int to) {
        Entry e = slots.getAcquire((int) h & mask);
        int length = to - from;
        if (e == null || e.secret.length != length) {
            return null; // a length is no secret: every API key has the same one
        }
        byte[] presented = PRESENTED.get();
        if (presented.length != length) {
            presented = new byte[length];
            PRESENTED.set(presented);
        }
        int wide = 0;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(from + i);
            wide |= c >>> 7; // entries hold ASCII secrets only; anything else cannot match
            presented[i] = (byte) c;
        }
        return MessageDigest.isEqual(presented, e.secret) && wide == 0 ? e.key : null;
    }

    /**
     * Remembers that {@code secret}, whose {@link #hash} is {@code h}, is {@code key}, replacing
     * whatever held its slot. Secrets that are not ASCII are not remembered.
     */
    void put(long h, String secret, ApiKey key) {
        for (int i = 0; i < secret.length(); i++) {
            if (secret.charAt(i) > 0x7F) {
                return;
            }
        }
        slots.setRelease((int) h & mask, new Entry(secret.getBytes(StandardCharsets.US_ASCII), key));
    }

    /** The number of slots. */
    int capacity() {
        return slots.length();
    }

    /** The number of slots in use: a walk over every slot, for tests. */
    int size() {
        int n = 0;
        for (int i = 0; i < slots.length(); i++) {
            if (slots.getAcquire(i) != null) {
                n++;
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "VerdictCache[slots=" + slots.length() + "]";
    }

    /** One secret and its key; immutable. */
    private static final class Entry {
        final byte[] secret;
        final ApiKey key;

        Entry(byte[] secret, ApiKey key) {
            this.secret = secret;
            this.key = key;
        }

        @Override
        public String toString() {
            return "Entry[" + key.id() + "]";
        }
    }
}
