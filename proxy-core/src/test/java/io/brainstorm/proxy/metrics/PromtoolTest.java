package io.brainstorm.proxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.settle.ScoreOutcome;
import io.brainstorm.proxy.testing.TestRegistries;
import io.brainstorm.proxy.testing.TestRouters;
import io.brainstorm.proxy.upstream.Origin;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exposition as Prometheus reads it: {@code promtool check metrics} parses and lints a
 * realistic one (every family with samples, hostile model names among the completions) and has
 * nothing to say. Skipped, saying so, where promtool is not installed.
 */
class PromtoolTest {

    @Test
    void promtoolAcceptsAndFindsNothingToLint() throws Exception {
        Promtool.assumeInstalled();
        GatewayConfig config =
                ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of());
        try (Registry registry = TestRegistries.withKey("br_live_" + "p".repeat(32))) {
            Gateway gateway = new Gateway(config, registry, null);
            List<Endpoint> endpoints = new ArrayList<>();
            for (ModelSpec m : config.catalog().models()) {
                m.endpoints()
                        .forEach(e -> endpoints.add(new Endpoint(
                                e.id(),
                                m,
                                e.price(),
                                new Origin("127.0.0.1", 9, null),
                                "/v1",
                                "sk-sim",
                                Timeouts.DEFAULT,
                                true)));
            }
            Router router = TestRouters.of(endpoints, InstantSource.system());
            TestRouters.start(gateway, router);
            gateway.markReady();
            router.state()
                    .health(endpoints.get(0).candidateId())
                    .breaker()
                    .onRateLimited(System.currentTimeMillis(), 30_000);
            Metrics metrics = new Metrics(gateway);
            metrics.addCounter("brainstorm_audit_records_written_total", "Audit records written.", () -> 12);
            metrics.addGauge("brainstorm_audit_queue_records", "Audit records waiting for the writer.", () -> 0.25);

            String hostile = "x\"} 1\n# TYPE brainstorm_ready counter\nbrainstorm_ready{a=\"\\";
            metrics.accept(CompletionFixture.ok()
                    .score(1, ScoreOutcome.VALID)
                    .cost(1_234_567, false)
                    .build());
            metrics.accept(CompletionFixture.ok().selected("sim/beta", "sim-west").stream(true)
                    .ttftMicros(35_000)
                    .latencyMicros(1_200_000)
                    .fallbacks(1)
                    .format("json_schema")
                    .score(0, ScoreOutcome.SCHEMA_MISMATCH)
                    .build());
            metrics.accept(
                    CompletionFixture.ok().selected("sim/gamma", "sim-budget").status(200, "stream_broken").stream(true)
                            .ttftMicros(15)
                            .score(0, ScoreOutcome.ERROR)
                            .build());
            metrics.accept(CompletionFixture.ok()
                    .selected("sim/alpha", "sim-west")
                    .status(504, "upstream_timeout")
                    .latencyMicros(60_000_000)
                    .tokens(0, 0)
                    .cost(0, false)
                    .build());
            metrics.accept(CompletionFixture.refused(404, "model_not_found")
                    .requestedModel(hostile)
                    .build());
            metrics.accept(CompletionFixture.refused(402, "budget_exceeded")
                    .format(null)
                    .build());
            metrics.accept(CompletionFixture.refused(429, "rate_limited")
                    .requestedModel("auto")
                    .build());
            metrics.accept(CompletionFixture.ok()
                    .selected(hostile, hostile)
                    .strategy(hostile)
                    .status(599, hostile)
                    .latencyMicros(-5)
                    .tokens(-1, -1)
                    .cost(-9, false)
                    .build());
            metrics.accept(CompletionFixture.ok()
                    .score(1, ScoreOutcome.PLAIN_OK)
                    .cost(999_999_999_999L, false)
                    .build());

            String exposition = metrics.render();
            Promtool.Verdict verdict = Promtool.check(exposition);
            assertTrue(
                    verdict.clean(),
                    "promtool check metrics: exit " + verdict.exitCode() + "\n" + verdict.output()
                            + "\n--- exposition ---\n" + exposition);
        }
    }

    @Test
    void promtoolCatchesABrokenExposition() throws Exception {
        Promtool.assumeInstalled();
        // the checker itself must be able to fail: a counter without _total and an unescaped quote
        Promtool.Verdict lint = Promtool.check("# HELP brainstorm_x X.\n# TYPE brainstorm_x counter\nbrainstorm_x 1\n");
        assertTrue(!lint.clean(), lint.toString());
        Promtool.Verdict parse = Promtool.check("brainstorm_y{a=\"b\"c\"} 1\n");
        assertTrue(parse.exitCode() != 0, parse.toString());
        assertEquals(
                true,
                Promtool.check("# HELP brainstorm_z_total Z.\n# TYPE brainstorm_z_total counter\n"
                                + "brainstorm_z_total 1\n")
                        .clean());
    }
}
