package io.brainstorm.proxy.route;

/**
 * The settings of routing's learning, {@code routing.learning} in {@code brainstorm.yaml}
 * (docs/routing.md).
 *
 * @param discount       γ: what was known is discounted towards the prior before each update, in
 *                       (0, 1]; 1 (the default) forgets nothing while nothing changes, and the
 *                       change detector handles changes
 * @param feedbackWeight how much one {@code /v1/feedback} verdict counts against one scored answer
 * @param sharedWeight   the shared belief counts, in a tenant's view, as at most this many answers
 * @param tenantCap      one tenant's automatic outcomes count, in the shared belief, as at most
 *                       this many answers (per candidate and task class)
 * @param detector       the change detector run on every belief
 * @param reexplore      the share of requests on which a dropped candidate is ranked as if
 *                       unknown (from the uniform prior), so that a recovery is noticed, in [0, 1)
 */
public record LearningSettings(
        double discount,
        double feedbackWeight,
        double sharedWeight,
        double tenantCap,
        ChangeDetector detector,
        double reexplore) {

    /** The defaults: every setting as if {@code routing.learning} were left out. */
    public static final LearningSettings DEFAULTS = new LearningSettings(1, 2, 20, 200, ChangeDetector.DEFAULTS, 0.02);

    public LearningSettings {
        if (!(discount > 0 && discount <= 1)
                || !(feedbackWeight >= 0 && feedbackWeight <= 100)
                || !(sharedWeight >= 0 && sharedWeight <= 1e6)
                || !(tenantCap >= 1 && tenantCap <= 1e9)
                || !(reexplore >= 0 && reexplore < 1)
                || detector == null) {
            throw new IllegalArgumentException("discount " + discount + ", feedbackWeight " + feedbackWeight
                    + ", sharedWeight " + sharedWeight + ", tenantCap " + tenantCap + ", reexplore " + reexplore
                    + ", detector " + detector + " (expected: discount in (0, 1], feedbackWeight 0..100,"
                    + " sharedWeight 0..1e6, tenantCap 1..1e9, reexplore in [0, 1), a detector)");
        }
    }

    /** The same settings with discount {@code d} (benchmarks compare discounting with detection). */
    public LearningSettings withDiscount(double d) {
        return new LearningSettings(d, feedbackWeight, sharedWeight, tenantCap, detector, reexplore);
    }

    /** The same settings with another detector ({@link ChangeDetector#OFF} turns detection off). */
    public LearningSettings withDetector(ChangeDetector d) {
        return new LearningSettings(discount, feedbackWeight, sharedWeight, tenantCap, d, reexplore);
    }

    /** The same settings with another re-exploration share. */
    public LearningSettings withReexplore(double r) {
        return new LearningSettings(discount, feedbackWeight, sharedWeight, tenantCap, detector, r);
    }
}
