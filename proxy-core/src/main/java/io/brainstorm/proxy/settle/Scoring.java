package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.config.ScoringConfig;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Where answers that asked for structure are scored: the {@link Scorer} on threads of its own
 * ({@code br-score-N}, {@code scoring.threads}), since compiling and validating a client's schema
 * can take far more than the few microseconds an event loop can spare. Plain answers never come
 * here: their score (non-empty or not) is known on the event loop.
 *
 * <p>The verdict goes back to the caller's event loop ({@code back}); the request's spec
 * ({@link ScoreSpec#of}) is read on the scoring thread too, from the request body, which nobody
 * changes once the exchange has ended.
 *
 * <p><b>Overload.</b> At most {@link #QUEUE} answers wait; one more is not scored
 * ({@link ScoreOutcome#OVERLOADED}, counted), so scoring can never hold up answers or memory.
 *
 * <p><b>Threading:</b> thread-safe.
 */
public final class Scoring implements AutoCloseable {
    private static final System.Logger log = System.getLogger(Scoring.class.getName());
    static final int QUEUE = 10_000;

    private final ScoringConfig config;
    private final Scorer scorer;
    private final ThreadPoolExecutor executor;
    private final LongAdder overloaded = new LongAdder();

    private Scoring(ScoringConfig config) {
        this.config = config;
        this.scorer = new Scorer(config);
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(
                config.threads(), config.threads(), 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "br-score-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Starts the scoring threads (lazily: a thread starts with the first structured answer). */
    public static Scoring start(ScoringConfig config) {
        return new Scoring(config);
    }

    public ScoringConfig config() {
        return config;
    }

    public Scorer scorer() {
        return scorer;
    }

    /** Whether an answer to a request with these features goes through the scorer (and a stream needs a {@link StreamCapture}). */
    public boolean applies(boolean json, boolean tools) {
        return config.enabled() && (json || tools);
    }

    /** A side buffer for a structured stream ({@link Scorer#capture()}). */
    public StreamCapture capture() {
        return scorer.capture();
    }

    /** Answers not scored because the queue was full. */
    public long overloaded() {
        return overloaded.sum();
    }

    /**
     * Scores a whole answer's body against the request's spec; {@code then} runs on {@code back}.
     * Takes ownership of {@code body} (a retained duplicate of what went to the client): released
     * here whatever happens.
     */
    public void scoreAnswer(JsonNode requestBody, ByteBuf body, Executor back, Consumer<Scorer.Result> then) {
        submit(
                () -> {
                    try {
                        return scorer.scoreAnswer(ScoreSpec.of(requestBody, scorer), body);
                    } finally {
                        body.release();
                    }
                },
                body::release,
                back,
                then);
    }

    /** Scores what a stream said; {@code then} runs on {@code back}. */
    public void score(JsonNode requestBody, AnswerContent answer, Executor back, Consumer<Scorer.Result> then) {
        submit(() -> scorer.score(ScoreSpec.of(requestBody, scorer), answer), () -> {}, back, then);
    }

    private void submit(
            java.util.function.Supplier<Scorer.Result> job,
            Runnable onDropped,
            Executor back,
            Consumer<Scorer.Result> then) {
        try {
            executor.execute(new Job(job, onDropped, back, then));
        } catch (RejectedExecutionException e) {
            onDropped.run();
            overloaded.increment();
            then.accept(Scorer.result(ScoreOutcome.OVERLOADED));
        }
    }

    /** One answer to score; {@code onDropped} frees what it holds if it never runs. */
    private record Job(
            java.util.function.Supplier<Scorer.Result> job,
            Runnable onDropped,
            Executor back,
            Consumer<Scorer.Result> then)
            implements Runnable {
        @Override
        public void run() {
            Scorer.Result r;
            try {
                r = job.get();
            } catch (RuntimeException e) {
                log.log(System.Logger.Level.ERROR, "the scorer failed on an answer; it is not scored", e);
                r = Scorer.result(ScoreOutcome.SCHEMA_UNUSABLE);
            }
            Scorer.Result verdict = r;
            try {
                back.execute(() -> then.accept(verdict));
            } catch (RejectedExecutionException e) {
                log.log(System.Logger.Level.DEBUG, "a score arrived after its event loop stopped");
            }
        }
    }

    /** Stops the threads; answers still queued are dropped unscored. */
    @Override
    public void close() {
        for (Runnable r : executor.shutdownNow()) {
            if (r instanceof Job j) {
                j.onDropped().run();
            }
        }
    }
}
