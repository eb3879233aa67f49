package io.brainstorm.proxy.state.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The budget ledger's atomic steps as Lua scripts run inside Redis ({@code reserve.lua},
 * {@code settle.lua}, {@code release.lua}, {@code charge.lua} beside this class): each is one server-side step, so no
 * other command, of any gateway, runs between its read and its write (docs/architecture.md §6).
 *
 * <p>Each is a {@link RedisScript}: called by its SHA-1 with {@code EVALSHA}; {@link #load} sends
 * them with {@code SCRIPT LOAD} ahead of use, and one the server lost ({@code NOSCRIPT}) is loaded
 * again and called once more.
 *
 * <p><b>Threading:</b> thread-safe; every method returns at once with a future that Lettuce
 * completes on its own I/O thread. Nothing here blocks.
 *
 * <p><b>Errors:</b> a call's future fails with Lettuce's exception: {@code RedisCommandTimeoutException}
 * after the connection's command timeout (which the caller sets with {@code TimeoutOptions}),
 * {@code RedisConnectionException} when Redis cannot be reached, {@code RedisException} for an error
 * the script raised.
 */
public final class RedisBudgetScripts {
    private final RedisAsyncCommands<String, String> redis;
    private final RedisScript reserve;
    private final RedisScript settle;
    private final RedisScript release;
    private final RedisScript charge;
    /** {@code acquire.lua} then, if it counted the request, {@code reserve.lua}: keys 1 and 2..5, args 1..4 and 5..9. */
    private final RedisScript admit = RedisScript.composed(
            "admit (acquire.lua, reserve.lua)",
            "local r = part1({KEYS[1]}, {ARGV[1], ARGV[2], ARGV[3], ARGV[4]})\n"
                    + "if r[1] == 0 then return {-1, r[2], r[3]} end\n"
                    + "return part2({KEYS[2], KEYS[3], KEYS[4], KEYS[5]}, {ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]})\n",
            "acquire.lua",
            "reserve.lua");

    public RedisBudgetScripts(RedisAsyncCommands<String, String> redis) {
        this.redis = redis;
        this.reserve = new RedisScript("reserve.lua");
        this.settle = new RedisScript("settle.lua");
        this.release = new RedisScript("release.lua");
        this.charge = new RedisScript("charge.lua");
    }

    /** Loads the scripts with {@code SCRIPT LOAD}; completes when Redis has them all. */
    public CompletionStage<Void> load() {
        return CompletableFuture.allOf(
                reserve.load(redis).toCompletableFuture(),
                settle.load(redis).toCompletableFuture(),
                release.load(redis).toCompletableFuture(),
                charge.load(redis).toCompletableFuture(),
                admit.load(redis).toCompletableFuture());
    }

    /** Runs {@code reserve.lua}: {verdict, spent, reserved, open}. */
    CompletionStage<List<Object>> reserve(String[] keys, String... args) {
        return reserve.call(redis, ScriptOutputType.MULTI, keys, args);
    }

    /** Runs {@code settle.lua}: 1 ended, 2 ended after its hold lapsed, 0 ended before. */
    CompletionStage<Long> settle(String[] keys, String... args) {
        return settle.call(redis, ScriptOutputType.INTEGER, keys, args);
    }

    /** Runs acquire.lua then reserve.lua as one script: {-1, requests, tokens} when the rate refused, else reserve's answer. */
    CompletionStage<List<Object>> admit(String[] keys, String... args) {
        return admit.call(redis, ScriptOutputType.MULTI, keys, args);
    }

    /** Runs {@code charge.lua}: 1 counted, 0 counted before. */
    CompletionStage<Long> charge(String[] keys, String... args) {
        return charge.call(redis, ScriptOutputType.INTEGER, keys, args);
    }

    /** Runs {@code release.lua}: 1 ended, 2 its hold had lapsed, 0 ended before. */
    CompletionStage<Long> release(String[] keys, String... args) {
        return release.call(redis, ScriptOutputType.INTEGER, keys, args);
    }
}
