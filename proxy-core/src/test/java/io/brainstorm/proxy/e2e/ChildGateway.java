package io.brainstorm.proxy.e2e;

import io.brainstorm.proxy.testing.ChildJvm;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway in a child JVM, as an operator runs it: {@code Main serve --config … --port …
 * --admin-port … --state-dir …} with one event loop, its output in a log file. Several of them
 * stand for several hosts: each has its own ports and state directory, and shares only what the
 * config file shares (the Redis of {@code state_store: redis}).
 *
 * <p><b>Threading:</b> one test thread starts, reads and kills it.
 */
final class ChildGateway implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final Process process;
    private final int port;
    private final int adminPort;
    private final Path log;

    private ChildGateway(Process process, int port, int adminPort, Path log) {
        this.process = process;
        this.port = port;
        this.adminPort = adminPort;
        this.log = log;
    }

    /** Starts a gateway on free ports with {@code env} added to this JVM's; does not wait for it. */
    static ChildGateway start(Path config, Path stateDir, Path log, Map<String, String> env) throws IOException {
        int port = freePort();
        int adminPort = freePort();
        ProcessBuilder pb = ChildJvm.main("io.brainstorm.proxy.cli.Main")
                .args(
                        "serve",
                        "--config",
                        config.toString(),
                        "--port",
                        String.valueOf(port),
                        "--admin-port",
                        String.valueOf(adminPort),
                        "--state-dir",
                        stateDir.toString(),
                        "--threads",
                        "1")
                .processBuilder();
        pb.environment().putAll(env);
        Process p = pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new ChildGateway(p, port, adminPort, log);
    }

    /** Waits until {@code /readyz} answers 200 (its state stores open); fails with its log if it exits. */
    ChildGateway awaitReady(Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the gateway exited (" + process.exitValue() + "): " + log());
            }
            try {
                HttpResponse<String> r = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return this;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the gateway did not become ready in " + within + ": " + log());
    }

    /** {@code http://127.0.0.1:<port>/v1}. */
    String base() {
        return "http://127.0.0.1:" + port + "/v1";
    }

    /** {@code GET /metrics} on its admin listener. */
    String metrics() throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /metrics: " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    /** What it has written so far. */
    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    boolean alive() {
        return process.isAlive();
    }

    /** {@code kill -9}, and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("the gateway did not die of SIGKILL within 10 s");
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
