package io.brainstorm.proxy.state.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Per-key requests and tokens per minute in Redis, shared by every gateway that uses the same
 * Redis, with the verdicts and waits of {@code state.RateWindows} (fixed windows aligned to the
 * minute; a request whose tokens alone exceed tpm is admitted only as the first tokens of an
 * otherwise empty minute). Each acquire is one Lua script ({@code acquire.lua}, a
 * {@link RedisScript}) that checks and counts both limits in one atomic step.
 *
 * <p><b>Keys.</b> One hash per (key, minute), {@code <prefix>rate:{<key id>}:<epoch minute>} with
 * the fields {@code requests} and {@code tokens}; the hash tag keeps a key's minutes in one Redis
 * Cluster slot, beside its budget keys. A hash expires {@link #margin()} after its minute ends
 * (default {@link #DEFAULT_MARGIN}), set relative to the caller's time ({@code PEXPIRE}), so a
 * gateway's clock ahead of or behind Redis's does not shorten it.
 *
 * <p><b>Time.</b> The minute is the caller's ({@code nowMillis}, from the injected clock), not
 * Redis's {@code TIME}: the wait and the Retry-After derived from it are then exactly those of the
 * Chronicle windows, tests control time, and {@code Admission} decides the rate and the budget day
 * at the same instant. Gateways whose clocks differ by a few ms count the instants around a
 * minute's end in different minutes; since each minute has a key of its own (the Chronicle entry
 * holds only the latest minute and restarts its counts when an older one comes), a gateway that is
 * behind adds to the minute it still sees rather than wiping the next one's counts.
 *
 * <p><b>Ownership:</b> nothing on the heap: the counts live in Redis alone, and the connection is
 * the caller's.
 *
 * <p><b>Threading:</b> thread-safe and non-blocking: {@link #tryAcquire} returns a future that
 * Lettuce completes on its I/O thread.
 *
 * <p><b>Errors:</b> arguments out of range throw {@link IllegalArgumentException} at once; Redis's
 * errors and timeouts fail the future ({@link RedisScript}).
 */
public final class RedisRates {
    /**
     * How long a minute's hash outlives the minute: room for gateways' clocks a few seconds apart,
     * at the cost of at most a few more small hashes per active key.
     */
    public static final Duration DEFAULT_MARGIN = Duration.ofSeconds(10);
    /** Lua compares with doubles, exact below 2^53; tokens and tpm stay below. */
    static final long MAX_TOKENS = 1L << 53;

    private static final long MINUTE = 60_000;

    private final RedisAsyncCommands<String, String> redis;
    private final RedisScript acquire = new RedisScript("acquire.lua");
    private final String prefix;
    private final Duration margin;

    /**
     * @param prefix put before every key ({@code redis.key_prefix}); no braces
     * @param margin how long a minute's hash outlives the minute ({@code >= 0})
     */
    public RedisRates(RedisAsyncCommands<String, String> redis, String prefix, Duration margin) {
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException(
                    "prefix: \"" + prefix + "\" (expected: no braces, which would change the hash tag)");
        }
        if (margin.isNegative()) {
            throw new IllegalArgumentException("margin: " + margin + " (expected: >= 0)");
        }
        this.redis = redis;
        this.prefix = prefix;
        this.margin = margin;
    }

    public Duration margin() {
        return margin;
    }

    /** Loads {@code acquire.lua} with {@code SCRIPT LOAD}; completes when Redis has it. */
    public CompletionStage<Void> load() {
        return acquire.load(redis).thenApply(sha -> null);
    }

    /**
     * Counts one request with {@code tokens} against {@code keyId} for the minute of
     * {@code nowMillis} if {@code rpm}/{@code tpm} allow ({@code <= 0} means unlimited); else
     * counts nothing. As {@code RateWindows.tryAcquire}, without a round trip when both are
     * unlimited.
     *
     * @return a future of 0 when allowed and counted, else of the millis until the next minute starts
     */
    public CompletionStage<Long> tryAcquire(String keyId, long nowMillis, int rpm, long tokens, long tpm) {
        Acquire a = prepare(keyId, nowMillis, rpm, tokens, tpm);
        if (rpm <= 0 && tpm <= 0) {
            return CompletableFuture.completedFuture(0L);
        }
        return acquire.<List<Object>>call(redis, ScriptOutputType.MULTI, new String[] {a.key()}, a.args())
                .thenApply(r -> (Long) r.get(0) == 1 ? 0L : a.waitMillis());
    }

    /**
     * One acquire's key and arguments for {@code acquire.lua}, and the millis until its minute ends
     * (what a refusal waits), for a script that runs it as a part ({@link RedisBudgets#admit}).
     */
    record Acquire(String key, String[] args, long waitMillis) {}

    Acquire prepare(String keyId, long nowMillis, int rpm, long tokens, long tpm) {
        Objects.requireNonNull(keyId, "keyId");
        if (tokens < 0 || tokens >= MAX_TOKENS || tpm >= MAX_TOKENS) {
            throw new IllegalArgumentException(
                    "tokens: " + tokens + ", tpm: " + tpm + " (expected: 0 <= tokens < 2^53, tpm < 2^53)");
        }
        long minute = Math.floorDiv(nowMillis, MINUTE);
        long wait = (minute + 1) * MINUTE - nowMillis;
        long ttl = Math.max(1, wait + margin.toMillis());
        return new Acquire(
                key(keyId, minute),
                new String[] {Integer.toString(rpm), Long.toString(tokens), Long.toString(tpm), Long.toString(ttl)},
                wait);
    }

    /** The hash of (keyId, epoch minute). */
    String key(String keyId, long minute) {
        return prefix + "rate:{" + keyId + "}:" + minute;
    }
}
