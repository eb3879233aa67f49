package io.brainstorm.proxy.cli;

import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ServerConfig;
import io.brainstorm.proxy.config.SimConfig;
import io.brainstorm.proxy.server.GatewayServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * {@code brainstorm-proxy selftest [--train SECONDS]}: starts a private gateway (loopback, free
 * port, throw-away keys, admin token and state directory with the Chronicle state files, the
 * admin listener and the audit trail on, simulated provider without delays or faults), sends it
 * one request of each kind over HTTP (chat, streams over HTTP/1.1 and h2c, embeddings, models,
 * usage, a key with a budget and rate limits, the dashboard's stats, {@code /metrics}), checks the
 * answers, and stops it. Tells a user the installation works.
 *
 * <p>{@code --train SECONDS} then keeps four connections sending the same mix for that long (a few
 * thousand requests): the launcher's training run, once per JDK and build, which records the
 * class-data-sharing archive (JDK 17 to 24) or the AOT cache with its method profiles (JDK 25 and
 * newer) that make later starts and their first seconds fast (docs/architecture.md §11). A request
 * of the training that is not answered 200 fails the run, so a broken installation records nothing.
 *
 * <p><b>Threading.</b> The checks run on the calling thread; the training on four threads of its
 * own, joined before the gateway stops.
 */
final class SelfTest {
    /** Connections of the training run: enough for both event loops and the h2c path to be hot. */
    private static final int TRAINING_CONNECTIONS = 4;

    private SelfTest() {}

    static int run(PrintStream out, PrintStream err) {
        return run(out, err, 0);
    }

    static int run(PrintStream out, PrintStream err, int trainSeconds) {
        Path state;
        try {
            state = Files.createTempDirectory("br-selftest");
        } catch (IOException e) {
            err.println("selftest: " + e.getMessage());
            return 1;
        }
        String key = ApiKeys.generate();
        String budgeted = ApiKeys.generate();
        String adminToken = ApiKeys.ADMIN_PREFIX + ApiKeys.generate().substring(ApiKeys.PREFIX.length());
        GatewayConfig config = new GatewayConfig(
                new ServerConfig("127.0.0.1", 0, 1 << 20, 16384, 100, Duration.ofSeconds(30), Duration.ofSeconds(1)),
                new io.brainstorm.proxy.config.AdminConfig(true, "127.0.0.1", 0),
                new SimConfig(true, 1, 0, true, false),
                List.of(),
                List.of(),
                Catalog.builtIn(),
                state,
                io.brainstorm.proxy.config.RoutingConfig.DEFAULTS.withPluginsDir(null),
                io.brainstorm.proxy.config.StateStoreConfig.FILES,
                io.brainstorm.proxy.config.ScoringConfig.DEFAULTS,
                io.brainstorm.proxy.config.AuditConfig.DEFAULTS);
        GatewayServer server = null;
        Registry registry = null;
        try {
            Registry.Bootstrap boot = Registry.Bootstrap.of(
                    new GatewayConfig(
                            config.server(),
                            config.admin(),
                            config.sim(),
                            config.providers(),
                            List.of(
                                    new io.brainstorm.proxy.config.KeyConfig(
                                            "selftest", ApiKeys.sha256(key), "default"),
                                    // $100 a day and generous limits: the budget and rate paths run,
                                    // nothing is refused
                                    new io.brainstorm.proxy.config.KeyConfig(
                                            "selftest-budget",
                                            ApiKeys.sha256(budgeted),
                                            "default",
                                            100_000_000_000L,
                                            1_000_000,
                                            1_000_000_000L)),
                            config.catalog(),
                            state,
                            config.routing(),
                            config.store(),
                            config.scoring(),
                            config.audit()),
                    java.util.Map.of(Registry.ENV_ADMIN_TOKEN, adminToken));
            registry = Registry.open(state, boot, java.time.InstantSource.system());
            server = GatewayServer.start(config, registry, 1);
            String base = "http://127.0.0.1:" + server.port();
            HttpClient http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            check(http, base + "/healthz", null, key, "\"ok\"");
            check(http, base + "/v1/models", null, key, "sim/alpha");
            check(
                    http,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "chat.completion");
            check(
                    http,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/alpha\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "data: [DONE]");
            check(http, base + "/v1/embeddings", "{\"model\":\"sim/embed\",\"input\":\"selftest\"}", key, "embedding");
            HttpClient h2 =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            check(
                    h2,
                    base + "/v1/chat/completions",
                    "{\"model\":\"sim/beta\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}",
                    key,
                    "\"x_br\"");
            check(http, base + "/v1/usage", null, key, "\"requests\":4");
            check(http, base + "/v1/chat/completions", STREAM_JSON_MODE, budgeted, "data: [DONE]");
            check(http, base + "/v1/usage", null, budgeted, "\"requests\":1");
            String admin = "http://127.0.0.1:" + server.adminPort();
            check(http, admin + "/admin/v1/stats/models", null, adminToken, "sim/alpha");
            check(http, admin + "/metrics", null, adminToken, "brainstorm_requests_total");
            String trained = "";
            if (trainSeconds > 0) {
                trained = "; trained for " + trainSeconds + " s: "
                        + train(http, h2, base, admin, key, budgeted, adminToken, trainSeconds) + " requests";
            }
            out.println("selftest: OK (chat, stream over HTTP/1.1 and h2c, embeddings, models, usage in the state"
                    + " files, a budgeted key, stats, metrics; " + server.transportName() + trained + ")");
            return 0;
        } catch (Exception e) {
            err.println("selftest: FAILED: " + e.getMessage());
            return 1;
        } finally {
            if (server != null) {
                server.close();
            }
            if (registry != null) {
                registry.close();
            }
            try (var files = Files.walk(state)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp directory left behind is harmless
            }
        }
    }

    /** A structured stream: the scorer runs at its end. */
    private static final String STREAM_JSON_MODE = "{\"model\":\"sim/alpha\",\"stream\":true,"
            + "\"response_format\":{\"type\":\"json_object\"},\"messages\":[{\"role\":\"user\",\"content\":\"selftest\"}]}";

    /**
     * The training: {@link #TRAINING_CONNECTIONS} threads send a mix of the requests above until
     * {@code seconds} have passed (the request path a gateway serves, with each key; now and then the
     * readers of its figures); returns how many were answered.
     */
    private static long train(
            HttpClient http,
            HttpClient h2,
            String base,
            String admin,
            String key,
            String budgeted,
            String adminToken,
            int seconds)
            throws IOException, InterruptedException {
        String chat = base + "/v1/chat/completions";
        String plain = "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
        String streamed = "{\"model\":\"sim/alpha\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}";
        String embed = "{\"model\":\"sim/embed\",\"input\":\"selftest\"}";
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong done = new AtomicLong();
        AtomicReference<@Nullable Exception> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < TRAINING_CONNECTIONS; t++) {
            int id = t;
            Thread thread = new Thread(
                    () -> {
                        try {
                            for (long n = id; System.nanoTime() < end && failure.get() == null; n++) {
                                String k = n % 2 == 0 ? key : budgeted;
                                switch ((int) (n % 16)) {
                                    case 0 -> check(http, base + "/v1/models", null, k, "sim/alpha");
                                    case 1 -> check(http, base + "/v1/embeddings", embed, k, "embedding");
                                    case 2 -> check(h2, chat, streamed, k, "data: [DONE]");
                                    case 3 -> check(http, chat, STREAM_JSON_MODE, k, "data: [DONE]");
                                    case 4 ->
                                        check(http, admin + "/admin/v1/stats/models", null, adminToken, "sim/alpha");
                                    case 5 ->
                                        check(http, admin + "/metrics", null, adminToken, "brainstorm_requests_total");
                                    default ->
                                        check(
                                                http,
                                                chat,
                                                n % 4 < 2 ? plain : streamed,
                                                k,
                                                n % 4 < 2 ? "chat.completion" : "data: [DONE]");
                                }
                                done.incrementAndGet();
                            }
                        } catch (IOException | RuntimeException e) {
                            failure.compareAndSet(null, e);
                        } catch (InterruptedException e) {
                            failure.compareAndSet(null, e);
                            Thread.currentThread().interrupt();
                        }
                    },
                    "br-selftest-train-" + t);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            // a request has a 10 s timeout, so each thread ends within that of the end
            thread.join(TimeUnit.SECONDS.toMillis(seconds + 30L));
        }
        Exception e = failure.get();
        if (e != null) {
            throw new IOException("training after " + done.get() + " requests: " + e.getMessage(), e);
        }
        return done.get();
    }

    private static void check(HttpClient http, String url, @Nullable String body, String key, String expect)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key);
        if (body != null) {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().contains(expect)) {
            throw new IOException(url + " answered " + r.statusCode() + " without '" + expect + "': "
                    + r.body().substring(0, Math.min(300, r.body().length())));
        }
    }
}
