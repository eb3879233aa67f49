package io.brainstorm.proxy.route;

/**
 * A Beta(α, β) belief about the quality of one endpoint's answers for one task class.
 *
 * @param alpha        weight of good answers plus the prior's 1
 * @param beta         weight of bad answers plus the prior's 1
 * @param observations updates applied (not discounted), for read-outs
 */
public record Posterior(double alpha, double beta, long observations) {
    /** The uniform prior: nothing known, mean 0.5. */
    public static final Posterior PRIOR = new Posterior(1, 1, 0);

    public Posterior {
        if (!(alpha > 0) || !(beta > 0) || Double.isInfinite(alpha) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("Beta(" + alpha + ", " + beta + ") (expected: finite α > 0 and β > 0)");
        }
    }

    public double mean() {
        return alpha / (alpha + beta);
    }

    /**
     * The belief after one more answer of quality {@code score} counted {@code weight} times, with
     * what was known before discounted by {@code discount} towards the prior:
     * α ← 1 + γ(α − 1) + w·s, β ← 1 + γ(β − 1) + w·(1 − s). With γ &lt; 1 old answers fade, so an
     * endpoint whose quality drops is noticed within about 1 / (1 − γ) answers.
     */
    public Posterior update(double score, double weight, double discount) {
        if (!(score >= 0 && score <= 1) || !(weight >= 0) || !(discount > 0 && discount <= 1)) {
            throw new IllegalArgumentException("score " + score + ", weight " + weight + ", discount " + discount
                    + " (expected: score 0..1, weight >= 0, discount in (0, 1])");
        }
        return new Posterior(
                1 + discount * (alpha - 1) + weight * score,
                1 + discount * (beta - 1) + weight * (1 - score),
                observations + 1);
    }
}
