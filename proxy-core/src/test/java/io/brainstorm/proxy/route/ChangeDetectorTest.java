package io.brainstorm.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The change detector at its default settings (shift 0.2, threshold 12, after 10 answers), on
 * seeded Bernoulli streams: how soon it fires after a step change, and how rarely while nothing
 * changes. docs/routing.md quotes these figures.
 */
class ChangeDetectorTest {
    private static final ChangeDetector DETECTOR = ChangeDetector.DEFAULTS;

    /** A belief after {@code n} answers drawn with quality {@code p}; fails if the detector fired. */
    private static Belief settled(double p, int n, SplittableRandom random) {
        Belief b = Belief.PRIOR;
        for (int i = 0; i < n; i++) {
            Belief.Step s = b.observe(Observation.of(random.nextDouble() < p ? 1 : 0, 1, i), DETECTOR, 1);
            assertNull(s.reset(), "fired while nothing changed, answer " + i + " of quality " + p);
            b = s.after();
        }
        return b;
    }

    /** Answers of quality {@code p} until the detector fires: how many it took (or {@code limit} + 1). */
    private static int answersUntilFired(Belief b, double p, int limit, SplittableRandom random) {
        for (int i = 1; i <= limit; i++) {
            Belief.Step s = b.observe(Observation.of(random.nextDouble() < p ? 1 : 0, 1, i), DETECTOR, 1);
            if (s.reset() != null) {
                return i;
            }
            b = s.after();
        }
        return limit + 1;
    }

    @Test
    void anEndpointThatStartsFailingEveryAnswerIsDroppedWithinTheComputedNumberOfAnswers() {
        for (double before : new double[] {0.5, 0.69, 0.9, 0.99}) {
            // each failed answer adds ln((1 - p + 0.2) / (1 - p)) (0.34 at p = 0.5, 0.50 at 0.69), and
            // the reference p falls a little as they come: a few more than threshold / ratio
            int bound = (int) Math.ceil(DETECTOR.threshold() / Math.log((1.2 - before) / (1 - before))) + 3;
            for (long seed = 1; seed <= 20; seed++) {
                Belief b = settled(before, 500, new SplittableRandom(seed));
                int n = answersUntilFired(b, 0, 100, new SplittableRandom(seed));
                assertTrue(
                        n <= bound, "quality " + before + " -> 0, seed " + seed + ": fired after " + n + " > " + bound);
            }
        }
        assertEquals(25, (int) Math.ceil(DETECTOR.threshold() / Math.log(0.51 / 0.31)), "0.69 -> 0: from the 25th");
    }

    @Test
    void aDropToHalfTheQualityIsNoticedWithinAFewDozenAnswers() {
        int worst = 0;
        for (long seed = 1; seed <= 20; seed++) {
            Belief b = settled(0.69, 500, new SplittableRandom(seed));
            worst = Math.max(worst, answersUntilFired(b, 0.345, 400, new SplittableRandom(seed + 100)));
        }
        assertTrue(worst <= 150, "0.69 -> 0.345: worst of 20 seeds fired after " + worst);
    }

    @Test
    void aRecoveryIsNoticedToo() {
        int worst = 0;
        for (long seed = 1; seed <= 20; seed++) {
            Belief b = settled(0.1, 500, new SplittableRandom(seed));
            worst = Math.max(worst, answersUntilFired(b, 0.7, 400, new SplittableRandom(seed + 100)));
        }
        assertTrue(worst <= 30, "0.1 -> 0.7: worst of 20 seeds fired after " + worst);
    }

