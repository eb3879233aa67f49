package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.RequestAggregator;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
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
 * the client listener and on its event loops. A connection's pipeline:
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

    static final String HTTP = "http";
    static final String IDLE = "idle";
    static final String IDLE_CLOSE = "idle-close";
    static final String KEEP_ALIVE = "keep-alive";
    static final String AGGREGATOR = "aggregator";
    static final String FLOW_CONTROL = "flow-control";
    static final String DASHBOARD = "dashboard";
    static final String ADMIN = "admin";

    private final Channel listener;
    private final ChannelGroup connections;
    private final ExecutorService executor;
    private final Gateway gateway;
    private final LiveFeed feed;
    private final DashboardStats stats;

    private AdminServer(Channel listener, ChannelGroup connections, ExecutorService executor, Gateway gateway,
                        LiveFeed feed, DashboardStats stats) {
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
    public static AdminServer start(Gateway gateway, String host, int port, EventLoopGroup boss,
                                    EventLoopGroup workers, Class<? extends ServerChannel> channelClass)
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
    public static AdminServer start(Gateway gateway, String host, int port, int apiPort, EventLoopGroup boss,
                                    EventLoopGroup workers, Class<? extends ServerChannel> channelClass)
            throws InterruptedException {
        ExecutorService executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "br-admin");
                    t.setDaemon(true);
                    return t;
                });
        ChannelGroup connections = new DefaultChannelGroup("admin", GlobalEventExecutor.INSTANCE);
        long idleMillis = gateway.config().server().idleTimeout().toMillis();
        DashboardSessions sessions = new DashboardSessions(gateway::registry, InstantSource.system());
        LiveFeed feed = new LiveFeed();
        DashboardStats stats = new DashboardStats();
        AdminHandler handler = new AdminHandler(gateway, executor, sessions, stats);
        DashboardHandler dashboard = new DashboardHandler(sessions, feed, idleMillis, apiPort);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new Initializer(dashboard, handler, connections, idleMillis));
        try {
            Channel listener = b.bind(host, port).sync().channel();
            AdminServer server = new AdminServer(listener, connections, executor, gateway, feed, stats);
            gateway.completions().add(feed);
            gateway.completions().add(stats);
            log.log(System.Logger.Level.INFO, "admin API listening on {0}; dashboard at http://{1}:{2,number,#}{3}/",
                    listener.localAddress(), host, server.port(), DashboardHandler.PREFIX);
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

    /** An admin connection's pipeline, one stage per method. */
    private static final class Initializer extends ChannelInitializer<Channel> {
        private final DashboardHandler dashboard;
        private final AdminHandler handler;
        private final ChannelGroup connections;
        private final long idleMillis;

        Initializer(DashboardHandler dashboard, AdminHandler handler, ChannelGroup connections, long idleMillis) {
            this.dashboard = dashboard;
            this.handler = handler;
            this.connections = connections;
            this.idleMillis = idleMillis;
        }

        @Override
        protected void initChannel(Channel ch) {
            connections.add(ch);
            ChannelPipeline p = ch.pipeline();
            addCodec(p);
            addIdleTimeout(p);
            addRequestHandlers(p);
        }

        private static void addCodec(ChannelPipeline p) {
            p.addLast(HTTP, new HttpServerCodec(new HttpDecoderConfig()
                    .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                    .setMaxHeaderSize(MAX_HEADER_BYTES)
                    .setMaxChunkSize(8192)
                    .setValidateHeaders(true)));
        }

        private void addIdleTimeout(ChannelPipeline p) {
            p.addLast(IDLE, new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
            p.addLast(IDLE_CLOSE, IdleClose.INSTANCE);
        }

        private void addRequestHandlers(ChannelPipeline p) {
            p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
            p.addLast(AGGREGATOR, new RequestAggregator(MAX_BODY_BYTES));
            // requests decoded from one read wait here while the admin handler has auto-read off
            p.addLast(FLOW_CONTROL, new FlowControlHandler());
            // before the admin thread: the dashboard's event streams stay open for hours
            p.addLast(DASHBOARD, dashboard);
            p.addLast(ADMIN, handler);
        }
    }

    /** Closes a connection with no traffic for the idle timeout (admin answers take milliseconds). */
    @ChannelHandler.Sharable
    private static final class IdleClose extends ChannelInboundHandlerAdapter {
        static final IdleClose INSTANCE = new IdleClose();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
