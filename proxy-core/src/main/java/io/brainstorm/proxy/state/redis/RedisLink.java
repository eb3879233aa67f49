package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.connection.ConnectedEvent;
import io.lettuce.core.event.connection.DisconnectedEvent;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;

/**
 * One gateway's link to the Redis its deployment shares (docs/scale-out.md): a Lettuce client on a
 * small I/O group of its own (two threads, Lettuce's least), one multiplexed connection for commands (Lettuce
 * pipelines what many threads send on it) and pub/sub connections on demand.
 *
 * <p><b>Behaviour when Redis is away.</b> Commands are never queued while the connection is down
 * ({@code DisconnectedBehavior.REJECT_COMMANDS}): they fail at once, so a budget check answers 503
 * {@code state_unavailable} instead of waiting. Every command has the {@code redis.timeout}
 * ({@link TimeoutOptions}); Lettuce reconnects by itself, trying at least every half second, for as long
 * as the gateway runs.
 *
 * <p><b>Read-outs.</b> {@link #timed} records each command's latency per {@link Op} and counts its
 * failures; {@link #connected()} says whether the command connection is up now; the counts of
 * connects and disconnects come from Lettuce's event bus. {@code /metrics} and the dashboard read
 * them.
 *
 * <p><b>Threading:</b> thread-safe. Futures complete on Lettuce's I/O thread: callers keep what
 * runs there short and move request work back to their own event loop.
 */
public final class RedisLink implements AutoCloseable {
    private static final System.Logger log = System.getLogger(RedisLink.class.getName());
    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * Lettuce's reconnect loop logs a WARNING per failed attempt (two a second here); the gateway
     * logs the loss and the return of the connection once each instead. Held so the level stays.
     */
    private static final java.util.logging.Logger WATCHDOG =
            java.util.logging.Logger.getLogger("io.lettuce.core.protocol.ConnectionWatchdog");

    static {
        WATCHDOG.setLevel(java.util.logging.Level.SEVERE);
    }

    /** The longest wait between two reconnect attempts. */
    static final Duration RECONNECT_MAX = Duration.ofMillis(500);

    /** What a command was for: a label of the latency histograms. */
    public enum Op {
        BUDGET,
        RATE,
        REGISTRY,
        LEARNING,
        ANSWERS,
        USAGE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final RedisConfig config;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final Recorder[] latency = new Recorder[Op.values().length];
    private final AtomicLong[] errors = new AtomicLong[Op.values().length];
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong disconnects = new AtomicLong();
    private final Disposable events;
    private volatile boolean closing;

    private RedisLink(
            RedisConfig config,
            ClientResources resources,
            RedisClient client,
            StatefulRedisConnection<String, String> connection,
            Disposable events) {
        this.config = config;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
        this.events = events;
        for (Op op : Op.values()) {
            latency[op.ordinal()] = new Recorder(HIGHEST_NANOS, 2);
            errors[op.ordinal()] = new AtomicLong();
        }
    }

