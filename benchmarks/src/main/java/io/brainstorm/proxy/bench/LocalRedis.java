package io.brainstorm.proxy.bench;

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

/**
 * A {@code redis-server} of a benchmark's own: on a free port of 127.0.0.1, its working directory a
 * fresh temporary directory (deleted at close), nothing saved ({@code --save "" --appendonly no}).
 * The binary is {@code BR_REDIS_SERVER} when set, else the {@code PATH}'s {@code redis-server}
 * (Debian's package {@code redis-server}).
 *
 * <p><b>Threading:</b> one thread (a benchmark's setup and teardown) starts and closes it.
 *
 * <p><b>Errors:</b> {@link #start} throws {@link IllegalStateException} saying so when there is no
 * binary, so a JMH run reports the benchmark as not run, with that message, and goes on with the
 * others; {@link IOException} when the server did not answer {@code PING} within 10 s.
 */
final class LocalRedis implements AutoCloseable {
    private static final long START_MILLIS = 10_000;

    private final Process process;
    private final Path dir;
    private final int port;

    private LocalRedis(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** Starts a server and waits until it answers {@code PING}. */
    static LocalRedis start() throws IOException, InterruptedException {
        Path binary = binary().orElseThrow(
                        () -> new IllegalStateException("SKIPPED: no redis-server on the PATH nor named by"
                                + " BR_REDIS_SERVER (Debian package redis-server): the Redis benchmarks do not run"));
        Path dir = Files.createTempDirectory("br-bench-redis");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
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
                        "no",
                        "--daemonize",
                        "no"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        LocalRedis r = new LocalRedis(p, dir, port);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
        while (!"+PONG".equals(r.command("PING"))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String out = Files.readString(log, StandardCharsets.UTF_8);
                r.close();
                throw new IOException("redis-server on port " + port + " did not answer PING within " + START_MILLIS
                        + " ms; its output:\n" + out);
            }
            Thread.sleep(20);
        }
        return r;
    }

    /** {@code redis://127.0.0.1:<port>/0}. */
    String uri() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    /** Stops it ({@code SHUTDOWN NOSAVE}, then by its pid if it lingers) and deletes its directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (process.isAlive()) {
            command("SHUTDOWN", "NOSAVE");
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        BenchStore.deleteTree(dir);
    }

    private static Optional<Path> binary() {
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

    /** One command in RESP on a connection of its own; the answer's first line, or "" when unreachable. */
    private String command(String... args) {
        StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            req.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int b; (b = in.read()) >= 0 && b != '\r'; ) {
                line.append((char) b);
            }
            return line.toString();
        } catch (IOException e) {
            return "";
        }
    }
}
