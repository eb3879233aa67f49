package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisRegistry;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RegistryStore}'s way to the registry kept in Redis ({@link RedisRegistry}), in the
 * blocking calls the store makes off the event loops: at start, in a change (the admin API's
 * thread) and on the watcher thread. The state is the JSON of {@code registry.json}
 * ({@link RegistryFile#encode}), provider keys sealed under the master key, which only a check
 * value derived from it ({@link SecretBox#checkValue}) reaches Redis.
 *
 * <p><b>Threading:</b> thread-safe; every call waits for its answer at most the link's command
 * timeout plus a second.
 *
 * <p><b>Errors:</b> {@link Unavailable} when Redis could not be asked (down, a timeout); an
 * {@link IOException} naming the key for anything else.
 */
final class RegistryRedis {
    /** Redis could not be asked: the registry stays as it was, and a change is answered with a 503. */
    static final class Unavailable extends IOException {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final RedisRegistry remote;
    private final RegistryFile codec;
    private final SecretBox box;
    private final String where;
    private final long waitMillis;
    private final Duration startupWait;

    /**
     * @param dir the state directory (for the format's messages only: nothing is written there)
     * @param box the master key's box
     */
    RegistryRedis(RedisLink link, Path dir, SecretBox box) {
        this.remote = new RedisRegistry(link);
        this.box = box;
        this.where = "Redis at " + link.config().safeUrl();
        this.codec = new RegistryFile(dir, box, "the registry in " + where + " (key " + remote.key() + ")");
        this.waitMillis = link.config().timeout().plus(Duration.ofSeconds(1)).toMillis();
        this.startupWait = link.config().startupWait();
    }

    /** {@code redis.startup_wait}: how long a start waits for Redis to answer. */
    Duration startupWait() {
        return startupWait;
    }

    RegistryFile codec() {
        return codec;
    }

    /**
     * Stores the master key's check value at the first start; afterwards, compares it with the one
     * stored.
     *
     * @throws IOException when it differs: another master key than the other gateways' (the message
     *                     says what to do, and shows neither key nor check value)
     */
    void checkMasterKey() throws IOException {
        String mine = box.checkValue();
        String stored = await(remote.claimMasterCheck(mine), "checking the master key");
        if (!stored.equals(mine)) {
            throw new IOException("the master key (" + MasterKey.ENV + ", or else " + MasterKey.DEFAULT_FILE
                    + " in the state directory) is not the one the other gateways sharing " + where
                    + " use (key " + remote.key() + "): provider keys sealed by one could not be opened by the"
                    + " other. Set the same " + MasterKey.ENV + " on every gateway (for example the content of"
                    + " the first gateway's " + MasterKey.DEFAULT_FILE + ") and start again.");
        }
    }

    /** The version and state, read together; state null before the first change. */
    RedisRegistry.Stored read() throws IOException {
        return await(remote.read(), "reading the registry");
    }

    long version() throws IOException {
        return await(remote.version(), "reading the registry's version");
    }

    /** The state {@code json} holds, provider keys opened. */
    RegistryState decode(String json) throws IOException {
        return codec.decode(json.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code bytes} if the version is still {@code expected}: the new version, or -1 when it was not. */
    long compareAndSet(long expected, byte[] bytes) throws IOException {
        return await(
                remote.compareAndSet(expected, new String(bytes, StandardCharsets.UTF_8)), "changing the registry");
    }

    /** Calls {@code onChange} (on Lettuce's thread: it must return at once) when a gateway publishes a change. */
    StatefulRedisPubSubConnection<String, String> subscribe(Runnable onChange) {
        return remote.subscribe(onChange);
    }

    String where() {
        return where;
    }

    private <T> T await(CompletionStage<T> f, String what) throws IOException {
        try {
            return f.toCompletableFuture().get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable(what + " in " + where + " was interrupted", e);
        } catch (TimeoutException e) {
            throw new Unavailable(what + " in " + where + ": no answer within " + waitMillis + " ms", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            if (RedisLink.unavailable(c)) {
                throw new Unavailable(what + ": " + where + " cannot be reached (" + message(c) + ")", c);
            }
            throw new IOException(what + " in " + where + " failed: " + message(c), c);
        }
    }

    private static String message(@Nullable Throwable e) {
        return e == null ? "no detail" : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
