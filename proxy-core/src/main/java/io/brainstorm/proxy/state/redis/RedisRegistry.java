package io.brainstorm.proxy.state.redis;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * The registry's record in Redis (tenants, keys, provider keys; docs/architecture.md §6), shared by
 * every gateway: one hash, {@code <prefix>registry}, with the fields {@code version} (grows by one
 * with every change), {@code state} (the JSON of {@code registry.json}: key hashes only, provider
 * keys sealed under the master key) and {@code master_check} (a value derived from the master key
 * that tells whether a gateway has the same one; never the key). One key, so it sits in one Redis
 * Cluster slot.
 *
 * <p><b>Changes.</b> {@link #compareAndSet} writes a new state only if the version is still the one
 * the caller read, in one Lua script ({@code registry_cas.lua}, a {@link RedisScript}), which then
 * publishes the new version on {@code <prefix>registry:changed}. A caller that lost the race reads
 * again and retries, so concurrent changes from several gateways are all kept.
 *
 * <p><b>Following.</b> {@link #subscribe} listens on the channel. Messages sent while a gateway's
 * pub/sub connection is down are lost (Lettuce subscribes again after a reconnect, but does not
 * replay), so callers also poll {@link #version} as a fallback.
 *
 * <p><b>Ownership:</b> the link is the caller's; {@link #subscribe} returns a pub/sub connection
 * that the caller closes.
 *
 * <p><b>Threading:</b> thread-safe and non-blocking: every call returns a future that Lettuce
 * completes on its I/O thread; the listener given to {@link #subscribe} runs there too and must
 * return at once.
 *
 * <p><b>Errors:</b> futures fail with Lettuce's exceptions ({@link RedisLink#unavailable} tells
 * whether Redis could not be asked).
 */
public final class RedisRegistry {
    private final RedisLink link;
    private final RedisScript cas = new RedisScript("registry_cas.lua");
    private final String key;
    private final String channel;

    /** What {@code <prefix>registry} holds: version 0 and no state before the first change. */
    public record Stored(long version, @Nullable String state) {
        @Override
        public String toString() {
            return "Stored[version=" + version + "]";
        }
    }

    public RedisRegistry(RedisLink link) {
        this.link = Objects.requireNonNull(link, "link");
        this.key = link.prefix() + "registry";
        this.channel = link.prefix() + "registry:changed";
    }

    /** {@code <prefix>registry}. */
    public String key() {
        return key;
    }

    /** {@code <prefix>registry:changed}, where every change's new version is published. */
    public String channel() {
        return channel;
    }

    /** The version and state, read together. */
    public CompletionStage<Stored> read() {
        return link.timed(
                RedisLink.Op.REGISTRY,
                link.async().hmget(key, "version", "state").thenApply(values -> {
                    String version = value(values, 0);
                    return new Stored(version == null ? 0 : Long.parseLong(version), value(values, 1));
                }));
    }

    /** The version alone: the watcher's cheap check. */
    public CompletionStage<Long> version() {
        return link.timed(
                RedisLink.Op.REGISTRY,
                link.async().hget(key, "version").thenApply(v -> v == null ? 0L : Long.parseLong(v)));
    }

    /**
     * Writes {@code state} as version {@code expected + 1} if the version is still {@code expected},
     * and publishes it.
     *
     * @return a future of the new version, or of -1 when another gateway changed it first (nothing
     *         written: read again and retry)
     */
    public CompletionStage<Long> compareAndSet(long expected, String state) {
        if (expected < 0) {
            throw new IllegalArgumentException("expected: " + expected + " (expected: >= 0)");
        }
        return link.timed(
                RedisLink.Op.REGISTRY,
                cas.<Long>call(
                                link.async(),
                                ScriptOutputType.INTEGER,
                                new String[] {key},
                                Long.toString(expected),
                                state,
                                channel)
                        .thenApply(v -> v < 0 ? -1L : v));
    }

    /**
     * Stores {@code check} as the master key's check value unless one is stored already
     * ({@code HSETNX}), and completes with the one stored: {@code check} itself for the first
     * gateway, the first gateway's for the others.
     */
    public CompletionStage<String> claimMasterCheck(String check) {
        return link.timed(
                RedisLink.Op.REGISTRY,
                link.async()
                        .hsetnx(key, "master_check", check)
                        .thenCompose(set -> link.async().hget(key, "master_check"))
                        .thenApply(v -> v == null ? check : v));
    }

    /**
     * Subscribes to the change channel on a new pub/sub connection and calls {@code onChange} on
     * each published change; Lettuce subscribes again after a reconnect. Blocks until subscribed
     * (the link's command timeout at most): call it at start, off the event loops.
     *
     * @return the connection, which the caller closes to stop
     */
    public StatefulRedisPubSubConnection<String, String> subscribe(Runnable onChange) {
        StatefulRedisPubSubConnection<String, String> c = link.pubSub();
        c.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String ch, String message) {
                if (channel.equals(ch)) {
                    onChange.run();
                }
            }
        });
        c.sync().subscribe(channel);
        return c;
    }

    private static @Nullable String value(List<KeyValue<String, String>> values, int i) {
        KeyValue<String, String> kv = values.get(i);
        return kv.hasValue() ? kv.getValue() : null;
    }
}
