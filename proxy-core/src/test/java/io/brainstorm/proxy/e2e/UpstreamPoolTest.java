package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The upstream connection pool against an upstream that closes idle keep-alive connections as real
 * servers do ({@link KeepAliveUpstream}): requests after a pause, a pool closed all at once, a
 * connection the server closes under a request, and a client that leaves before the first byte.
 */
class UpstreamPoolTest {
    private static final String MODEL = "openai/gpt-4o-mini";
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    /** What the gateway logged at ERROR (SEVERE) during the test. */
    private final List<LogRecord> severe = new CopyOnWriteArrayList<>();

    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                severe.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private KeepAliveUpstream upstream;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        Logger.getLogger("").addHandler(capture);
        upstream = new KeepAliveUpstream();
    }

    @AfterEach
    void stop() {
        Logger.getLogger("").removeHandler(capture);
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    private void gateway() throws Exception {
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    type: openai
                    base_url: %s
                    api_key: provider-key
                    timeouts: {first_byte_ms: 60000}
                """.formatted(upstream.baseUrl()));
    }

    private HttpRequest chat(boolean stream) {
        String body = GatewayHarness.chatBody(stream ? "\"stream\":true" : "").replace("sim/alpha", MODEL);
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + gateway.apiKey)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private static void answered(HttpResponse<String> r, boolean stream) {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("0", r.headers().firstValue("x-br-fallbacks").orElse(null), "a stale connection is no failover");
        if (stream) {
            assertTrue(r.body().contains("keep-alive") && r.body().contains("data: [DONE]"), r.body());
            assertFalse(r.body().contains("\"error\""), r.body());
        } else {
            assertTrue(r.body().contains("hello from keep-alive"), r.body());
        }
    }

    private String severeLog() {
        StringBuilder sb = new StringBuilder();
        for (LogRecord r : severe) {
            sb.append(r.getLoggerName())
                    .append(": ")
                    .append(r.getMessage())
                    .append(' ')
                    .append(r.getThrown())
                    .append('\n');
        }
        return sb.toString();
    }

    @Test
    void requestsAfterTheUpstreamClosedItsIdleConnectionsAllSucceed() throws Exception {
        gateway();
        upstream.idleCloseMillis = 100;
        for (int i = 0; i < 100; i++) {
            boolean stream = i % 2 == 1;
            answered(client.send(chat(stream), HttpResponse.BodyHandlers.ofString()), stream);
            Thread.sleep(200);
        }
        assertEquals(100, upstream.answered.get());
        assertTrue(upstream.accepted.get() > 1, "the upstream closed idle connections: " + upstream.accepted);
        assertTrue(severe.isEmpty(), severeLog());
    }

    @Test
    void aPoolOfParkedConnectionsAllClosedAtOnceIsNoFailure() throws Exception {
        gateway();
        upstream.idleCloseMillis = -1;
        for (int round = 0; round < 2; round++) {
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(client.sendAsync(chat(i % 2 == 1), HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < 20; i++) {
                answered(answers.get(i).get(), i % 2 == 1);
            }
            if (round == 0) {
                assertTrue(upstream.open.get() > 1, "several connections were parked: " + upstream.open);
                upstream.closeAll();
            }
        }
        assertTrue(severe.isEmpty(), severeLog());
    }

    @Test
    void aKeptAliveConnectionTheServerClosesUnderARequestIsRetriedOnANewOne() throws Exception {
        gateway();
        upstream.idleCloseMillis = -1;
        upstream.onReuse = KeepAliveUpstream.OnReuse.CLOSE;
        for (int i = 0; i < 6; i++) {
            answered(client.send(chat(i % 2 == 1), HttpResponse.BodyHandlers.ofString()), i % 2 == 1);
        }
        upstream.onReuse = KeepAliveUpstream.OnReuse.REQUEST_TIMEOUT;
        for (int i = 0; i < 6; i++) {
            answered(client.send(chat(i % 2 == 1), HttpResponse.BodyHandlers.ofString()), i % 2 == 1);
        }
        assertTrue(severe.isEmpty(), severeLog());
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void aClientThatLeavesBeforeTheFirstByteCancelsTheUpstreamRequestAtOnce(String transport) throws Exception {
        assumeTrue(transport.equals("nio") || Epoll.isAvailable(), "epoll is not available here");
        String before = System.getProperty("brainstorm.nio");
        System.setProperty("brainstorm.nio", String.valueOf(transport.equals("nio")));
        try {
            gateway();
        } finally {
            if (before == null) {
                System.clearProperty("brainstorm.nio");
            } else {
                System.setProperty("brainstorm.nio", before);
            }
        }
        assertEquals(transport, gateway.server.transportName());
        upstream.hang = true;
        for (boolean stream : new boolean[] {false, true}) {
            int requestsBefore = upstream.requests.get();
            long closedAt;
            try (RawHttp http = new RawHttp(gateway.port())) {
                String body =
                        GatewayHarness.chatBody(stream ? "\"stream\":true" : "").replace("sim/alpha", MODEL);
                http.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, body));
                assertTrue(
                        GatewayHarness.eventually(
                                10_000,
                                () -> upstream.requests.get() == requestsBefore + 1 && upstream.open.get() == 1),
                        "the upstream got the request");
                closedAt = System.nanoTime();
            }
            assertTrue(
                    GatewayHarness.eventually(10_000, () -> upstream.open.get() == 0),
                    "the gateway closed the upstream connection");
            long millis = (upstream.lastCloseNanos - closedAt) / 1_000_000;
            assertTrue(millis < 1000, "the upstream connection closed " + millis + " ms after the client left");
        }
    }
}
