package io.brainstorm.proxy.settle;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The gateway's fan-out of {@link Completion}s to every registered {@link CompletionSink}, in the
 * order they were added. A sink that throws is logged (once per sink class) and the others still
 * get the record.
 *
 * <p><b>Threading:</b> {@link #add} and {@link #remove} at any time; {@link #accept} on event loops.
 */
public final class Completions implements CompletionSink {
    private static final System.Logger log = System.getLogger(Completions.class.getName());

    private final List<CompletionSink> sinks = new CopyOnWriteArrayList<>();
    private final java.util.Set<Class<?>> complained = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public void add(CompletionSink sink) {
        sinks.add(sink);
    }

    public void remove(CompletionSink sink) {
        sinks.remove(sink);
    }

    @Override
    public void accept(Completion completion) {
        for (CompletionSink s : sinks) {
            try {
                s.accept(completion);
            } catch (RuntimeException e) {
                if (complained.add(s.getClass())) {
                    log.log(
                            System.Logger.Level.ERROR,
                            "completion sink " + s.getClass().getName() + " failed",
                            e);
                }
            }
        }
    }
}
