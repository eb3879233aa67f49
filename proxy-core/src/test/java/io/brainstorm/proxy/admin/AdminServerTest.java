package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.Transport;
import io.brainstorm.proxy.testing.TestRouters;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real {@link AdminServer} on a loopback port: the pipeline in front of {@link AdminHandler}. */
class AdminServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "server-test-admin-token-0123456789";

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Registry registry;
    private AdminServer server;

    @BeforeEach
    void setUp() throws Exception {
        Transport transport = Transport.best();
        boss = transport.newGroup(1, "test-admin-accept");
        workers = transport.newGroup(2, "test-admin-io");
        registry = Registry.inMemory(
                new Registry.Bootstrap(List.of(), List.of(), Set.of("openai"), null, TOKEN, null, null),
                InstantSource.system());
        Gateway gateway = TestRouters.start(
                new Gateway(
                        ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                        registry,
                        null),
                TestRouters.empty());
        server = AdminServer.start(gateway, "127.0.0.1", 0, boss, workers, transport.serverChannel());
    }

    @AfterEach
    void tearDown() {
        server.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        registry.close();
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesOverHttp11WithNoStore() throws Exception {
        HttpResponse<String> r = send("GET", "/admin/v1/whoami", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(null));
        assertEquals("no-store", r.headers().firstValue("cache-control").orElse(null));
        assertEquals("super_admin", JSON.readTree(r.body()).get("role").asText());

        r = send("POST", "/admin/v1/tenants", "{\"id\":\"acme\"}");
        assertEquals(201, r.statusCode(), r.body());
        r = send("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"svc\",\"daily_budget_usd\":1.25}");
        assertEquals(201, r.statusCode(), r.body());
        JsonNode key = JSON.readTree(r.body());
        assertEquals("1.25", key.get("daily_budget_usd").decimalValue().toPlainString());
    }

    @Test
    void bodyOver64KiBIs413() throws Exception {
        HttpResponse<String> r = send("POST", "/admin/v1/tenants", "{\"id\":\"" + "a".repeat(70_000) + "\"}");
        assertEquals(413, r.statusCode(), r.body());
        assertEquals(
                "request_too_large",
                JSON.readTree(r.body()).get("error").get("code").asText());
        // the listener still serves
        assertEquals(200, send("GET", "/admin/v1/whoami", null).statusCode());
    }

    @Test
    void wrongMethodIs405WithAllow() throws Exception {
        HttpResponse<String> r = send("DELETE", "/admin/v1/routing", null);
        assertEquals(405, r.statusCode(), r.body());
        assertEquals("GET", r.headers().firstValue("allow").orElse(null));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
            String auth = "Authorization: Bearer " + TOKEN + "\r\n";
            String create = "{\"id\":\"pipe\"}";
            String raw = "POST /admin/v1/tenants HTTP/1.1\r\nHost: a\r\n" + auth + "Content-Length: " + create.length()
                    + "\r\n\r\n" + create
                    + "GET /admin/v1/tenants/pipe HTTP/1.1\r\nHost: a\r\n" + auth + "\r\n"
                    + "GET /admin/v1/nope HTTP/1.1\r\nHost: a\r\n" + auth + "Connection: close\r\n\r\n";
            s.getOutputStream().write(raw.getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int first = all.indexOf("HTTP/1.1 201");
            int second = all.indexOf("HTTP/1.1 200");
            int third = all.indexOf("HTTP/1.1 404");
            assertTrue(first == 0 && second > first && third > second, all);
        }
    }

    @Test
    void oversizedHeadersAre431AndTheConnectionCloses() throws Exception {
        try (Socket s = new Socket()) {
            s.setSoTimeout(10_000);
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
            String raw = "GET /admin/v1/whoami HTTP/1.1\r\nHost: a\r\nX-Big: "
                    + "b".repeat(AdminServer.MAX_HEADER_BYTES) + "\r\n\r\n";
            s.getOutputStream().write(raw.getBytes(StandardCharsets.US_ASCII));
            String all = new String(readAll(s.getInputStream()), StandardCharsets.UTF_8);
            assertTrue(all.startsWith("HTTP/1.1 431"), all);
        }
    }

    @Test
    void closeStopsTheListener() throws Exception {
        int port = server.port();
        assertEquals(200, send("GET", "/admin/v1/whoami", null).statusCode());
        server.close();
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (adminThreadAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(adminThreadAlive(), "the admin thread stopped");
    }

    private static boolean adminThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("br-admin") && t.isAlive());
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (java.net.SocketException e) {
            // a reset after the answer: what was read is what counts
        }
        return out.toByteArray();
    }
}
