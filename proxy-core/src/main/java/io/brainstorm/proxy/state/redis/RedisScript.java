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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * One Lua script beside this class ({@code reserve.lua}, {@code acquire.lua}, ...), run inside
 * Redis as one atomic step: called by its SHA-1 with {@code EVALSHA}, sent with {@code SCRIPT LOAD}
 * by {@link #load} ahead of use. When the server answers {@code NOSCRIPT} (it restarted, was flushed
 * with {@code SCRIPT FLUSH}, or a failover moved to a replica that never saw it) the script is loaded
 * again and called once more; a second {@code NOSCRIPT} fails the call.
 *
 * <p><b>Ownership:</b> holds the script's source and SHA-1 only; the connection is the caller's.
 *
 * <p><b>Threading:</b> immutable and thread-safe; every method returns at once with a future that
 * Lettuce completes on its own I/O thread. Nothing here blocks.
 *
 * <p><b>Errors:</b> a missing resource throws {@link IllegalStateException} at construction. A
 * call's future fails with Lettuce's exception: {@code RedisCommandTimeoutException} after the
 * connection's command timeout, {@code RedisConnectionException} when Redis cannot be reached,
 * {@code RedisException} for an error the script raised.
 */
final class RedisScript {
    private final String name;
    private final String source;
    private final String sha;

    /** Reads {@code name} from the resources beside this class. */
    RedisScript(String name) {
        this(name, read(name));
    }

    private RedisScript(String name, String source) {
        this.name = name;
        this.source = source;
        this.sha = sha1(source);
    }

    /**
     * One script that runs the scripts {@code parts} (resources beside this class) in turn, in one
     * atomic step: each becomes a Lua function of its own {@code KEYS} and {@code ARGV}, which
     * {@code main} (Lua that follows them) calls as {@code part1(keys, argv)}, {@code part2(...)}.
     */
    static RedisScript composed(String name, String main, String... parts) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            s.append("local function part")
                    .append(i + 1)
                    .append("(KEYS, ARGV)\n")
                    .append(read(parts[i]))
                    .append("\nend\n");
        }
        return new RedisScript(name, s.append(main).toString());
    }

    private static String read(String name) {
        try (InputStream in = RedisScript.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing beside " + RedisScript.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
    }

    String name() {
        return name;
    }

    String sha() {
        return sha;
    }

    /** Sends it with {@code SCRIPT LOAD}; completes with its SHA-1 when Redis has it. */
    CompletionStage<String> load(RedisAsyncCommands<String, String> redis) {
        return redis.scriptLoad(source).thenApply(loaded -> {
            if (!loaded.equals(sha)) {
                throw new IllegalStateException(
                        name + ": Redis names it " + loaded + " (expected: its SHA-1, " + sha + ")");
            }
            return loaded;
        });
    }

    /** Runs it with {@code EVALSHA}, loading it again once on {@code NOSCRIPT}. */
    <T> CompletionStage<T> call(
            RedisAsyncCommands<String, String> redis, ScriptOutputType type, String[] keys, String... args) {
        CompletionStage<T> first = redis.evalsha(sha, type, keys, args);
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
                    return load(redis).thenCompose(s -> redis.<T>evalsha(s, type, keys, args));
                })
                .thenCompose(f -> f);
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
