package io.brainstorm.proxy.route;

import org.jspecify.annotations.Nullable;

/**
 * What is known of one candidate's answer quality for one task class, in one scope (the shared
 * belief, or one tenant's): a Beta posterior, its change detector's state, and for a tenant's
 * belief what its automatic outcomes put into the shared belief. Immutable; {@link #observe}
 * returns the next one. Stored as {@value #LONGS} longs ({@link #write}, {@link #read}).
 *
 * @param alpha          weight of good answers plus the prior's 1
 * @param beta           weight of bad answers plus the prior's 1
 * @param observations   answers observed (not weighted, not reset), for read-outs
 * @param down           the downward CUSUM statistic ({@link ChangeDetector})
 * @param downGood       good weight of the answers since {@code down} last left 0, the older
 *                       ones fading (see {@link #observe}): the recent window a firing restarts from
 * @param downBad        their bad weight
 * @param up             the upward statistic
 * @param upGood         good weight since {@code up} last left 0, fading likewise
 * @param upBad          their bad weight
 * @param resets         times the detector fired; a shared belief's contributions belong to one count
 * @param lastResetMillis when it last fired (0: never)
 * @param dropped        it last fired downward: the candidate is re-explored, and its evidence is
 *                       kept at most the detector's {@code minEvidence} so its mean follows those
 *                       answers, until an upward firing
 * @param contribGood    a tenant's belief: good weight of its automatic outcomes in the shared belief
 * @param contribBad     their bad weight
 * @param contribEpoch   the shared belief's {@code resets} those belong to (older ones count 0)
 */
