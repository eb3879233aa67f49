package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Server-sent event streams as clients see them: cost reporting, trailers, breaks, aborts, load and backpressure. */
class StreamingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static FakeUpstream fake;
    private static GatewayHarness gateway;
    private static HttpClient h1;

    @BeforeAll
    static void start() throws Exception {
        fake = new FakeUpstream();
        gateway = new GatewayHarness("""
                providers:
                  - name: fake
                    type: openai
                    base_url: %s
                    api_key: fake-key
                    models: [openai/gpt-4o-mini]
                """.formatted(fake.baseUrl()));
        h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        fake.close();
    }

    private static HttpRequest chat(String extra) {
        return HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + gateway.apiKey)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(GatewayHarness.chatBody(extra)))
                .build();
    }

    /** The non-empty lines of a streamed answer. */
    private static List<String> streamLines(String extra) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = h1.send(chat(extra), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        return r.body().filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void withoutUsageRequestedCostArrivesAsAnSseComment() throws Exception {
        List<String> lines = streamLines("\"stream\":true,\"sim\":{\"chunks\":5}");
        assertEquals("data: [DONE]", lines.get(lines.size() - 1), lines.toString());
        String comment = lines.get(lines.size() - 2);
        assertTrue(comment.startsWith(": x-br "), lines.toString());
        JsonNode xbr = JSON.readTree(comment.substring(": x-br ".length()));
        assertTrue(
                xbr.path("actual_cost").isNumber()
                        && xbr.path("actual_cost").decimalValue().signum() > 0,
                comment);
        assertEquals("sim/alpha", xbr.path("selected_model").asText());
        assertEquals("sim-east", xbr.path("endpoint").asText());
        for (String line : lines) {
            if (line.startsWith("data: {")) {
                JsonNode chunk = JSON.readTree(line.substring(6));
                assertTrue(
                        chunk.path("choices").isArray()
                                && !chunk.path("choices").isEmpty(),
                        "a chunk with empty choices reached a client that did not ask for usage: " + line);
            }
        }
        // the upstream was asked for usage even though the client was not
        assertTrue(
                gateway.sim().lastRequest().body().contains("\"include_usage\":true"),
                gateway.sim().lastRequest().body());
    }

    @Test
    void withUsageRequestedTheLastChunkCarriesCostAndXbr() throws Exception {
        List<String> lines =
                streamLines("\"stream\":true,\"stream_options\":{\"include_usage\":true},\"sim\":{\"chunks\":5}");
        assertEquals("data: [DONE]", lines.get(lines.size() - 1));
        String last = lines.get(lines.size() - 2);
        assertTrue(last.startsWith("data: {"), lines.toString());
        JsonNode chunk = JSON.readTree(last.substring(6));
        assertTrue(chunk.path("choices").isEmpty(), last);
        assertEquals(5, chunk.path("usage").path("completion_tokens").asInt(), last);
        assertTrue(chunk.path("usage").path("cost").isNumber(), last);
        assertEquals(
                0,
                chunk.path("usage")
                        .path("cost")
                        .decimalValue()
                        .compareTo(chunk.path("x_br").path("actual_cost").decimalValue()),
                last);
        assertEquals("sim-east", chunk.path("x_br").path("endpoint").asText(), last);
        assertFalse(lines.stream().anyMatch(l -> l.startsWith(": x-br")), "no comment when the chunk carries the cost");
    }

    @Test
    void trailersOverHttp2OnlyWhenAskedFor() throws Exception {
        try (H2Client h2 = new H2Client(gateway.port())) {
            String body = GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":3}");
            H2Client.Response with = h2.post("/v1/chat/completions", gateway.apiKey, body, Map.of("te", "trailers"))
                    .get(20, TimeUnit.SECONDS);
            assertEquals(200, with.status());
            assertTrue(with.body().endsWith("data: [DONE]\n\n"), with.body());
            // Netty's HTTP/1 view of an HTTP/2 response drops "trailer", so read the HEADERS frame itself
            assertEquals(2, with.headerFrames().size(), "response headers, then trailers: " + with.headerFrames());
            CharSequence announcedSeq = with.headerFrames().get(0).get("trailer");
            String announced = announcedSeq == null ? null : announcedSeq.toString();
            assertNotNull(announced, "Trailer header announced: " + with.headers());
            assertTrue(announced.contains("x-br-actual-cost"), announced);
            String cost = with.trailers().get("x-br-actual-cost");
            assertNotNull(cost, "trailers: " + with.trailers());
            assertTrue(new java.math.BigDecimal(cost).signum() > 0, cost);
            assertEquals("0", with.trailers().get("x-br-fallbacks"));

            H2Client.Response without = h2.post("/v1/chat/completions", gateway.apiKey, body, Map.of())
                    .get(20, TimeUnit.SECONDS);
            assertEquals(200, without.status());
            assertTrue(without.body().endsWith("data: [DONE]\n\n"), without.body());
            assertEquals(1, without.headerFrames().size(), "no trailers HEADERS frame: " + without.headerFrames());
            assertNull(without.headerFrames().get(0).get("trailer"));
            assertTrue(without.trailers().isEmpty(), "no trailers without te: trailers: " + without.trailers());
        }
    }

    @Test
    void trailersOverHttp11ChunkedOnlyWhenAskedFor() throws Exception {
        String body = GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":3}");
        try (RawHttp http = new RawHttp(gateway.port())) {
            String request = RawHttp.post("/v1/chat/completions", gateway.apiKey, body);
            http.write(request.replace("Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nTE: trailers\r\n"));
            RawHttp.Response with = http.read();
            assertEquals(200, with.status());
            assertTrue(
                    with.header("trailer").contains("x-br-actual-cost"),
                    with.headers().toString());
            assertTrue(with.body().endsWith("data: [DONE]\n\n"), with.body());
            String cost = with.trailers().get("x-br-actual-cost");
            assertNotNull(cost, "trailers: " + with.trailers());
            assertTrue(new java.math.BigDecimal(cost).signum() > 0, cost);

            http.write(request);
            RawHttp.Response without = http.read();
            assertEquals(200, without.status());
            assertNull(without.header("trailer"));
            assertTrue(without.trailers().isEmpty(), "no trailers without te: trailers: " + without.trailers());
        }
    }

    @Test
    void upstreamResetMidStreamEndsWithAnErrorEventAndNoDone() throws Exception {
        List<String> lines = streamLines("\"stream\":true,\"sim\":{\"reset_after\":3,\"chunks\":10}");
        assertFalse(lines.contains("data: [DONE]"), "a cut stream must not look complete: " + lines);
        long content = lines.stream()
                .filter(l -> l.matches("data: .*\"content\":\"[^\"].*"))
                .count();
        assertEquals(3, content, "the chunks before the reset were relayed: " + lines);
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("data: {"), lines.toString());
        JsonNode event = JSON.readTree(last.substring(6));
        assertEquals("api_error", event.path("error").path("type").asText(), last);
        assertEquals("upstream_error", event.path("error").path("code").asText(), last);
        assertTrue(event.path("error").path("message").asText().contains("sim-east"), last);
        assertEquals(
                "error", event.path("choices").path(0).path("finish_reason").asText(), last);
    }

    @Test
    void clientAbortClosesTheUpstreamConnection() throws Exception {
        String body = GatewayHarness.chatBody("\"stream\":true,\"sim\":{\"chunks\":50,\"interval_ms\":50}");
        // control: while the client keeps reading, the upstream connection stays open
        int during;
        try (RawHttp kept = new RawHttp(gateway.port())) {
            kept.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, body));
            assertEquals(200, kept.readHead());
            kept.readUntil("\"content\":\"");
            during = gateway.sim().openConnections();
            assertTrue(during >= 1);
            assertFalse(
                    GatewayHarness.eventually(500, () -> gateway.sim().openConnections() < during),
                    "the upstream connection closed although the client was still there");
        }
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.sim().openConnections() < during),
                "the upstream connection stayed open after the client left: "
                        + gateway.sim().openConnections());

        try (RawHttp aborting = new RawHttp(gateway.port())) {
            aborting.write(RawHttp.post("/v1/chat/completions", gateway.apiKey, body));
            assertEquals(200, aborting.readHead());
            aborting.readUntil("\"content\":\"");
        }
        long servedBefore = gateway.sim().requestsServed();
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.sim().openConnections() < during),
                "the upstream connection stayed open after the client left: "
                        + gateway.sim().openConnections());
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.server.gateway().inFlight() == 0));
        // the stream was cut short, not played out to the end for nobody (50 × 50 ms)
        assertEquals(servedBefore, gateway.sim().requestsServed());
    }

    @Test
    void twoHundredConcurrentStreamsAllComplete() throws Exception {
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(client.sendAsync(
                    chat("\"stream\":true,\"sim\":{\"chunks\":5,\"interval_ms\":20}"),
                    HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
            assertEquals(
                    5,
                    r.body()
                            .lines()
                            .filter(l -> l.matches("data: .*\"content\":\"[^\"].*"))
                            .count(),
                    r.body());
            assertEquals(
                    1, r.body().lines().filter(l -> l.startsWith(": x-br ")).count(), r.body());
        }
        assertTrue(
                GatewayHarness.eventually(2_000, () -> gateway.server.gateway().inFlight() == 0));
    }

    @Test
    void aClientThatStopsReadingStopsTheUpstream() throws Exception {
        // 64 MiB in 4 KiB events: far more than loopback socket buffers hold (about 8 MiB here), few
        // enough events that PARANOID leak tracking keeps the resumed read to seconds
        int events = 16_000;
        int eventBytes = 4096;
        long total = (long) events * eventBytes;
        fake.behave(FakeUpstream.Behaviour.longStream(events, eventBytes));
        try (RawHttp raw = new RawHttp(gateway.port(), 64 * 1024)) {
            raw.write(RawHttp.post(
                    "/v1/chat/completions",
                    gateway.apiKey,
                    GatewayHarness.chatBody("\"stream\":true").replace("sim/alpha", "openai/gpt-4o-mini")));
            assertEquals(200, raw.readHead());
            raw.readHeaders();
            // now read nothing: the upstream must come to a standstill far short of the whole answer
            long stalledAt = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            long last = -1;
            long stableSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                long now = fake.streamBytesWritten.get();
                if (now != last) {
                    last = now;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(500)) {
                    stalledAt = now;
                    break;
                }
                Thread.sleep(20);
            }
            assertTrue(
                    stalledAt >= 0 && stalledAt < total / 2,
                    "the upstream wrote " + fake.streamBytesWritten.get() + " of " + total
                            + " bytes to a gateway whose client reads nothing (expected: it stalls early)");
            // a pause is not a stall: it must stay put
            Thread.sleep(1_000);
            assertEquals(
                    stalledAt,
                    fake.streamBytesWritten.get(),
                    "the upstream kept writing to a gateway whose client reads nothing");
            assertEquals(0, fake.streamsFinished.get());

            // resume: everything arrives, in full
            long[] counts = countEvents(raw.in());
            assertEquals(events, counts[0], "content chunks");
            assertEquals(1, counts[1], "[DONE]");
        } finally {
            fake.behave(FakeUpstream.Behaviour.ok());
        }
    }

    /** Reads a chunked SSE body to its end; returns {content chunks, [DONE] markers}. */
    private static long[] countEvents(InputStream in) throws Exception {
        byte[] chunkMarker = "chat.completion.chunk".getBytes(StandardCharsets.US_ASCII);
        byte[] doneMarker = "data: [DONE]".getBytes(StandardCharsets.US_ASCII);
        byte[] endMarker = "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        int c = 0;
        int d = 0;
        int e = 0;
        long chunks = 0;
        long dones = 0;
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                c = b == chunkMarker[c] ? c + 1 : b == chunkMarker[0] ? 1 : 0;
                if (c == chunkMarker.length) {
                    chunks++;
                    c = 0;
                }
                d = b == doneMarker[d] ? d + 1 : b == doneMarker[0] ? 1 : 0;
                if (d == doneMarker.length) {
                    dones++;
                    d = 0;
                }
                e = b == endMarker[e] ? e + 1 : b == endMarker[0] ? 1 : 0;
                if (e == endMarker.length) {
                    if (dones > 0) {
                        return new long[] {chunks, dones};
                    }
                    e = 0;
                }
            }
        }
        return new long[] {chunks, dones};
    }
}
