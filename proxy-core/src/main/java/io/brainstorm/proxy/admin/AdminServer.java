package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.HttpPipeline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The admin listener (docs/admin-api.md): HTTP/1.1 on its own address, loopback by default, beside
 * the client listener and on its event loops. A connection's pipeline, built as the client
 * listener's is ({@link HttpPipeline}), with stricter limits:
 * <pre>
 *   http codec (strict limits) → idle → idle-close → keep-alive → aggregator (64 KiB, else 413)
 *   → flow control → dashboard → admin
 * </pre>
 * The dashboard ({@link DashboardHandler}) serves {@code /dashboard/…} on the event loop, its live
 * feed's event streams included; the rest goes on to the admin API ({@link AdminHandler}). The
 * server registers the dashboard's {@link LiveFeed} and {@link DashboardStats} with the gateway's
 * completions while it runs.
 *
 * <p><b>Threading.</b> Requests are served on one thread of its own, {@code br-admin} (daemon), since
 * registry changes do file I/O; see {@link AdminHandler}. The event loop groups belong to the caller
 * and are not shut down by {@link #close()}.
 */
public final class AdminServer implements AutoCloseable {
    private static final System.Logger log = System.getLogger(AdminServer.class.getName());

    /** Largest request body; a larger one is answered 413. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    static final int MAX_INITIAL_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_CHUNK_BYTES = 8192;

    static final String HTTP = "http";
    static final String DASHBOARD = "dashboard";
    static final String ADMIN = "admin";

    private final Channel listener;
    private final ChannelGroup connections;
    private final ExecutorService executor;
    private final Gateway gateway;
    private final LiveFeed feed;
    private final DashboardStats stats;

    private AdminServer(
            Channel listener,
            ChannelGroup connections,
            ExecutorService executor,
            Gateway gateway,
            LiveFeed feed,
            DashboardStats stats) {
        this.listener = listener;
        this.connections = connections;
        this.executor = executor;
        this.gateway = gateway;
        this.feed = feed;
        this.stats = stats;
    }

    /**
     * Binds the admin listener.
     *
     * @param port         0 for any free port (see {@link #port()})
     * @param channelClass the listener channel class of the transport the groups were made for
     * @throws InterruptedException while binding
     */
    public static AdminServer start(
            Gateway gateway,
            String host,
            int port,
            EventLoopGroup boss,
            EventLoopGroup workers,
            Class<? extends ServerChannel> channelClass)
            throws InterruptedException {
        return start(gateway, host, port, gateway.config().server().port(), boss, workers, channelClass);
    }

    /**
     * Binds the admin listener.
     *
     * @param port         0 for any free port (see {@link #port()})
     * @param apiPort      the client listener's bound port, which the dashboard names (0 if unknown)
     * @param channelClass the listener channel class of the transport the groups were made for
     * @throws InterruptedException while binding
     */
    public static AdminServer start(
            Gateway gateway,
            String host,
            int port,
            int apiPort,
            EventLoopGroup boss,
            EventLoopGroup workers,
            Class<? extends ServerChannel> channelClass)
            throws InterruptedException {
        ExecutorService executor =
                new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "br-admin");
                    t.setDaemon(true);
                    return t;
                });
        ChannelGroup connections = new DefaultChannelGroup("admin", GlobalEventExecutor.INSTANCE);
        // Netty's handling of Content-Length beside Transfer-Encoding, as the admin listener always had
        HttpPipeline http = new HttpPipeline(
                MAX_INITIAL_LINE_BYTES,
                MAX_HEADER_BYTES,
                MAX_CHUNK_BYTES,
                MAX_BODY_BYTES,
                gateway.config().server().idleTimeout(),
                false);
        DashboardSessions sessions = new DashboardSessions(gateway::registry, InstantSource.system());
        LiveFeed feed = new LiveFeed();
        DashboardStats stats = new DashboardStats();
        AdminHandler handler = new AdminHandler(gateway, executor, sessions, stats);
        DashboardHandler dashboard =
                new DashboardHandler(sessions, feed, http.idleTimeout().toMillis(), apiPort);
        try {
            Channel listener = HttpPipeline.bootstrap(
                            boss, workers, channelClass, pipeline(http, dashboard, handler, connections))
                    .bind(host, port)
                    .sync()
                    .channel();
            AdminServer server = new AdminServer(listener, connections, executor, gateway, feed, stats);
            gateway.completions().add(feed);
            gateway.completions().add(stats);
            log.log(
                    System.Logger.Level.INFO,
                    "admin API listening on {0}; dashboard at http://{1}:{2,number,#}{3}/",
                    listener.localAddress(),
                    host,
                    server.port(),
                    DashboardHandler.PREFIX);
            return server;
        } catch (InterruptedException | RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
    }

    /** The dashboard's live feed (registered with the gateway's completions while this server runs). */
    public LiveFeed liveFeed() {
        return feed;
    }

    /** The dashboard's per-model figures since start. */
    public DashboardStats stats() {
        return stats;
    }

    /** The bound port (useful when {@code start} was given 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Stops accepting, closes the admin connections and stops the admin thread, letting a change in
     * progress finish (up to 5 s).
     */
    @Override
    public void close() {
        gateway.completions().remove(feed);
        gateway.completions().remove(stats);
        listener.close().awaitUninterruptibly();
        connections.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                List<Runnable> dropped = executor.shutdownNow();
                for (Runnable r : dropped) {
                    if (r instanceof AdminHandler.Serve s) {
                        s.drop();
                    }
                }
                log.log(System.Logger.Level.WARNING, "admin API: stopped with {0} requests unanswered", dropped.size());
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Each admin connection's pipeline: the shared HTTP stages, then the dashboard and the admin API. */
    private static ChannelInitializer<Channel> pipeline(
            HttpPipeline http, DashboardHandler dashboard, AdminHandler handler, ChannelGroup connections) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                connections.add(ch);
                ChannelPipeline p = ch.pipeline();
                p.addLast(HTTP, http.codec());
                http.addIdleClose(p);
                // requests decoded from one read wait in flow control while the admin handler has auto-read off
                http.addRequestStages(p, HttpPipeline.IDLE_CLOSE);
                // before the admin thread: the dashboard's event streams stay open for hours
                p.addLast(DASHBOARD, dashboard);
                p.addLast(ADMIN, handler);
            }
        };
    }
}
