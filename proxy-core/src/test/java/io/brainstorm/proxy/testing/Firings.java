package io.brainstorm.proxy.testing;

import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.spi.TaskClass;

/**
 * Makes the learning's change detectors fire, as the gateway's scoring and feedback would, for
 * tests of what the read-outs (metrics, admin API, dashboard) show of a firing.
 */
public final class Firings {
    /** The task class the answers are of: short plain text. */
    public static final TaskClass CLASS = TaskClass.of(false, false, 10);

    /** Good answers before the drop. */
    static final int GOOD = 30;
    /**
     * Bad ones after it: the detector fires on about the twelfth with the default settings, well
     * before the last; the rest keep the dropped belief's mean low, and do not fire it again.
     */
    static final int BAD = 40;
    /** Answers (or feedback verdicts) each method gives. */
    public static final int ANSWERS = GOOD + BAD;

    private Firings() {}

    /**
     * {@code tenant}'s scored answers from {@code candidateId}: {@value #GOOD} good, then
     * {@value #BAD} failed. Far under the tenant cap, so both the tenant's belief and the shared
     * one fire once, downward, from about 0.8 to under 0.1.
     */
    public static void drop(Learning learning, String tenant, String candidateId, long nowMillis) {
        for (int i = 0; i < GOOD + BAD; i++) {
            learning.answered(tenant, candidateId, CLASS, i < GOOD ? 1 : 0, nowMillis);
        }
    }

    /**
     * {@code tenant}'s feedback on answers from {@code candidateId}: {@value #GOOD} good, then
     * {@value #BAD} bad. Only the tenant's own belief learns from feedback, so only it fires.
     */
    public static void dropByFeedback(Learning learning, String tenant, String candidateId, long nowMillis) {
        for (int i = 0; i < GOOD + BAD; i++) {
            learning.feedback(tenant, candidateId, CLASS, i < GOOD ? 1 : 0, nowMillis);
        }
    }
}