public record Belief(
        double alpha,
        double beta,
        long observations,
        double down,
        double downGood,
        double downBad,
        double up,
        double upGood,
        double upBad,
        long resets,
        long lastResetMillis,
        boolean dropped,
        double contribGood,
        double contribBad,
        long contribEpoch) {

    /** Longs per belief in a state entry. */
    public static final int LONGS = 15;

    /** Nothing known: the uniform prior. */
    public static final Belief PRIOR = new Belief(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0);

    /** Which way a firing of the detector went. */
    public enum Direction {
        /** Quality fell: the candidate is dropped. */
        DOWN,
        /** Quality rose (a dropped candidate recovered, or an endpoint got better). */
        UP
    }

    /**
     * A firing of the detector.
     *
     * @param direction   which way
     * @param meanBefore  the belief's mean just before
     * @param meanAfter   its mean after the reset: that of the answers since the change
     * @param evidence    the weight of those answers
     */
    public record Reset(Direction direction, double meanBefore, double meanAfter, double evidence) {}

    /** The belief after one observation and, when the detector fired on it, the firing. */
    public record Step(Belief after, @Nullable Reset reset) {}

    public Posterior posterior() {
        return new Posterior(alpha, beta, observations);
    }

    public double mean() {
        return alpha / (alpha + beta);
    }

    /** Weight of answers behind it: α + β − 2. */
    public double evidence() {
        return alpha + beta - 2;
    }

    /**
     * The belief after {@code o}: the detector's statistics move on the score; then what was known
     * is discounted by {@code discount} and {@code o}'s weights are added (each of α, β kept ≥ 1);
     * then, when a statistic passed the threshold, the belief is replaced by its recent window: the
     * answers since the statistic left 0, each older one weighing {@code m / (m + 1)} of the next
     * ({@code m} the detector's {@code minEvidence}), so at most about {@code m + 1} answers of
     * weight, the latest ones, which came after the change even when the statistic left 0 a while
     * before it (see {@link ChangeDetector}).
     */
    public Step observe(Observation o, ChangeDetector detector, double discount) {
        double d = down;
        double dg = downGood;
        double db = downBad;
        double u = up;
        double ug = upGood;
        double ub = upBad;
        double p0 = mean();
        double fade = detector.minEvidence() / (detector.minEvidence() + 1);
        if (detector.enabled() && evidence() >= detector.minEvidence() && o.weight() > 0) {
            double s = o.score();
            double w = o.weight();
            double dn = d + ChangeDetector.ratio(p0, p0 - detector.shift(), s, w);
            if (dn > 0) {
                d = dn;
                dg = fade * dg + w * s;
                db = fade * db + w * (1 - s);
            } else {
                d = 0;
                dg = 0;
                db = 0;
            }
            double un = u + ChangeDetector.ratio(p0, p0 + detector.shift(), s, w);
            if (un > 0) {
                u = un;
                ug = fade * ug + w * s;
                ub = fade * ub + w * (1 - s);
            } else {
                u = 0;
                ug = 0;
                ub = 0;
            }
        }
        double a = Math.max(1, 1 + discount * (alpha - 1) + o.good());
        double b = Math.max(1, 1 + discount * (beta - 1) + o.bad());
        boolean drop = dropped;
        double cg = contribGood;
        double cb = contribBad;
        long ce = contribEpoch;
        double[] c = o.contribution();
        if (c != null) {
            cg = c[0];
            cb = c[1];
            ce = o.sharedEpoch();
        }
        Reset reset = null;
        long r = resets;
        long at = lastResetMillis;
        if (d > detector.threshold() || u > detector.threshold()) {
            Direction dir = d > detector.threshold() ? Direction.DOWN : Direction.UP;
            double g = dir == Direction.DOWN ? dg : ug;
            double x = dir == Direction.DOWN ? db : ub;
            a = 1 + g;
            b = 1 + x;
            drop = dir == Direction.DOWN;
            reset = new Reset(dir, p0, a / (a + b), g + x);
            r++;
            at = o.nowMillis();
            d = 0;
            dg = 0;
            db = 0;
            u = 0;
            ug = 0;
            ub = 0;
        } else if (drop && a + b - 2 > detector.minEvidence()) {
            // a dropped candidate's mean follows its recent answers, so a recovery shows
            double f = detector.minEvidence() / (a + b - 2);
            a = 1 + (a - 1) * f;
            b = 1 + (b - 1) * f;
        }
        return new Step(new Belief(a, b, observations + 1, d, dg, db, u, ug, ub, r, at, drop, cg, cb, ce), reset);
    }

    /** Writes this belief into {@code cell} at {@code offset}. */
    public void write(long[] cell, int offset) {
        cell[offset] = Double.doubleToRawLongBits(alpha);
        cell[offset + 1] = Double.doubleToRawLongBits(beta);
        cell[offset + 2] = observations;
        cell[offset + 3] = Double.doubleToRawLongBits(down);
        cell[offset + 4] = Double.doubleToRawLongBits(downGood);
        cell[offset + 5] = Double.doubleToRawLongBits(downBad);
        cell[offset + 6] = Double.doubleToRawLongBits(up);
        cell[offset + 7] = Double.doubleToRawLongBits(upGood);
        cell[offset + 8] = Double.doubleToRawLongBits(upBad);
        cell[offset + 9] = resets;
        cell[offset + 10] = lastResetMillis;
        cell[offset + 11] = dropped ? 1 : 0;
        cell[offset + 12] = Double.doubleToRawLongBits(contribGood);
        cell[offset + 13] = Double.doubleToRawLongBits(contribBad);
        cell[offset + 14] = contribEpoch;
    }

    /** The belief stored in {@code cell} at {@code offset}; {@link #PRIOR} where nothing was (α's bits 0). */
    public static Belief read(long[] cell, int offset) {
        if (cell[offset] == 0) {
            return PRIOR;
        }
        return new Belief(
                Double.longBitsToDouble(cell[offset]),
                Double.longBitsToDouble(cell[offset + 1]),
                cell[offset + 2],
                Double.longBitsToDouble(cell[offset + 3]),
                Double.longBitsToDouble(cell[offset + 4]),
                Double.longBitsToDouble(cell[offset + 5]),
                Double.longBitsToDouble(cell[offset + 6]),
                Double.longBitsToDouble(cell[offset + 7]),
                Double.longBitsToDouble(cell[offset + 8]),
                cell[offset + 9],
                cell[offset + 10],
                (cell[offset + 11] & 1) != 0,
                Double.longBitsToDouble(cell[offset + 12]),
                Double.longBitsToDouble(cell[offset + 13]),
                cell[offset + 14]);
    }
}
