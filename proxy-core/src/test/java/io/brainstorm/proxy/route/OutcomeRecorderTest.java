package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.spi.CircuitState;
import io.brainstorm.proxy.testing.ManualClock;
import io.brainstorm.proxy.upstream.Origin;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What each attempt's end does to the shared endpoint, to the provider key that made it, and to
 * what the gateway learns of the model (docs/architecture.md §7): 401/403/429 are the key's, not the
 * endpoint's, and say nothing of the model's quality.
 */
class OutcomeRecorderTest {
    private static final String ACME = "sk-acme-openai-AAAA";
    private static final String GLOBEX = "sk-globex-openai-GGGG";
    private final ManualClock clock = new ManualClock();
    private final RoutingState state =
            new RoutingState(HealthConfig.DEFAULTS, Learning.onHeap(LearningSettings.DEFAULTS), clock);
    private final OutcomeRecorder outcomes = new OutcomeRecorder(state, new InMemoryAnswerLog());
    private final ModelSpec alpha = Catalog.builtIn().find("sim/alpha").orElseThrow();
    private final Endpoint endpoint = new Endpoint(
            "sim-east",
            alpha,
            alpha.price(),
            new Origin("127.0.0.1", 9, null),
            "/v1",
            "sim-key",
            Timeouts.DEFAULT,
            true);
    private final RoutePlan plan = new RoutePlan(
            "direct",
            null,
            io.brainstorm.proxy.spi.RouteRequest.builder()
                    .requestId("req_1")
                    .tenant("acme")
                    .model("sim/alpha")
                    .variant("direct")
                    .estimatedInputTokens(100)
                    .build(),
            List.of(endpoint),
            0.5,
            "",
            Access.all("acme"));

    private RoutingState.Reach begin(String key) {
        return outcomes.begin(endpoint, key);
    }

    @Test
    void a429CoolsOnlyTheKeyThatGotItForItsRetryAfter() {
        assertEquals(RoutingState.Reach.USABLE, begin(ACME));
        outcomes.rateLimited(plan, endpoint, ACME, 60_000, 1_000, true);
        for (int i = 0; i < 20; i++) {
            assertEquals(RoutingState.Reach.COOLING, begin(ACME));
            assertEquals(RoutingState.Reach.USABLE, begin(GLOBEX), "another tenant's key is not affected");
            outcomes.responded(endpoint);
        }
        assertEquals(
                CircuitState.CLOSED,
                state.health(endpoint.candidateId()).breaker().state(clock.millis()));
        assertEquals(60_000, outcomes.millisUntilRetry(endpoint, ACME, clock.millis()));
        clock.advance(Duration.ofSeconds(60));
        assertEquals(RoutingState.Reach.USABLE, begin(ACME));
    }

    @Test
    void a401SetsTheKeyAsideWithoutTeachingAnythingAboutTheModel() {
        assertEquals(RoutingState.Reach.USABLE, begin(ACME));
        outcomes.rejected(plan, endpoint, ACME, 401, 1_000, true);
        for (int i = 0; i < 19; i++) {
            assertEquals(RoutingState.Reach.LAST_RESORT, begin(ACME), "tried last, for the open base time");
            // tried anyway, without a permit, when nothing else is left
            outcomes.rejected(plan, endpoint, ACME, 401, 1_000, false);
        }
        assertEquals(RoutingState.Reach.USABLE, begin(GLOBEX));
        assertEquals(
                CircuitState.CLOSED,
                state.health(endpoint.candidateId()).breaker().state(clock.millis()),
                "twenty 401s of one key do not open the endpoint's circuit");
        Posterior p = state.learning()
                .posterior(
                        plan.request().tenant(),
                        endpoint.candidateId(),
                        plan.request().taskClass());
        assertEquals(Posterior.PRIOR.alpha(), p.alpha());
        assertEquals(Posterior.PRIOR.beta(), p.beta(), "no quality verdict of 0 for a rejected key");
        assertEquals(
                0,
                state.stats(endpoint.candidateId(), "other", plan.request().taskClass(), 1)
                        .requests(),
                "other tenants' strategies do not see the key's refusals as the endpoint's errors");
        clock.advance(Duration.ofSeconds(5));
        assertEquals(RoutingState.Reach.USABLE, begin(ACME));
    }
}
