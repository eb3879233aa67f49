package io.brainstorm.proxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.testing.TestRegistries;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Budget refusals of both kinds are counted apart: a dashboard must tell a spent budget (402
 * {@code budget_exceeded}) from a busy one (429 {@code budget_busy}), and neither is a rate limit.
 */
class BudgetRefusalMetricsTest {
    private Registry registry;
    private Metrics metrics;

    @BeforeEach
    void setUp() throws Exception {
        registry = TestRegistries.withKey("br_live_" + "b".repeat(32));
        metrics = new Metrics(new Gateway(
                ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                registry,
                null));
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void busyAndExceededAreCountedApartAndUnderTheirOwnErrorCodes() {
        for (int i = 0; i < 3; i++) {
            metrics.accept(CompletionFixture.refused(429, "budget_busy").build());
        }
        metrics.accept(CompletionFixture.refused(402, "budget_exceeded").build());

        String x = metrics.render();
        assertEquals("3", ExpositionText.sample(x, "brainstorm_budget_busy_total"));
        assertEquals("1", ExpositionText.sample(x, "brainstorm_budget_refusals_total"));
        assertEquals("0", ExpositionText.sample(x, "brainstorm_rate_limited_total"));
        assertEquals(
                "3",
                ExpositionText.sample(
                        x, "brainstorm_errors_total{model=\"sim/alpha\",endpoint=\"none\"," + "code=\"budget_busy\"}"));
        assertEquals(
                "1",
                ExpositionText.sample(
                        x,
                        "brainstorm_errors_total{model=\"sim/alpha\",endpoint=\"none\","
                                + "code=\"budget_exceeded\"}"));
        assertEquals(
                "3",
                ExpositionText.sample(
                        x,
                        "brainstorm_requests_total{model=\"sim/alpha\",endpoint=\"none\","
                                + "strategy=\"none\",status=\"429\"}"));
    }
}
