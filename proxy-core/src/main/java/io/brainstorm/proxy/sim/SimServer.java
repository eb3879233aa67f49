package io.brainstorm.proxy.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.SimProfile;
import io.brainstorm.proxy.server.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The built-in <b>simulated</b> upstream: a real OpenAI-compatible HTTP/1.1 server on loopback
 * whose models and endpoints are made up. Nothing it says comes from a language model. It lets the
 * demo run on a fresh machine with no provider keys, and it is the fake upstream of the tests and
 * benchmarks.
 *
 * <p>Each {@code sim/…} model is served through its endpoints ({@code sim-east}, {@code sim-west},
 * …), each under its own path prefix: {@link #baseUrl(String)} is
 * {@code http://127.0.0.1:PORT/<endpointId>/v1}. Below it:
 * <ul>
 *   <li>{@code POST chat/completions}: streamed or not, plain text, {@code response_format}
 *       {@code json_object} / {@code json_schema}, and tool calls;</li>
 *   <li>{@code POST embeddings}: 8 floats per input (or {@code dimensions}), float or base64;</li>
 *   <li>{@code GET models}: the models that endpoint serves.</li>
 * </ul>
 * The body's {@code model} is the upstream name (the part after {@code sim/}). Requests must carry
 * {@code Authorization: Bearer} {@value #API_KEY}; a gateway {@code br_live_} key is refused with
 * its own message, so tests can prove the gateway never forwards its clients' keys.
 *
 * <h2>Behaviour</h2>
 * Each endpoint behaves as its {@link SimProfile} says: non-streamed answers take
 * {@code latencyMs}; streams send their first chunk after {@code ttftMs} and one piece every
 * {@code tokenIntervalMs}. One piece is one completion token, so a stream's content chunks number
 * {@code usage.completion_tokens}. With {@link Options#zeroDelay()} there are no pauses. With
 * {@link Options#randomFaults()} a request fails before any byte with probability
 * {@code failureRate} (half 500 {@code api_error}, half 429 {@code rate_limit_error} with
 * {@code retry-after: 1}), and an answer is bad with probability {@code 1 - quality} (a JSON
 * answer or tool call invalid, a plain answer empty). Every random choice comes from a generator seeded by
 * (seed, endpoint id, the endpoint's request count), so the same seed and the same sequence of
 * requests to an endpoint give the same answers.
 *
 * <h2>Test hook</h2>
 * A body may carry {@code "sim": {...}}, honoured whatever the options (the gateway passes unknown
 * fields through):
 * <ul>
 *   <li>{@code "fail": 500 | 429 | 503 | …}: answer that status with an OpenAI error; 429 adds
 *       {@code retry-after: <"retry_after", default 1>};</li>
 *   <li>{@code "reset_after": N}: a stream resets the connection (RST, SO_LINGER 0) after N content
 *       chunks; a non-streamed request is reset instead of answered;</li>
 *   <li>{@code "hang": true}: accept the request and never answer;</li>
 *   <li>{@code "chunks": N}: exactly N content pieces (completion tokens);</li>
 *   <li>{@code "interval_ms": M}: pause M ms before the first chunk and between chunks, even
 *       with {@code zeroDelay};</li>
 *   <li>{@code "no_usage": true}: no usage object, nor usage chunk;</li>
 *   <li>{@code "quality": {"<endpoint id>": q, ...}}: a chat answer from a named endpoint is bad
 *       with probability {@code 1 - q} (as under random faults, which need not be on); other
 *       endpoints answer as their profiles say. A client that sends {@code {"sim-east": 0}} from
 *       some request on sees {@code sim-east} turn bad at that point, whichever endpoint the
 *       gateway picks: the end-to-end test of routing's change detection does that.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * One event loop thread (epoll when available, else NIO) serves every connection; all pauses are
 * tasks scheduled on it. The counters and {@link #lastRequest()} may be read from any thread.
 * A connection handles one request at a time (no HTTP pipelining), as HTTP/1.1 clients do.
 *
 * <h2>Errors</h2>
 * Every error is OpenAI-shaped {@code {"error":{"message","type","param","code"}}}: 400 for bad
 * JSON or fields, 401 for a missing or wrong key, 404 for an unknown path, endpoint or model
 * ({@code model_not_found}), 405 for a wrong method. Bodies over 8 MiB get Netty's bare 413.
 */
public final class SimServer implements AutoCloseable {

    /** The provider key the gateway must send as {@code Authorization: Bearer sim-key}. */
    public static final String API_KEY = "sim-key";

    static final int MAX_BODY_BYTES = 8 * 1024 * 1024;

    private static final String CODEC = "http-codec";
    private static final String KEEP_ALIVE = "keep-alive";
    private static final String AGGREGATOR = "aggregator";
    private static final String HANDLER = "sim";

    /**
     * How the server behaves overall.
     *
     * @param seed         seed of every random choice
     * @param zeroDelay    answer at once, ignoring the profiles' latencies (benchmarks)
     * @param randomFaults let endpoints fail and spoil structured answers at their profiles' rates
     */
    public record Options(long seed, boolean zeroDelay, boolean randomFaults) {}

    /**
     * A request as the sim received it.
     *
     * @param method  e.g. {@code POST}
     * @param path    the request target, e.g. {@code /sim-east/v1/chat/completions}
     * @param headers header names in lower case; repeated headers joined with {@code ", "}
     * @param body    the body as UTF-8 text
     */
    public record RecordedRequest(String method, String path, Map<String, String> headers, String body) {
        public RecordedRequest {
            headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        }
    }

    /** A model as one endpoint serves it. */
    record Served(ModelSpec model, String upstreamName, SimProfile profile) {}

    /** One simulated endpoint: its models by upstream name and its request count. */
    static final class Endpoint {
        final String id;
        final Map<String, Served> models = new LinkedHashMap<>();
        final AtomicLong requests = new AtomicLong();

        Endpoint(String id) {
            this.id = id;
        }
    }

    private final Options options;
    private final Map<String, Endpoint> endpoints;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicLong served = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();
    private volatile @Nullable RecordedRequest lastRequest;

    private @Nullable EventLoopGroup group;
    private volatile @Nullable Channel serverChannel;
    private volatile int port = -1;

    /**
     * @param simModels simulated models (provider {@code sim}) with their endpoints; other models
     *                  are ignored, so a whole catalog may be passed
     * @param options   seed and behaviour
     * @throws IllegalArgumentException when an endpoint has no profile or serves a name twice
     */
    public SimServer(List<ModelSpec> simModels, Options options) {
        Objects.requireNonNull(simModels, "simModels");
        this.options = Objects.requireNonNull(options, "options");
        Map<String, Endpoint> byId = new LinkedHashMap<>();
        for (ModelSpec model : simModels) {
            if (!model.simulated() && !"sim".equals(model.provider())) {
                continue;
            }
            String upstream = upstreamName(model);
            for (EndpointSpec spec : model.endpoints()) {
                if (spec.id() == null || spec.id().isEmpty() || spec.id().contains("/")) {
                    throw new IllegalArgumentException(
                            model.id() + " endpoint id: " + spec.id() + " (expected: a non-empty name without '/')");
                }
                if (spec.sim() == null) {
                    throw new IllegalArgumentException(
                            model.id() + " via " + spec.id() + " sim profile: null (expected: a SimProfile)");
                }
                Endpoint endpoint = byId.computeIfAbsent(spec.id(), Endpoint::new);
                if (endpoint.models.putIfAbsent(upstream, new Served(model, upstream, spec.sim())) != null) {
                    throw new IllegalArgumentException(
                            "model " + upstream + " at endpoint " + spec.id() + ": listed twice (expected: once)");
                }
            }
        }
        this.endpoints = Collections.unmodifiableMap(byId);
    }

    /**
     * Binds and starts serving.
     *
     * @param host address to bind, normally {@code 127.0.0.1}
     * @param port port to bind, 0 for any free port
     * @return the bound port
     * @throws IllegalStateException when already started or the address cannot be bound
     */
    public synchronized int start(String host, int port) throws InterruptedException {
        if (group != null) {
            throw new IllegalStateException("sim: already started on port " + this.port);
        }
        Transport transport = Transport.best();
        group = transport.newGroup(1, "brainstorm-sim");
        SimHandler handler = new SimHandler(this);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline pipeline = ch.pipeline();
                        pipeline.addLast(CODEC, new HttpServerCodec());
                        pipeline.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
                        pipeline.addLast(AGGREGATOR, new HttpObjectAggregator(MAX_BODY_BYTES));
                        pipeline.addLast(HANDLER, handler);
                    }
                });
        try {
            serverChannel = bootstrap.bind(host, port).sync().channel();
        } catch (InterruptedException e) {
            shutdownGroup();
            throw e;
        } catch (Exception e) {
            // sync() rethrows the bind failure (a checked BindException) undeclared
            shutdownGroup();
            throw new IllegalStateException("sim: cannot bind " + host + ":" + port + " (" + e + ")", e);
        }
        this.port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return this.port;
    }

    /**
     * @param endpointId e.g. {@code sim-east}
     * @return {@code http://127.0.0.1:PORT/<endpointId>/v1}
     * @throws IllegalArgumentException for an endpoint no model lists
     * @throws IllegalStateException    before {@link #start}
     */
    public URI baseUrl(String endpointId) {
        if (!endpoints.containsKey(endpointId)) {
            throw new IllegalArgumentException(
                    "endpointId: " + endpointId + " (expected: one of " + endpoints.keySet() + ")");
        }
        Channel channel = serverChannel;
        if (channel == null) {
            throw new IllegalStateException("sim: not started");
        }
        InetAddress address = ((InetSocketAddress) channel.localAddress()).getAddress();
        String host;
        if (address.isAnyLocalAddress() || address.isLoopbackAddress() && !(address instanceof Inet6Address)) {
            host = "127.0.0.1";
        } else if (address instanceof Inet6Address) {
            String text = address.getHostAddress();
            int scope = text.indexOf('%');
            host = "[" + (scope < 0 ? text : text.substring(0, scope)) + "]";
        } else {
            host = address.getHostAddress();
        }
        return URI.create("http://" + host + ":" + port + "/" + endpointId + "/v1");
    }

    /** The bound port, -1 before {@link #start}. */
    public int port() {
        return port;
    }

    /** Requests answered, failed or reset so far, all endpoints together; a hanging request is not counted. */
    public long requestsServed() {
        return served.get();
    }

    /** Client connections open now. */
    public int openConnections() {
        return open.get();
    }

    /** The last request received (whatever its outcome), or null when there was none. */
    public @Nullable RecordedRequest lastRequest() {
        return lastRequest;
    }

    /** Stops serving and closes every connection, waiting at most 5 seconds. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        shutdownGroup();
    }

    private void shutdownGroup() {
        if (group != null) {
            group.shutdownGracefully(0, 3, TimeUnit.SECONDS).awaitUninterruptibly(4, TimeUnit.SECONDS);
            group = null;
            serverChannel = null;
        }
    }

    // --- for SimHandler ---

    Options options() {
        return options;
    }

    ObjectMapper json() {
        return json;
    }

    @Nullable
    Endpoint endpoint(String id) {
        return endpoints.get(id);
    }

    List<String> endpointIds() {
        return new ArrayList<>(endpoints.keySet());
    }

    /** The random source of the endpoint's next request. */
    SplittableRandom nextRandom(Endpoint endpoint) {
        long n = endpoint.requests.getAndIncrement();
        return new SplittableRandom(
                mix(options.seed() ^ mix(endpoint.id.hashCode() * 0x9E3779B97F4A7C15L) ^ mix(n + 1)));
    }

    void record(RecordedRequest request) {
        lastRequest = request;
    }

    void served() {
        served.incrementAndGet();
    }

    void connectionOpened() {
        open.incrementAndGet();
    }

    void connectionClosed() {
        open.decrementAndGet();
    }

    private static String upstreamName(ModelSpec model) {
        if (model.upstreamName() != null && !model.upstreamName().isEmpty()) {
            return model.upstreamName();
        }
        int slash = model.id().indexOf('/');
        return slash < 0 ? model.id() : model.id().substring(slash + 1);
    }

    /** SplitMix64's finaliser: spreads nearby inputs over the whole range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
