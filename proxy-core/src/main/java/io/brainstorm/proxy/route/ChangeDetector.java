package io.brainstorm.proxy.route;

/**
 * A two-sided Bernoulli CUSUM (Page, 1954) on one belief's stream of scores: the settings, and the
 * arithmetic {@link Belief#observe} runs once per observation.
 *
 * <p>Before each observation the reference is the belief's mean p₀. The downward statistic adds
 * the log-likelihood ratio of "quality is p₀ − {@code shift}" against "quality is p₀" for the
 * score s (weight w): {@code w·(s·ln(p₁/p₀) + (1 − s)·ln((1 − p₁)/(1 − p₀)))}, and is floored at
 * 0; the upward one does the same for p₀ + {@code shift}. While nothing changes both drift down
 * and sit at 0; after a change of at least {@code shift} one grows by a fixed amount per answer
 * (0.5 per answer when a 0.69 endpoint starts failing every answer: it fires at the 25th) and fires when it passes
 * {@code threshold}. The answers since it last left 0 are its estimate of what came after the
 * change; as that run may have begun a while before the change, {@link Belief} keeps their good
 * and bad weight with the older answers fading, about the last {@code minEvidence} + 1 answers'
 * worth, and a firing replaces the belief by that recent window. Scores in (0, 1) count as
 * fractional answers.
 *
 * <p>Why this one (docs/routing.md): it is optimal for a step change of a known size (Lorden,
 * 1971), it needs three numbers per direction and belief (no window of past scores, so it fits a
 * fixed-size entry of the state file and replays exactly), and its threshold is in
 * log-likelihood units, so its false-alarm rate follows from it (at least e^threshold answers
 * between false alarms) for any base quality, where Page–Hinkley's depends on the variance.
 *
 * @param shift       the smallest change of quality worth detecting, in (0, 1)
 * @param threshold   log-likelihood ratio at which it fires (> 0); {@link Double#POSITIVE_INFINITY}: never
 * @param minEvidence weight of answers a belief needs before its detector runs (≥ 0): a young
 *                    belief's mean is no reference yet
 */
public record ChangeDetector(double shift, double threshold, double minEvidence) {
    /** shift 0.2, threshold 12, after 10 answers (docs/routing.md has the figures behind them). */
    public static final ChangeDetector DEFAULTS = new ChangeDetector(0.2, 12, 10);

    /** Never fires: beliefs only accumulate (or fade, with a discount). */
    public static final ChangeDetector OFF = new ChangeDetector(0.2, Double.POSITIVE_INFINITY, 10);

    /** References closer to 0 or 1 than this are clamped, so the ratios stay finite. */
    static final double EDGE = 0.005;

    public ChangeDetector {
        if (!(shift > 0 && shift < 1) || !(threshold > 0) || !(minEvidence >= 0) || Double.isInfinite(minEvidence)) {
            throw new IllegalArgumentException("shift " + shift + ", threshold " + threshold + ", minEvidence "
                    + minEvidence + " (expected: shift in (0, 1), threshold > 0, minEvidence >= 0)");
        }
    }

    public boolean enabled() {
        return threshold != Double.POSITIVE_INFINITY;
    }

    /**
     * The log-likelihood ratio of quality {@code p1} against {@code p0} for score {@code s} counted
     * {@code w} times; 0 when the two are too close to tell apart.
     */
    static double ratio(double p0, double p1, double s, double w) {
        double a = Math.min(Math.max(p0, EDGE), 1 - EDGE);
        double b = Math.min(Math.max(p1, EDGE), 1 - EDGE);
        if (Math.abs(a - b) < 1e-3) {
            return 0;
        }
        // a 0 or a 1, as most scores are, needs one logarithm
        double good = s == 0 ? 0 : s * Math.log(b / a);
        double bad = s == 1 ? 0 : (1 - s) * Math.log((1 - b) / (1 - a));
        return w * (good + bad);
    }
}
