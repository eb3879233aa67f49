package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A real {@code redis-server} of a test's own: on a free port of 127.0.0.1, with its working
 * directory in the test's temporary directory, nothing saved by RDB ({@code --save ""}), and the
 * append-only file on or off. It can be stopped ({@code SHUTDOWN NOSAVE}, then killed by pid if it
 * lingers) and started again on the same port and directory, so a test can take Redis away under
 * load and bring it back with what the append-only file kept.
 *
 * <p>When no {@code redis-server} is on the {@code PATH} nor named by {@code BR_REDIS_SERVER}
 * (Debian's package {@code redis-server};
 * {@code .ci/run} installs it) the calling test is skipped with a message, unless the environment
 * sets {@code BR_REQUIRE_REDIS=1}, as CI does: then it fails, so CI cannot pass by skipping.
 *
 * <p><b>Threading:</b> one test thread starts and stops it.
 */
public final class RedisServerFixture implements AutoCloseable {
    /** How long a start may take before the test fails: a loaded two-core machine included. */
    private static final long START_MILLIS = 10_000;

    private static final long STOP_MILLIS = 5_000;

    private final Path binary;
    private final Path dir;
    private final boolean appendOnly;
    private int port;
    private @Nullable Process process;

    private RedisServerFixture(Path binary, Path dir, boolean appendOnly) {
        this.binary = binary;
        this.dir = dir;
        this.appendOnly = appendOnly;
    }

    /**
     * Starts a server with its data in {@code dir} (created if missing), or skips the test (fails it
     * under {@code BR_REQUIRE_REDIS=1}) when there is no {@code redis-server}.
     */
    public static RedisServerFixture start(Path dir, boolean appendOnly) throws IOException, InterruptedException {
        Path binary = assumeInstalled();
        Files.createDirectories(dir);
        RedisServerFixture f = new RedisServerFixture(binary, dir, appendOnly);
        f.port = freePort();
        f.start();
        return f;
    }

    /**
     * The {@code redis-server} binary; when there is none, skips the calling test saying why, or
     * fails it under {@code BR_REQUIRE_REDIS=1}. A test class that starts its server in
     * {@code @BeforeAll} also calls this in {@code @BeforeEach}: surefire reports a skip there with
     * its message, and drops the message of a skip in {@code @BeforeAll}.
     */
    public static Path assumeInstalled() {
        Path binary = binary().orElse(null);
        if (binary == null) {
            String why = "redis-server is not on the PATH nor named by BR_REDIS_SERVER (Debian package"
                    + " redis-server; .ci/run installs it)";
            if ("1".equals(System.getenv("BR_REQUIRE_REDIS"))) {
                fail(why + ", and BR_REQUIRE_REDIS=1 says the Redis tests must run");
            }
            assumeTrue(false, "Redis test skipped: " + why);
        }
        return binary;
    }

    /** {@code BR_REDIS_SERVER} when set (a build elsewhere, or {@code valkey-server}), else the {@code PATH}'s. */
    public static Optional<Path> binary() {
        String named = System.getenv("BR_REDIS_SERVER");
        if (named != null && !named.isEmpty()) {
            Path p = Path.of(named);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = System.getenv("PATH");
        for (String d : (path == null ? "/usr/bin" : path).split(File.pathSeparator)) {
            Path p = Path.of(d.isEmpty() ? "." : d, "redis-server");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The port it listens on, the same across a stop and a start. */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>/0}. */
    public String uri() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    public boolean running() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Starts it again (after {@link #stop}) on the same port and directory; waits until it answers PING. */
    public synchronized void start() throws IOException, InterruptedException {
        if (running()) {
            throw new IllegalStateException("redis-server on port " + port + " is running (expected: stopped)");
        }
        Path log = dir.resolve("redis-server.out");
        Process p = new ProcessBuilder(List.of(
                        binary.toString(),
                        "--port",
                        Integer.toString(port),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        dir.toString(),
                        "--save",
                        "",
                        "--appendonly",
                        appendOnly ? "yes" : "no",
                        "--daemonize",
                        "no"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        process = p;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
        while (!"+PONG".equals(command("PING"))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                process = null;
                throw new IOException("redis-server on port " + port + " did not answer PING within " + START_MILLIS
                        + " ms (exit: " + (p.isAlive() ? "still running" : p.exitValue()) + "); its output:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(20);
        }
    }

    /**
     * Stops it as an operator's {@code SHUTDOWN NOSAVE} does (the append-only file keeps what was
     * acknowledged with {@code appendonly yes}), killing it by pid if it does not end within
     * {@value #STOP_MILLIS} ms.
     */
    public synchronized void stop() throws InterruptedException {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        command("SHUTDOWN", "NOSAVE");
        if (!p.waitFor(STOP_MILLIS, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(STOP_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /**
     * Sends one command in RESP on a connection of its own; returns the first line of the answer, or
     * null when the server cannot be reached (not yet up, or gone).
     */
    @Nullable
    String command(String... args) {
        StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            req.append('$')
                    .append(a.getBytes(StandardCharsets.UTF_8).length)
                    .append("\r\n")
                    .append(a)
                    .append("\r\n");
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0 && b != '\r') {
                line.append((char) b);
            }
            return line.length() == 0 ? null : line.toString();
        } catch (IOException e) {
            return null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
