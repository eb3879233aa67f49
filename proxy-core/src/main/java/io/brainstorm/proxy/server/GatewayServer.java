package io.brainstorm.proxy.server;

import io.brainstorm.proxy.admin.AdminServer;
import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.concurrent.Cpus;
import io.brainstorm.proxy.config.AnthropicConfig;
import io.brainstorm.proxy.config.AzureConfig;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.ProviderConfig;
import io.brainstorm.proxy.config.RoutingConfig;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.metrics.RedisMetrics;
import io.brainstorm.proxy.route.AnthropicTarget;
import io.brainstorm.proxy.route.AzureTarget;
import io.brainstorm.proxy.route.ChangeDetector;
import io.brainstorm.proxy.route.CircuitConfig;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.HealthConfig;
import io.brainstorm.proxy.route.InMemoryLearningStore;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.LearningStore;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.RoutingState;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.sim.SimServer;
import io.brainstorm.proxy.spi.StrategyConfig;
import io.brainstorm.proxy.state.StateStore;
import io.brainstorm.proxy.state.redis.RedisState;
import io.brainstorm.proxy.upstream.Origin;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The running gateway: the client listener, its event loops, the upstream client and (when
 * enabled) the simulated provider. {@link #start} wires it from a {@link GatewayConfig};
 * {@link #close()} shuts it down gracefully.
 *
 * <p><b>Shutdown.</b> Stop accepting; HTTP/2 connections get GOAWAY and finish their streams;
 * idle HTTP/1.1 connections close, busy ones close after their answer; in-flight requests get up
 * to {@code shutdown_grace} to finish; then the event loops stop.
 */
public final class GatewayServer implements AutoCloseable {
    private static final System.Logger log = System.getLogger(GatewayServer.class.getName());

    private final Gateway gateway;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    // each null until start() has made it, and when start() failed before it
    private @Nullable SimServer sim;
    private @Nullable StrategyRegistry strategies;
    private @Nullable StateStore store;
    /** With {@code state_store: redis}. */
    private @Nullable RedisState redis;

    private @Nullable RedisMetrics redisMetrics;

    private @Nullable AuditLog audit;
    private @Nullable ScheduledExecutorService dayKeeper;
    private @Nullable Channel listener;
    private @Nullable AdminServer admin;
    private boolean closed;

    private GatewayServer(Gateway gateway, Transport transport, EventLoopGroup boss, EventLoopGroup workers) {
        this.gateway = gateway;
        this.transport = transport;
        this.boss = boss;
        this.workers = workers;
    }

    /**
     * Binds the client listener first (so {@code /healthz} answers at once), then opens the state
     * store and the audit trail on threads of their own while the admin listener, the simulated
     * provider (if enabled), the strategies and the endpoints are made on this one, and builds the
     * routes and the rest of the gateway's {@link Services} once all are done, publishing them in one
     * piece; until then {@code /readyz} and API calls answer 503. Returns when the gateway is ready.
     *
     * @param workerThreads event loop threads (0 = one per CPU the process may use, {@link Cpus#available()})
     */
    public static GatewayServer start(GatewayConfig config, Registry registry, int workerThreads)
            throws InterruptedException {
        return start(config, registry, workerThreads, InstantSource.system());
    }

    /**
     * As {@link #start(GatewayConfig, Registry, int)}, with circuit breakers, latency windows and
     * {@code Retry-After} cool-downs reading {@code clock} (tests move it instead of sleeping).
     */
    public static GatewayServer start(GatewayConfig config, Registry registry, int workerThreads, InstantSource clock)
            throws InterruptedException {
        Transport transport = Transport.best();
        UpstreamClient upstream = new UpstreamClient(transport.socketChannel(), transport.datagram());
        Gateway gateway = Gateway.withMetrics(config, registry, upstream);
        EventLoopGroup boss = transport.newGroup(1, "br-accept");
        EventLoopGroup workers = transport.newGroup(Cpus.eventLoops(workerThreads, Cpus.available()), "br-io");
        GatewayServer server = new GatewayServer(gateway, transport, boss, workers);
        CompletableFuture<StateStore> opening = null;
        CompletableFuture<@Nullable RedisState> redisOpening = null;
        CompletableFuture<@Nullable AuditLog> auditOpening = null;
        try {
            // listen first: /healthz answers while the rest starts
            server.bind();
            opening = AsyncOpen.store(config);
            redisOpening = AsyncOpen.redis(config);
            auditOpening = AsyncOpen.audit(config, clock);
            if (config.admin().enabled()) {
                server.admin = AdminServer.start(
                        gateway,
                        config.admin().host(),
                        config.admin().port(),
                        server.port(),
                        boss,
                        workers,
                        transport.serverChannel());
            }
            List<ModelSpec> simModels = config.catalog().models().stream()
                    .filter(ModelSpec::simulated)
                    .toList();
            if (config.sim().enabled() && !simModels.isEmpty()) {
                server.sim = new SimServer(
                        simModels,
                        new SimServer.Options(
                                config.sim().seed(),
                                config.sim().zeroDelay(),
                                config.sim().randomFaults()));
                server.sim.start("127.0.0.1", config.sim().port());
            }
            StrategyRegistry strategies = loadStrategies(config.routing());
            server.strategies = strategies;
            List<Endpoint> endpoints = endpoints(config, server.sim, upstream);
            server.audit(AsyncOpen.await(auditOpening));
            StateStore store = AsyncOpen.await(opening);
            server.store = store;
            RedisState redis = AsyncOpen.await(redisOpening);
            server.redis = redis;
            if (redis != null) {
                gateway.redis(redis);
                AuditLog trail = server.audit;
                if (trail != null) {
                    // budget writes that waited for Redis go on the trail as state records (docs/audit.md)
                    redis.limits().events(trail.storeEvents("redis"));
                }
                server.redisMetrics =
                        RedisMetrics.register(Objects.requireNonNull(gateway.metrics(), "metrics"), redis);
            }
            server.prepareDays(store);
            Objects.requireNonNull(gateway.metrics(), "metrics")
                    .addCounter(
                            "brainstorm_answers_dropped_total",
                            "Answers not kept for feedback: more waited to be written to the state store than"
                                    + " the queue holds.",
                            redis != null ? redis.parts()::answersDropped : store::answersDropped);
            LearningStore learning = redis != null
                    ? redis.parts().learning(learningSettings(config))
                    : store.learning(learningSettings(config));
            Router router = router(config, endpoints, strategies, learning, clock);
            gateway.start(Services.start(
                    config,
                    gateway.completions(),
                    router,
                    redis != null
                            ? new Admission(redis.limits(), clock)
                            : new Admission(store.budgets(), store.rates(), clock),
                    redis != null ? redis.parts().answers() : store.answers(),
                    server.audit));
            gateway.markReady();
        } catch (RuntimeException | InterruptedException e) {
            if (opening != null && server.store == null) {
                // still opening, or open: closed when it is (a failed open has nothing to close)
                opening.thenAccept(StateStore::close);
            }
            if (redisOpening != null && server.redis == null) {
                redisOpening.thenAccept(r -> {
                    if (r != null) {
                        r.close();
                    }
                });
            }
            if (auditOpening != null && server.audit == null) {
                auditOpening.thenAccept(a -> {
                    if (a != null) {
                        a.close();
                    }
                });
            }
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Registers the opened audit trail (null: disabled) as a completion sink, before any request is
     * routed; the services made at the end of start-up hold it for the admin API.
     */
    private void audit(@Nullable AuditLog a) {
        if (a == null) {
            return;
        }
        audit = a;
        gateway.completions().add(a);
        // start() builds the gateway withMetrics
        Metrics m = Objects.requireNonNull(gateway.metrics(), "metrics");
        m.addCounter("brainstorm_audit_records_written_total", "Audit records written to the day files.", a::written);
        m.addCounter(
                "brainstorm_audit_records_lost_total",
                "Audit records lost (writer queue full, or the disk"
                        + " refused them); each loss is noted in a gap record once writing resumes.",
                a::lost);
        m.addCounter("brainstorm_audit_write_errors_total", "Audit batches the disk refused.", a::writeErrors);
        m.addGauge("brainstorm_audit_queued_records", "Audit records waiting for the writer thread.", a::queued);
    }

    /** The built-in strategies and the plugins folder's, each problem reported by name. */
    static StrategyRegistry loadStrategies(RoutingConfig routing) {
        Map<String, StrategyConfig> settings = new HashMap<>();
        routing.strategies().forEach((name, values) -> settings.put(name, StrategyConfig.of(name, values)));
        StrategyRegistry registry =
                StrategyRegistry.load(GatewayServer.class.getClassLoader(), routing.pluginsDir(), settings);
        log.log(System.Logger.Level.INFO, "routing strategies: {0}", String.join(", ", registry.names()));
        return registry;
    }

    /** {@code routing.learning} as the learning takes it. */
    public static LearningSettings learningSettings(GatewayConfig config) {
        RoutingConfig.Learning l = config.routing().learning();
        return new LearningSettings(
                l.discount(),
                l.feedbackWeight(),
                l.sharedWeight(),
                l.tenantCap(),
                new ChangeDetector(l.shift(), l.threshold(), l.minEvidence()),
                l.reexplore());
    }

    /** The router over {@code endpoints}, with fresh health and in-memory learning state. */
    public static Router router(
            GatewayConfig config, List<Endpoint> endpoints, StrategyRegistry strategies, InstantSource clock) {
        return router(config, endpoints, strategies, new InMemoryLearningStore(learningSettings(config)), clock);
    }

    /** The router over {@code endpoints}, with fresh health and the given learning state. */
    public static Router router(
            GatewayConfig config,
            List<Endpoint> endpoints,
            StrategyRegistry strategies,
            LearningStore learning,
            InstantSource clock) {
        RoutingConfig r = config.routing();
        RoutingConfig.Circuit c = r.circuit();
        HealthConfig health = new HealthConfig(
                new CircuitConfig(
                        c.window(),
                        c.minRequests(),
                        c.failureRate(),
                        c.openBase(),
                        c.openMax(),
                        c.halfOpenProbes(),
                        c.maxCoolDown()),
                r.latencyWindow(),
                HealthConfig.DEFAULTS.latencyBuckets());
        RoutingState state = new RoutingState(health, new Learning(learning, learningSettings(config)), clock);
        long seed = r.seed() != null
                ? r.seed()
                : System.nanoTime() ^ ProcessHandle.current().pid() * 0x9E3779B97F4A7C15L;
        if (r.seed() == null) {
            log.log(System.Logger.Level.INFO, "routing seed {0,number,#} (set routing.seed to replay decisions)", seed);
        }
        return new Router(config.catalog(), endpoints, strategies, state, seed);
    }

    /**
     * Every hour, off the event loops: creates tomorrow's budget and answer files ahead of midnight
     * (UTC), since a day's first request would otherwise wait tens of milliseconds for them, and
     * purges old days ({@link StateStore#purgeDays}).
     */
    private void prepareDays(StateStore s) {
        ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "br-state-days");
            t.setDaemon(true);
            return t;
        });
        dayKeeper = keeper;
        keeper.scheduleWithFixedDelay(
                () -> {
                    LocalDate today = LocalDate.now(ZoneOffset.UTC);
                    try {
                        s.prepareDay(today.plusDays(1));
                    } catch (IOException | RuntimeException e) {
                        log.log(
                                System.Logger.Level.WARNING,
                                "preparing tomorrow's day files failed; the day's first" + " request will create them",
                                e);
                    }
                    try {
                        s.purgeDays(today);
                    } catch (IOException | RuntimeException e) {
                        log.log(System.Logger.Level.WARNING, "purging old day files failed; tried again in an hour", e);
                    }
                },
                1,
                1,
                TimeUnit.HOURS);
    }

    private void bind() throws InterruptedException {
        ServerBootstrap b = HttpPipeline.bootstrap(
                        boss, workers, transport.serverChannel(), new ServerChannelInitializer(gateway, clients))
                .option(ChannelOption.SO_BACKLOG, 4096);
        var server = gateway.config().server();
        listener = b.bind(server.host(), server.port()).sync().channel();
    }

    /**
     * Endpoints from the sim's catalog entries (open to every tenant, with the sim's key) and from
     * every provider account (reachable by the tenants that hold a key for it: {@link Registry}).
     */
    static List<Endpoint> endpoints(GatewayConfig config, @Nullable SimServer sim, UpstreamClient upstream) {
        List<Endpoint> out = new ArrayList<>();
        for (ModelSpec m : config.catalog().models()) {
            if (m.simulated()) {
                if (sim == null) {
                    continue;
                }
                for (EndpointSpec e : m.endpoints()) {
                    URI base = sim.baseUrl(e.id());
                    out.add(new Endpoint(
                            e.id(),
                            m,
                            e.price(),
                            new Origin(base.getHost(), base.getPort(), null),
                            base.getPath(),
                            SimServer.API_KEY,
                            Timeouts.DEFAULT,
                            true));
                }
                continue;
            }
            for (ProviderConfig p : config.providers()) {
                AzureConfig azure = p.azure();
                String deployment = azure == null ? null : azure.deploymentOf(m, p.name());
                if (azure != null
                        ? deployment != null
                        : p.name().equals(m.provider()) || p.models().contains(m.id())) {
                    URI base = p.baseUrl();
                    boolean tls = "https".equals(base.getScheme());
                    int port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
                    String path = base.getRawPath() == null ? "" : base.getRawPath();
                    if (path.endsWith("/")) {
                        path = path.substring(0, path.length() - 1);
                    }
                    Origin origin = new Origin(base.getHost(), port, tls ? upstream.sslContext(p.caFile()) : null);
                    AzureTarget target = azure == null || deployment == null
                            ? null
                            : new AzureTarget(deployment, azure.apiVersion(), azure.v1Form(), azure.entraToken());
                    AnthropicConfig anthropic = p.anthropic();
                    AnthropicTarget messages = null;
                    if (anthropic != null) {
                        // https://api.anthropic.com and https://api.anthropic.com/v1 both mean the same account
                        if (path.endsWith("/v1")) {
                            path = path.substring(0, path.length() - 3);
                        }
                        messages = new AnthropicTarget(anthropic.version(), anthropic.allowedBetas(), (int)
                                Math.min(Integer.MAX_VALUE, Math.max(1, m.maxOutputTokens())));
                    }
                    out.add(new Endpoint(
                            p.name(), m, m.price(), origin, path, null, p.timeouts(), false, target, messages));
                }
            }
        }
        return out;
    }

    public Gateway gateway() {
        return gateway;
    }

    /** The bound port (useful when the config said 0). */
    public int port() {
        Channel l = Objects.requireNonNull(listener, "listener (bound by start)");
        return ((InetSocketAddress) l.localAddress()).getPort();
    }

    /** The admin listener's bound port, or -1 when it is disabled. */
    public int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    /** The number of event loops serving the client and admin listeners ({@code br-io}). */
    public int eventLoops() {
        int n = 0;
        for (EventExecutor ignored : workers) {
            n++;
        }
        return n;
    }

    public String transportName() {
        return transport.name();
    }

    /** The simulated provider, or null when disabled. */
    public @Nullable SimServer sim() {
        return sim;
    }

    /** Graceful shutdown, waiting up to the configured grace for in-flight requests. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        gateway.startDraining();
        if (listener != null) {
            listener.close().awaitUninterruptibly();
        }
        if (admin != null) {
            admin.close();
        }
        for (Channel ch : clients) {
            boolean h2 = ch.pipeline().get(Http2FrameCodec.class) != null;
            AtomicInteger active =
                    ch.attr(ServerChannelInitializer.ACTIVE_REQUESTS).get();
            if (h2 || active == null || active.get() == 0) {
                // HTTP/2: GOAWAY, streams in flight finish within the codec's graceful timeout
                ch.close();
            }
        }
        Duration grace = gateway.config().server().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        while (gateway.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (gateway.inFlight() > 0) {
            log.log(
                    System.Logger.Level.WARNING,
                    "shutdown: {0} requests still in flight after {1} s; closing them",
                    gateway.inFlight(),
                    grace.toSeconds());
        }
        clients.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        gateway.upstream().close();
        Services services = gateway.services();
        if (services != null) {
            services.scoring().close();
        }
        if (redis != null) {
            // before the audit trail: writes still waiting for Redis are written, or recorded as lost in it
            redis.close();
        }
        if (audit != null) {
            // after the event loops and the scorer: every request's record is queued by now
            gateway.completions().remove(audit);
            audit.close();
        }
        if (sim != null) {
            sim.close();
        }
        if (strategies != null) {
            strategies.close();
        }
        if (dayKeeper != null) {
            dayKeeper.shutdownNow();
        }
        if (store != null) {
            store.close();
        }
    }

    /** Counts the registry's Redis commands (on its own link, which Main opened) in {@code /metrics}. */
    public void countRegistryCommands(io.brainstorm.proxy.state.redis.RedisLink link) {
        if (redisMetrics != null) {
            redisMetrics.registryLink(link);
        }
    }

    /** The Redis state, with {@code state_store: redis}: for read-outs and tests. */
    public @Nullable RedisState redis() {
        return redis;
    }
}