    /**
     * Connects, trying again every half second for up to {@link RedisConfig#startupWait()}.
     *
     * @throws IOException saying where it tried and why it failed, when Redis did not answer in time
     */
    public static RedisLink connect(RedisConfig config) throws IOException {
        RedisURI uri;
        try {
            uri = RedisURI.create(config.url());
        } catch (IllegalArgumentException e) {
            throw new IOException("redis.url " + config.safeUrl() + " is not a Redis URL: " + e.getMessage(), e);
        }
        String password = config.password();
        if (password != null && !password.isEmpty()) {
            uri.setCredentialsProvider(io.lettuce.core.RedisCredentialsProvider.from(
                    () -> io.lettuce.core.RedisCredentials.just(config.username(), password)));
        }
        // the handshake (HELLO, AUTH, PING) in a cold JVM takes longer than a command may; commands get
        // redis.timeout from TimeoutOptions below
        uri.setTimeout(config.connectTimeout());
        ClientResources resources = DefaultClientResources.builder()
                // Lettuce takes at least two of each
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                // back within a second of Redis coming back: Lettuce's default waits up to 30 s
                .reconnectDelay(() -> Delay.exponential(Duration.ofMillis(50), RECONNECT_MAX, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(config.connectTimeout())
                        .keepAlive(true)
                        .build())
                .build());
        AtomicLong[] counts = {new AtomicLong(), new AtomicLong()};
        Disposable events = resources.eventBus().get().subscribe(e -> {
            if (e instanceof ConnectedEvent) {
                counts[0].incrementAndGet();
            } else if (e instanceof DisconnectedEvent) {
                counts[1].incrementAndGet();
            }
        });
        long deadline = System.nanoTime() + config.startupWait().toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                StatefulRedisConnection<String, String> c = client.connect(StringCodec.UTF8);
                RedisLink link = new RedisLink(config, resources, client, c, events);
                link.connects.set(counts[0].get());
                resources.eventBus().get().subscribe(e -> {
                    if (e instanceof ConnectedEvent) {
                        link.connects.incrementAndGet();
                        if (link.disconnects.get() > 0) {
                            log.log(System.Logger.Level.INFO, "reconnected to Redis at {0}", config.safeUrl());
                        }
                    } else if (e instanceof DisconnectedEvent && !link.closing) {
                        link.disconnects.incrementAndGet();
                        log.log(
                                System.Logger.Level.WARNING,
                                "lost the connection to Redis at {0}; reconnecting (every {1} ms at most)",
                                config.safeUrl(),
                                RECONNECT_MAX.toMillis());
                    }
                });
                log.log(System.Logger.Level.INFO, "connected to Redis at {0}", config.safeUrl());
                return link;
            } catch (RedisConnectionException e) {
                last = e;
            } catch (RuntimeException e) {
                // a refused password, a bad TLS handshake: waiting does not help
                shutdown(client, resources, events);
                throw new IOException("connecting to Redis at " + config.safeUrl() + " failed: " + rootMessage(e), e);
            }
            if (System.nanoTime() > deadline) {
                shutdown(client, resources, events);
                throw new IOException(
                        "Redis at " + config.safeUrl() + " did not answer within "
                                + config.startupWait().toSeconds() + " s (redis.startup_wait_seconds): "
                                + rootMessage(last),
                        last);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                shutdown(client, resources, events);
                throw new IOException("interrupted while waiting for Redis at " + config.safeUrl(), ie);
            }
        }
    }

    public RedisConfig config() {
        return config;
    }

    /** {@code redis.key_prefix}: put before every key. */
    public String prefix() {
        return config.keyPrefix();
    }

    /** The shared command connection's asynchronous API. */
    public RedisAsyncCommands<String, String> async() {
        return connection.async();
    }

    /** A new pub/sub connection; the caller closes it. */
    public StatefulRedisPubSubConnection<String, String> pubSub() {
        return client.connectPubSub(StringCodec.UTF8);
    }

    /** Whether the command connection is up now. */
    public boolean connected() {
        return connection.isOpen();
    }

    /** Connections made (the first one included) and lost since start. */
    public long connects() {
        return connects.get();
    }

    public long disconnects() {
        return disconnects.get();
    }

    /** Records {@code f}'s latency under {@code op} when it completes, and counts it when it fails. */
    public <T> CompletionStage<T> timed(Op op, CompletionStage<T> f) {
        long t0 = System.nanoTime();
        return f.whenComplete((v, e) -> {
            long nanos = System.nanoTime() - t0;
            latency[op.ordinal()].recordValue(Math.min(Math.max(nanos, 1), HIGHEST_NANOS));
            if (e != null) {
                errors[op.ordinal()].incrementAndGet();
            }
        });
    }

    /** The latency recorded under {@code op} since the last call (an interval histogram), for the scrape. */
    public org.HdrHistogram.Histogram takeLatency(Op op, org.HdrHistogram.@Nullable Histogram recycle) {
        return latency[op.ordinal()].getIntervalHistogram(recycle);
    }

    /** Commands under {@code op} that failed (an error, a timeout, Redis unreachable) since start. */
    public long errors(Op op) {
        return errors[op.ordinal()].get();
    }

    /**
     * Whether {@code e} (or a cause of it) means Redis could not be asked or could not answer, as
     * opposed to a script's own error: a write that failed so is kept and tried again. Lettuce fails
     * the commands on a connection that drops with a plain {@code RedisException} ("Connection
     * disconnected", "Connection closed") or one that wraps the socket's {@code IOException}.
     */
    public static boolean unavailable(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof io.lettuce.core.RedisConnectionException
                    || c instanceof io.lettuce.core.RedisCommandTimeoutException
                    || c instanceof io.lettuce.core.RedisCommandInterruptedException
                    || c instanceof java.util.concurrent.TimeoutException
                    || c instanceof java.io.IOException) {
                return true;
            }
            String m = c.getMessage();
            if (c instanceof io.lettuce.core.RedisException
                    && m != null
                    && (m.contains("not connected")
                            || m.contains("Connection closed")
                            || m.contains("Connection disconnected")
                            || m.startsWith("LOADING"))) {
                return true;
            }
        }
        return false;
    }

    /** A completed future failing with {@code e}. */
    static <T> CompletableFuture<T> failed(Throwable e) {
        return CompletableFuture.failedFuture(e);
    }

    @Override
    public void close() {
        closing = true;
        try {
            connection.close();
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.DEBUG, "closing the Redis connection", e);
        }
        shutdown(client, resources, events);
    }

    private static void shutdown(RedisClient client, ClientResources resources, Disposable events) {
        events.dispose();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private static String rootMessage(@Nullable Throwable e) {
        if (e == null) {
            return "no answer";
        }
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + c.getMessage() + ")";
    }
}
