package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.ChildJvm;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing's change detection through the gateway process (docs/routing.md): {@code sim/alpha:smart}
 * over three simulated endpoints settles on the best one; when that endpoint's answers all turn bad
 * (the sim's {@code "quality"} test hook, from one request on), the gateway moves off it within the
 * issue's bound (its share of the next 50 requests is below 10 % at most 50 requests after the
 * change) and logs the detector's firing. Measured: 3 to 8 requests; with the detector off
 * ({@code change_detection.threshold: off}) it has not moved off after 150.
 *
 * <p>The gateway is a child JVM running {@code Main serve} with the default learning settings and
 * its state files; the requests are sequential and ask for JSON following a schema, so the
 * gateway's scorer judges each answer. The routing and sim seeds are fixed, but a decision's draws
 * also depend on its request id, which is random, so runs differ a little.
 */
class ChangeDetectionTest {
    private static final String KEY = ApiKeys.generate();
    /** The bound: requests after the change until the degraded endpoint's share of the next 50 is below 10 %. */
    private static final int BOUND = 50;

    private static final int WINDOW = 50;
    private static final int SETTLE = 300;
    private static final int AFTER = 150;
    private static final String BAD = "\"sim\":{\"quality\":{\"sim-east\":0}}";

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private Process gateway;

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws InterruptedException {
        if (gateway != null) {
            gateway.destroy();
            if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void smartMovesOffAnEndpointWhoseAnswersTurnBadWithinFiftyRequests() throws Exception {
        String base = start();

        List<String> before = new ArrayList<>();
        for (int i = 0; i < SETTLE; i++) {
            before.add(ask(base, ""));
        }
        List<String> settled = before.subList(SETTLE - 100, SETTLE);
        long east = settled.stream().filter("sim-east"::equals).count();
        assertTrue(east >= 70, "smart settled on sim-east, the best endpoint, before the change: " + counts(settled));

        List<String> after = new ArrayList<>();
        for (int i = 0; i < AFTER; i++) {
            after.add(ask(base, BAD));
        }
        int lag = lag(after);
        assertTrue(
                lag <= BOUND,
                "sim-east's share of the next " + WINDOW + " requests fell below 10 % "
                        + (lag + WINDOW > AFTER ? "not within the " + AFTER + " requests" : lag + " requests")
                        + " after its answers turned bad (bound: " + BOUND + "); endpoints after the change: " + after);

        Path log = dir.resolve("gateway.log");
        assertTrue(
                GatewayHarness.eventually(5_000, () -> read(log).contains("learning: sim/alpha@sim-east dropped")),
                "the gateway logged the detector's firing on sim-east:\n" + read(log));
    }

    /**
     * The adaptation lag: the first k such that fewer than 10 % of requests k .. k + WINDOW − 1 after
     * the change went to sim-east; past the last full window when none did.
     */
    private static int lag(List<String> after) {
        for (int k = 0; k + WINDOW <= after.size(); k++) {
            long degraded = after.subList(k, k + WINDOW).stream()
                    .filter("sim-east"::equals)
                    .count();
            if (degraded * 10 < WINDOW) {
                return k;
            }
        }
        return after.size() - WINDOW + 1;
    }

    private static String counts(List<String> endpoints) {
        return endpoints.stream()
                .collect(Collectors.groupingBy(e -> e, TreeMap::new, Collectors.counting()))
                .toString();
    }

    /** One {@code sim/alpha:smart} request for schema-following JSON; the endpoint that answered it. */
    private String ask(String base, String hook) throws Exception {
        String body = """
                {"model":"sim/alpha:smart","max_tokens":64,\
                "messages":[{"role":"user","content":"The capital of France, as JSON"}],\
                "response_format":{"type":"json_schema","json_schema":{"name":"city","schema":\
                {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}%s}""".formatted(hook.isEmpty() ? "" : "," + hook);
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(base + "/chat/completions"))
                        .header("Authorization", "Bearer " + KEY)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("x-br-endpoint").orElseThrow();
    }

    /**
     * The gateway process on a free port with its own catalog: sim/alpha at three endpoints of one
     * price, no delay and no failures, whose answers are good with probability 0.95 (sim-east), 0.8
     * and 0.65. Returns its base URL once {@code /readyz} says it is ready.
     */
    private String start() throws Exception {
        Files.writeString(dir.resolve("models.yaml"), """
                models:
                  - id: sim/alpha
                    context_length: 128000
                    max_output_tokens: 16384
                    capabilities: [json]
                    created: 1767225600
                    endpoints:
                      - id: sim-east
                        price: {input: 0.50, cached_input: 0.25, output: 1.50}
                        sim: {latency_ms: 0, quality: 0.95, failure_rate: 0}
                      - id: sim-west
                        price: {input: 0.50, cached_input: 0.25, output: 1.50}
                        sim: {latency_ms: 0, quality: 0.80, failure_rate: 0}
                      - id: sim-budget
                        price: {input: 0.50, cached_input: 0.25, output: 1.50}
                        sim: {latency_ms: 0, quality: 0.65, failure_rate: 0}
                """);
        Path config = dir.resolve("brainstorm.yaml");
        Files.writeString(config, """
                admin: {enabled: false}
                state_dir: %s
                catalog: models.yaml
                sim: {enabled: true, seed: 16, random_faults: true}
                routing: {seed: 16}
                keys:
                  - {name: e2e, sha256: %s}
                """.formatted(dir.resolve("state"), ApiKeys.sha256(KEY)));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("gateway.log");
        gateway = ChildJvm.main("io.brainstorm.proxy.cli.Main")
                .args("serve", "--config", config.toString(), "--port", String.valueOf(port), "--threads", "1")
                .processBuilder()
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        URI ready = URI.create("http://127.0.0.1:" + port + "/readyz");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(gateway.isAlive(), "the gateway exited:\n" + read(log));
            try {
                if (client.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return "http://127.0.0.1:" + port + "/v1";
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the gateway was not ready within 60 s:\n" + read(log));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }
}
