package io.brainstorm.proxy.route;

/**
 * One answer's verdict as one belief takes it ({@link Belief#observe}).
 *
 * @param score         answer quality 0..1: what the change detector sees
 * @param weight        how much it counts for the detector (1 for the gateway's own score,
 *                      {@code feedback_weight} for feedback)
 * @param good          weight added to α (for a tenant's belief {@code weight × score}; for the
 *                      shared belief what the tenant's capped contribution grew by, which may be
 *                      negative once the cap is reached)
 * @param bad           weight added to β, likewise
 * @param contribution  for a tenant's belief, its contribution to the shared belief after this
 *                      answer (good, bad), or null when the answer did not go to the shared belief
 * @param sharedEpoch   the shared belief's reset count that {@code contribution} belongs to
 * @param nowMillis     when it was observed (a reset records it)
 */
public record Observation(
        double score,
        double weight,
        double good,
        double bad,
        double @org.jspecify.annotations.Nullable [] contribution,
        long sharedEpoch,
        long nowMillis) {

    public Observation {
        if (!(score >= 0 && score <= 1)
                || !(weight >= 0)
                || Double.isInfinite(weight)
                || !Double.isFinite(good)
                || !Double.isFinite(bad)) {
            throw new IllegalArgumentException("score " + score + ", weight " + weight + ", good " + good + ", bad "
                    + bad + " (expected: score 0..1, weight >= 0, all finite)");
        }
    }

    /** An answer counted in full: {@code weight × score} good, the rest bad. */
    public static Observation of(double score, double weight, long nowMillis) {
        return new Observation(score, weight, weight * score, weight * (1 - score), null, 0, nowMillis);
    }
}
