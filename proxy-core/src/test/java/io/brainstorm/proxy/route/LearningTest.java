package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * What routing sees per tenant (docs/routing.md): a tenant's feedback moves only its own view, the
 * shared belief learns only from the gateway's scoring with each tenant capped, a tenant's own
 * answers are not counted twice, and a dropped candidate is re-explored on a bounded share of
 * requests.
 */
class LearningTest {
    private static final TaskClass PLAIN = TaskClass.of(false, false, 100);
    private static final String GPT = "openai/gpt-4o@openai";
    private final Learning learning = Learning.onHeap(LearningSettings.DEFAULTS);

    @Test
    void aTenantsFeedbackLeavesAnotherTenantsRoutingUnchanged() {
        for (int i = 0; i < 30; i++) {
            learning.answered(i % 2 == 0 ? "acme" : "globex", GPT, PLAIN, 1, i);
        }
        Posterior globexBefore = learning.posterior("globex", GPT, PLAIN);
        Belief sharedBefore = learning.store().belief(GPT, PLAIN);
        for (int i = 0; i < 200; i++) {
            learning.feedback("acme", GPT, PLAIN, 0, 100 + i);
        }
        assertEquals(globexBefore, learning.posterior("globex", GPT, PLAIN), "globex sees what it saw");
        assertEquals(sharedBefore, learning.store().belief(GPT, PLAIN), "feedback never reaches the shared belief");
        assertTrue(
                learning.posterior("acme", GPT, PLAIN).mean() < 0.1,
                "acme's own verdicts rule its view: " + learning.posterior("acme", GPT, PLAIN));
        assertTrue(globexBefore.mean() > 0.9, "globex still trusts it: " + globexBefore);
    }

    @Test
    void aNewTenantStartsFromTheSharedBeliefWorthAtMostSharedWeightAnswers() {
        for (int i = 0; i < 500; i++) {
            learning.answered("acme", GPT, PLAIN, i % 10 < 8 ? 1 : 0, i);
        }
        Posterior fresh = learning.posterior("newco", GPT, PLAIN);
        assertEquals(LearningSettings.DEFAULTS.sharedWeight(), fresh.alpha() + fresh.beta() - 2, 1e-9);
        // acme is past its cap, so its recent answers weigh most: close to its 0.8
        assertEquals(
                0.8, (fresh.alpha() - 1) / (fresh.alpha() + fresh.beta() - 2), 0.01, "the shared mean, scaled down");
        assertEquals(0, fresh.observations(), "none of its own");
    }

    @Test
    void aTenantsOwnAnswersAreNotCountedTwice() {
        for (int i = 0; i < 50; i++) {
            learning.answered("acme", GPT, PLAIN, i % 2, i);
        }
        assertEquals(
                new Posterior(26, 26, 50), learning.posterior("acme", GPT, PLAIN), "its own 50, not 50 + 20 shared");
    }

