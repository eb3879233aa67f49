package io.brainstorm.proxy.state.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The budget ledger's three atomic steps as Lua scripts run inside Redis ({@code reserve.lua},
 * {@code settle.lua}, {@code release.lua} beside this class): each is one server-side step, so no
 * other command, of any gateway, runs between its read and its write (docs/architecture.md §6).
 *
 * <p>A script is called by its SHA-1 with {@code EVALSHA}; {@link #load} sends them with
 * {@code SCRIPT LOAD} ahead of use. When the server answers {@code NOSCRIPT} (it restarted, was
 * flushed with {@code SCRIPT FLUSH}, or a failover moved to a replica that never saw them) the
 * script is loaded again and called once more; a second {@code NOSCRIPT} fails the call.
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
    /** One script: its source and the SHA-1 Redis knows it by. */
    record Script(String name, String source, String sha) {}

    private final RedisAsyncCommands<String, String> redis;
    private final Script reserve;
    private final Script settle;
    private final Script release;

    public RedisBudgetScripts(RedisAsyncCommands<String, String> redis) {
        this.redis = redis;
        this.reserve = script("reserve.lua");
        this.settle = script("settle.lua");
        this.release = script("release.lua");
    }

    /** Loads the three scripts with {@code SCRIPT LOAD}; completes when Redis has them all. */
    public CompletionStage<Void> load() {
        return CompletableFuture.allOf(
                load(reserve).toCompletableFuture(),
                load(settle).toCompletableFuture(),
                load(release).toCompletableFuture());
    }

    /** Runs {@code reserve.lua}: {verdict, spent, reserved, open}. */
    CompletionStage<List<Object>> reserve(String[] keys, String... args) {
        return call(reserve, ScriptOutputType.MULTI, keys, args);
    }

    /** Runs {@code settle.lua}: 1 ended, 2 ended after its hold lapsed, 0 ended before. */
    CompletionStage<Long> settle(String[] keys, String... args) {
        return call(settle, ScriptOutputType.INTEGER, keys, args);
    }

    /** Runs {@code release.lua}: 1 ended, 2 its hold had lapsed, 0 ended before. */
    CompletionStage<Long> release(String[] keys, String... args) {
        return call(release, ScriptOutputType.INTEGER, keys, args);
    }

    private <T> CompletionStage<T> call(Script s, ScriptOutputType type, String[] keys, String[] args) {
        CompletionStage<T> first = redis.evalsha(s.sha(), type, keys, args);
        return first.handle((value, error) -> {
                    if (error == null) {
                        return CompletableFuture.completedFuture(value);
                    }
                    Throwable cause =
                            error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    if (!(cause instanceof RedisNoScriptException)) {
                        return CompletableFuture.<T>failedFuture(cause);
                    }
                    // the server lost its scripts (restart, SCRIPT FLUSH, failover): load this one, try once more
                    return load(s).thenCompose(sha -> redis.<T>evalsha(sha, type, keys, args));
                })
                .thenCompose(f -> f);
    }

    private CompletionStage<String> load(Script s) {
        return redis.scriptLoad(s.source()).thenApply(sha -> {
            if (!sha.equals(s.sha())) {
                throw new IllegalStateException(
                        s.name() + ": Redis names it " + sha + " (expected: its SHA-1, " + s.sha() + ")");
            }
            return sha;
        });
    }

    private static Script script(String name) {
        try (InputStream in = RedisBudgetScripts.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing beside " + RedisBudgetScripts.class.getName());
            }
            String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Script(name, source, sha1(source));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
    }

    private static String sha1(String source) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }
}
