package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.state.StateStore;
import java.io.IOException;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the state-store benchmarks share: the {@code store} parameter (Chronicle files in a fresh
 * directory in /tmp, or the heap store for comparison), the {@link BenchStore} opened for each trial
 * and closed after it, and the flags Chronicle Map needs in the forked JVM (JMH reads
 * {@link Fork} from this superclass). A subclass says which {@link #options()} it needs and takes
 * what it measures from the store in {@link #opened(StateStore)}.
 */
@State(Scope.Thread)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "-Dchronicle.analytics.disable=true",
            "-Dchronicle.announcer.disable=true"
        })
public abstract class StateStoreBenchmark {
    @SuppressWarnings("NullAway.Init") // a @Param: JMH sets it before any @Setup
    @Param({"chronicle", "heap"})
    public String store;

    /** The store of this trial. */
    protected StateStore state;

    private BenchStore bench;

    /** The sizes of the Chronicle store; the defaults unless a subclass needs larger files. */
    protected StateStore.Options options() {
        return StateStore.Options.DEFAULTS;
    }

    /** Called once the store of a trial is open, off the clock. */
    protected abstract void opened(StateStore state) throws IOException;

    @Setup(Level.Trial)
    public void open() throws IOException {
        bench = BenchStore.open(store, options());
        state = bench.state;
        opened(state);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        bench.close();
    }
}