    @Test
    void oneTenantsWeightInTheSharedBeliefIsCapped() {
        double cap = LearningSettings.DEFAULTS.tenantCap();
        // no detector: the shared stream turns from all bad to all good, which it would (rightly) call a change
        Learning learning = Learning.onHeap(LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF));
        for (int i = 0; i < 5_000; i++) {
            learning.answered("flood", GPT, PLAIN, 0, i); // a tenant whose prompts always fail there
        }
        for (int i = 0; i < 100; i++) {
            learning.answered("acme", GPT, PLAIN, 1, 10_000 + i);
        }
        Belief shared = learning.store().belief(GPT, PLAIN);
        assertEquals(cap + 100, shared.evidence(), 1e-6, "flood counts as " + cap + " answers, not 5,000");
        assertEquals(101.0 / (cap + 102), shared.mean(), 1e-6);
        Belief flood = learning.store().belief(Learning.tenantKey("flood", GPT), PLAIN);
        assertEquals(cap, flood.contribGood() + flood.contribBad(), 1e-6);
        assertEquals(5_000, flood.observations(), "its own belief keeps every answer");
    }

    @Test
    void pastTheCapATenantsRecentAnswersWeighMost() {
        double cap = LearningSettings.DEFAULTS.tenantCap();
        Learning quiet = Learning.onHeap(LearningSettings.DEFAULTS.withDetector(ChangeDetector.OFF));
        for (int i = 0; i < 1_000; i++) {
            quiet.answered("acme", GPT, PLAIN, 1, i);
        }
        for (int i = 0; i < 200; i++) {
            quiet.answered("acme", GPT, PLAIN, 0, 1_000 + i);
        }
        Belief shared = quiet.store().belief(GPT, PLAIN);
        assertEquals(cap, shared.evidence(), 1e-6);
        // each answer past the cap keeps cap / (cap + 1) of what was there: 200 bad ones leave (200/201)^200 of the
        // good
        assertEquals(Math.pow(cap / (cap + 1), 200), (shared.alpha() - 1) / cap, 1e-6);
    }

    @Test
    void aDroppedCandidateIsReexploredOnAboutTheConfiguredShareOfRequests() {
        for (int i = 0; i < 300; i++) {
            learning.answered("acme", GPT, PLAIN, 1, i);
        }
        for (int i = 0; i < 40; i++) {
            learning.answered("acme", GPT, PLAIN, 0, 300 + i);
        }
        assertTrue(
                learning.store().belief(Learning.tenantKey("acme", GPT), PLAIN).dropped());
        Posterior seen = learning.posterior("acme", GPT, PLAIN);
        assertTrue(seen.mean() < 0.2, "dropped: " + seen);
        SplittableRandom random = new SplittableRandom(7);
        int probes = 0;
        int requests = 100_000;
        for (int i = 0; i < requests; i++) {
            if (learning.posterior("acme", GPT, PLAIN, random.nextDouble()) == Posterior.PRIOR) {
                probes++;
            }
        }
        assertEquals(LearningSettings.DEFAULTS.reexplore(), (double) probes / requests, 0.002);
        assertSame(Posterior.PRIOR, learning.posterior("acme", GPT, PLAIN, 0.0));
        assertEquals(seen, learning.posterior("acme", GPT, PLAIN, 0.5), "above the share: its belief");
        learning.answered("acme", "other@x", PLAIN, 1, 0);
        assertEquals(
                learning.posterior("acme", "other@x", PLAIN),
                learning.posterior("acme", "other@x", PLAIN, 0.0),
                "a candidate never dropped is never replaced");
    }

    @Test
    void everyFiringIsCountedAndKeptWithItsScope() {
        for (int i = 0; i < 300; i++) {
            learning.answered("acme", GPT, PLAIN, 1, i);
        }
        for (int i = 0; i < 40; i++) {
            learning.answered("acme", GPT, PLAIN, 0, 1_000 + i);
        }
        assertEquals(1, learning.resets(true, Belief.Direction.DOWN), "acme's belief");
        assertEquals(1, learning.resets(false, Belief.Direction.DOWN), "the shared one, fed by the same answers");
        assertEquals(0, learning.resets(false, Belief.Direction.UP));
        assertEquals(2, learning.events().size());
        Learning.Event shared = learning.events().stream()
                .filter(e -> e.tenant() == null)
                .findFirst()
                .orElseThrow();
        assertEquals(GPT, shared.candidateId());
        assertEquals("plain/0-1k", shared.taskClass());
        assertEquals(Belief.Direction.DOWN, shared.reset().direction());
        assertTrue(shared.atMillis() >= 1_000 && shared.atMillis() < 1_040, "when: " + shared.atMillis());
        Learning.Event own = learning.events().stream()
                .filter(e -> e.tenant() != null)
                .findFirst()
                .orElseThrow();
        assertEquals("acme", own.tenant());
        assertNull(learning.tenants().get("globex"));
        assertTrue(learning.tenants().get("acme").containsKey(GPT));
        assertTrue(learning.shared().containsKey(GPT));
    }
}
