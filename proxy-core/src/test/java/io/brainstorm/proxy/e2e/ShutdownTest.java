package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Graceful shutdown: in-flight streams finish, new connections are refused, close is bounded. */
class ShutdownTest {
    private static final long GRACE_MS = 2_000; // GatewayHarness: shutdown_grace_seconds: 2

    private static boolean refused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void inFlightStreamsFinishWhileNewConnectionsAreRefused() throws Exception {
        GatewayHarness gateway = new GatewayHarness();
        int port = gateway.port();
        String stream = GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":20,\"interval_ms\":50}");
        try (RawHttp h1 = new RawHttp(port);
                H2Client h2 = new H2Client(port)) {
            h1.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, stream));
            assertEquals(200, h1.readHead());
            h1.readHeaders();
            CompletableFuture<H2Client.Response> h2Answer =
                    h2.post("/v1/chat/completions", gateway.apiKey, stream, Map.of());
            assertTrue(
                    GatewayHarness.eventually(
                            2_000, () -> gateway.server.gateway().inFlight() == 2),
                    "both streams started: " + gateway.server.gateway().inFlight());

            long start = System.nanoTime();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(gateway::close);
            assertTrue(
                    GatewayHarness.eventually(1_000, () -> refused(port)),
                    "new connections still accepted after close began");
            assertFalse(closing.isDone(), "close waits for the streams in flight");

            // the HTTP/1.1 stream plays out to its end, then the connection closes
            String rest = h1.readUntil("data: [DONE]\n\n");
            assertEquals(
                    20,
                    rest.lines()
                            .filter(l -> l.matches("data: .*\"content\":\"[^\"].*"))
                            .count(),
                    rest);
            assertFalse(rest.contains("\"error\""), rest);
            assertTrue(h1.readUntil("0\r\n\r\n").endsWith("0\r\n\r\n"));
            assertTrue(h1.closedByPeer(), "a draining gateway closes the HTTP/1.1 connection after the answer");

            H2Client.Response r = h2Answer.get(GRACE_MS + 3_000, TimeUnit.MILLISECONDS);
            assertEquals(200, r.status());
            assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
            assertEquals(
                    20,
                    r.body()
                            .lines()
                            .filter(l -> l.matches("data: .*\"content\":\"[^\"].*"))
                            .count(),
                    r.body());

            closing.get(GRACE_MS + 3_000, TimeUnit.MILLISECONDS);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < GRACE_MS + 3_000, "close took " + ms + " ms");
            assertTrue(refused(port));
        } finally {
            gateway.close();
        }
    }

    @Test
    void closeIsBoundedByTheGraceWhenAStreamWillNotEnd() throws Exception {
        GatewayHarness gateway = new GatewayHarness();
        try (RawHttp h1 = new RawHttp(gateway.port())) {
            h1.write(RawHttp.post(
                    "/v1/chat/completions",
                    gateway.apiKey,
                    GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":1000,\"interval_ms\":50}")));
            assertEquals(200, h1.readHead());
            h1.readHeaders();
            h1.readUntil("\"content\":\"");
            long start = System.nanoTime();
            gateway.close();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= GRACE_MS - 100 && ms < GRACE_MS + 3_000, "close took " + ms + " ms");
            // the client sees the stream end (no [DONE]: it was cut), not a hang
            String rest = new String(h1.in().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertFalse(rest.contains("data: [DONE]"), "a cut stream must not look complete");
        } finally {
            gateway.close();
        }
    }
}
