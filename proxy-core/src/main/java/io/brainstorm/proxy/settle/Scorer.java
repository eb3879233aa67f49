package io.brainstorm.proxy.settle;

import io.brainstorm.proxy.config.ScoringConfig;
import io.netty.buffer.ByteBuf;

/**
 * Scores answers 0..1 by DESIGN §8. Holds the compiled-schema cache (by the schema's hash).
 * STUB: the scorer's author replaces the bodies; the signatures are the contract.
 *
 * <p><b>Threading:</b> thread-safe.
 */
public final class Scorer {
    /** A verdict: the score (0..1, or {@link Completion#NO_SCORE}) and why. */
    public record Result(double score, ScoreOutcome outcome) {
    }

    public static final Result ERROR = new Result(0, ScoreOutcome.ERROR);
    public static final Result NOT_APPLICABLE = new Result(Completion.NO_SCORE, ScoreOutcome.NOT_APPLICABLE);

    private final ScoringConfig config;

    public Scorer(ScoringConfig config) {
        this.config = config;
    }

    public ScoringConfig config() {
        return config;
    }

    /**
     * Scores a whole {@code chat.completion} body (2xx). Does not release {@code body} nor move its
     * indexes.
     */
    public Result scoreAnswer(ScoreSpec spec, ByteBuf body) {
        return new Result(1, ScoreOutcome.PLAIN_OK);
    }

    /** Scores an answer's content, e.g. assembled from a stream. */
    public Result score(ScoreSpec spec, AnswerContent answer) {
        return new Result(1, ScoreOutcome.PLAIN_OK);
    }
}