    /**
     * 10,000 answers of unchanging quality, 100 seeds at each of six qualities (and fractional
     * scores): the share of runs with any false alarm stays under 1.5 % (measured: 0.5 %).
     */
    @Test
    void aStationaryStreamOfTenThousandAnswersRarelyFires() {
        int runs = 0;
        int falseAlarms = 0;
        for (double p : new double[] {0.05, 0.3, 0.5, 0.69, 0.9, 0.98}) {
            for (long seed = 1; seed <= 100; seed++) {
                SplittableRandom random = new SplittableRandom(seed * 1_000_003 + (long) (p * 100));
                Belief b = Belief.PRIOR;
                boolean fired = false;
                for (int i = 0; i < 10_000 && !fired; i++) {
                    // half the runs score in [0, 1] around p, as the scorer's fractions do
                    double score = seed % 2 == 0
                            ? (random.nextDouble() < p ? 1 : 0)
                            : Math.min(1, Math.max(0, p + (random.nextDouble() - 0.5) * 0.4));
                    Belief.Step s = b.observe(Observation.of(score, 1, i), DETECTOR, 1);
                    fired = s.reset() != null;
                    b = s.after();
                }
                runs++;
                falseAlarms += fired ? 1 : 0;
            }
        }
        double rate = (double) falseAlarms / runs;
        System.out.println("false alarms: " + falseAlarms + " of " + runs + " runs of 10,000 answers");
        assertTrue(rate < 0.015, "false alarms in " + falseAlarms + " of " + runs + " runs of 10,000 answers");
    }

    @Test
    void aFiringRestartsTheBeliefFromTheAnswersSinceTheChange() {
        Belief b = settled(1, 200, new SplittableRandom(1)); // Beta(201, 1)
        int n = 0;
        Belief.Step s;
        do {
            s = b.observe(Observation.of(0, 1, 42), DETECTOR, 1);
            b = s.after();
            n++;
        } while (s.reset() == null);
        Belief.Reset r = s.reset();
        assertEquals(Belief.Direction.DOWN, r.direction());
        // every failure since the change, the older fading by 10/11 each: none of the 200 successes
        double fade = DETECTOR.minEvidence() / (DETECTOR.minEvidence() + 1);
        double recent = (1 - Math.pow(fade, n)) / (1 - fade);
        assertEquals(recent, r.evidence(), 1e-9);
        assertEquals(1 / (2 + recent), r.meanAfter(), 1e-9);
        assertTrue(r.meanBefore() > 0.8, "the mean just before: " + r.meanBefore());
        assertEquals(new Posterior(1, 1 + recent, 200 + n), b.posterior());
        assertTrue(b.dropped());
        assertEquals(1, b.resets());
        assertEquals(42, b.lastResetMillis());
        assertEquals(0, b.down());
        assertEquals(0, b.up());
    }

    /**
     * The statistic may leave 0 a while before the change (here 40 answers of a 0.5 quality, a
     * drift too small to fire); the belief restarts from the recent answers, which came after it.
     */
    @Test
    void aRunThatBeganBeforeTheChangeRestartsFromItsRecentAnswers() {
        Belief b = new Belief(71, 31, 100, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0); // 0.7
        for (int i = 0; i < 40; i++) {
            b = b.observe(Observation.of(i % 2, 1, i), DETECTOR, 1).after();
        }
        assertTrue(b.down() > 0 && b.downGood() > 3, "the run began before the change: " + b);
        Belief.Step s;
        int n = 0;
        do {
            s = b.observe(Observation.of(0, 1, 100 + n), DETECTOR, 1);
            b = s.after();
            n++;
        } while (s.reset() == null && n < 100);
        assertTrue(s.reset() != null, "fired");
        assertTrue(s.reset().meanAfter() < 0.15, "restarts near the new quality, 0: " + s.reset());
    }

    @Test
    void aDroppedBeliefKeepsOnlyItsRecentAnswersSoItsMeanFollowsThem() {
        Belief b = new Belief(1, 21, 500, 0, 0, 0, 0, 0, 0, 1, 7, true, 0, 0, 0);
        for (int i = 0; i < 15; i++) {
            b = b.observe(Observation.of(1, 1, i), ChangeDetector.OFF, 1).after();
        }
        assertEquals(DETECTOR.minEvidence(), b.evidence(), 1e-9, "evidence kept at min_answers while dropped");
        assertTrue(b.mean() > 0.5, "15 good answers after 20 bad ones: " + b.mean());
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingThem() {
        assertEquals(
                "shift 0.0, threshold 10.0, minEvidence 10.0 (expected: shift in (0, 1), threshold > 0, minEvidence >= 0)",
                assertThrows(IllegalArgumentException.class, () -> new ChangeDetector(0, 10, 10))
                        .getMessage());
    }
}
