package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.state.StateStore;
import java.io.IOException;
import java.time.LocalDate;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every answered request writes to the state store, from two threads at once as from two
 * event loops: {@link Learning#answered} of the answering candidate (the same one on both
 * threads, so both write its shared and tenant entries) then {@link AnswerLog#remember} of a new request id, on the
 * Chronicle store (a fresh state directory in /tmp) and on the heap one; {@code posterior} is the
 * read routing makes of that candidate. Each iteration answers on a day of its own, opened ahead
 * in its setup, so no answer file fills during a run. The teardown prints how many answers the
 * store dropped because they came faster than its flush thread writes them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(2)
public class OutcomeStateBenchmark extends StateStoreBenchmark {
    private static final long DAY_MILLIS = 24L * 3600 * 1000;
    private static final String CANDIDATE = "openai/gpt-4o-mini@openai-east";
    private static final TaskClass TASK_CLASS = TaskClass.of(false, true, 2_000);

    @SuppressWarnings("NullAway.Init") // set in opened(), which the superclass's @Setup open() calls
    private Learning learning;

    @SuppressWarnings("NullAway.Init") // set in opened(), which the superclass's @Setup open() calls
    private AnswerLog answers;

    private volatile long now = System.currentTimeMillis();
    private long iterations;

    /** One thread's request ids. */
    @State(Scope.Thread)
    public static class Ids {
        private final String prefix =
                "req_7Qm2cXw9Lr4T" + Thread.currentThread().getId() + "_";
        private long counter;
    }

    @Override
    protected StateStore.Options options() {
        // a day file five times as large as the default, so that a one-second iteration cannot fill it
        return new StateStore.Options(35, 1_000_000);
    }

    @Override
    protected void opened(StateStore state) {
        learning = new Learning(state.learning(LearningSettings.DEFAULTS), LearningSettings.DEFAULTS);
        answers = state.answers();
    }

    /** The next iteration answers on a day of its own, whose file is opened here, off the clock. */
    @Setup(Level.Iteration)
    public void nextDay() throws IOException {
        if (iterations++ > 0) {
            now += DAY_MILLIS;
        }
        state.prepareDay(LocalDate.ofEpochDay(Math.floorDiv(now, DAY_MILLIS)));
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.println("answers dropped (queue full): " + state.answersDropped());
    }

    @Benchmark
    public String answered(Ids t) {
        learning.answered("acme", CANDIDATE, TASK_CLASS, 1.0, now);
        String id = t.prefix + t.counter++;
        answers.remember(id, new AnswerLog.Answer("acme", CANDIDATE, TASK_CLASS, now));
        return id;
    }

    @Benchmark
    public Posterior posterior() {
        return learning.posterior("acme", CANDIDATE, TASK_CLASS);
    }
}
