package io.brainstorm.proxy.server;

import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.state.redis.RedisState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.InstantSource;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Opens the state store and the audit trail on threads of their own while {@link GatewayServer}
 * starts the rest, and hands back what they opened or threw.
 *
 * <p><b>Threading:</b> each open runs on a daemon thread named after it, which ends with it;
 * {@link #await} blocks the starting thread, never an event loop.
 */
final class AsyncOpen {
    // the start-up log lines keep the server's logger name
    private static final System.Logger log = System.getLogger(GatewayServer.class.getName());

    private AsyncOpen() {}

    /**
     * {@link #openStore} on a thread of its own ({@code br-state-open}): the first Chronicle map in a
     * JVM takes a few hundred milliseconds, most of it loading and running Chronicle's code for the
     * first time, which overlaps with the rest of the start.
     */
    static CompletableFuture<StateStore> store(GatewayConfig config) {
        return openAsync("br-state-open", () -> openStore(config));
    }

    /**
     * With {@code state_store: redis}, the link to Redis and the admission counts over it, opened on
     * a thread of its own ({@code br-redis-open}): it waits for Redis up to
     * {@code redis.startup_wait_seconds}. A completed null for the other stores.
     */
    static CompletableFuture<@Nullable RedisState> redis(GatewayConfig config) {
        if (config.store().kind() != io.brainstorm.proxy.config.StateStoreConfig.Kind.REDIS) {
            return CompletableFuture.completedFuture(null);
        }
        return openAsync("br-redis-open", () -> {
            long t0 = System.nanoTime();
            try {
                RedisState r = RedisState.open(config.store().requireRedis());
                log.log(
                        System.Logger.Level.INFO,
                        "Redis state store open in {0} ms ({1})",
                        (System.nanoTime() - t0) / 1_000_000,
                        config.store().requireRedis().safeUrl());
                return r;
            } catch (IOException e) {
                throw new UncheckedIOException("opening the Redis state store failed: " + e.getMessage(), e);
            }
        });
    }

    /** {@code open} on a daemon thread of its own, {@code name}, which ends with it. */
    private static <T> CompletableFuture<T> openAsync(String name, Callable<T> open) {
        CompletableFuture<T> opening = new CompletableFuture<>();
        Thread t = new Thread(
                () -> {
                    try {
                        opening.complete(open.call());
                    } catch (Throwable e) {
                        opening.completeExceptionally(e);
                    }
                },
                name);
        t.setDaemon(true);
        t.start();
        return opening;
    }

    /** The opened store (or audit trail), or what opening it threw. */
    static <T> T await(CompletableFuture<T> opening) throws InterruptedException {
        try {
            return opening.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("opening the state store failed", e.getCause());
        }
    }

    /**
     * The audit trail, when enabled, opened on a thread of its own ({@code br-audit-open}) beside the
     * rest of the start: opening reads only the newest day file's last line, but a first start also
     * makes the key, and the first HMAC and JSON writer of a JVM load their classes (tens of ms).
     * Completes with null when the audit is disabled.
     */
    static CompletableFuture<@Nullable AuditLog> audit(GatewayConfig config, InstantSource clock) {
        if (!config.audit().enabled()) {
            return CompletableFuture.completedFuture(null);
        }
        return openAsync("br-audit-open", () -> {
            long t0 = System.nanoTime();
            try {
                AuditLog a = AuditLog.open(config.audit(), config.stateDir(), System.getenv(), clock);
                log.log(
                        System.Logger.Level.INFO,
                        "audit trail open in {0} ms ({1}, fsync {2})",
                        (System.nanoTime() - t0) / 1_000_000,
                        a.dir(),
                        config.audit().fsync().name().toLowerCase(Locale.ROOT));
                return a;
            } catch (IOException e) {
                throw new UncheckedIOException("opening the audit trail failed: " + e.getMessage(), e);
            }
        });
    }

    /**
     * The state files (budgets, rate windows, learning, answers), or the heap when the config says
     * {@code state_store: memory}.
     */
    private static StateStore openStore(GatewayConfig config) {
        if (!config.persistentState()) {
            return StateStore.inMemory();
        }
        long t0 = System.nanoTime();
        try {
            StateStore store = StateStore.open(config.stateDir());
            log.log(
                    System.Logger.Level.INFO,
                    "state store open in {0} ms ({1}); {2} reservations of stopped processes" + " released",
                    (System.nanoTime() - t0) / 1_000_000,
                    config.stateDir(),
                    store.releasedAtOpen());
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("opening the state store in " + config.stateDir() + " failed", e);
        }
    }
}
