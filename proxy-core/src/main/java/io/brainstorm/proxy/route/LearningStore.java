package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.Map;

/**
 * Where the {@link Belief}s live: per key (a candidate id for the shared belief, a tenant's key
 * from {@link Learning#tenantKey} for a tenant's) and task class. {@link Learning} is the model
 * over it; the state store keeps it in a file shared by the processes on one state directory, the
 * heap one ({@link InMemoryLearningStore}) in memory.
 *
 * <p><b>Threading:</b> implementations are thread-safe; {@link #belief} runs on event loops for
 * every candidate of every routed request, and must not block.
 */
public interface LearningStore {

    /** The belief under {@code key} for {@code taskClass}; {@link Belief#PRIOR} when nothing is known. */
    Belief belief(String key, TaskClass taskClass);

    /**
     * Adds one observation atomically ({@link Belief#observe}); concurrent observations are never
     * lost, and each key's are applied in the order they were made by one thread.
     */
    void observe(String key, TaskClass taskClass, Observation observation);

    /** Everything known: key → task class key → belief, for read-outs. */
    Map<String, Map<String, Belief>> snapshot();

    /**
     * Where the detector's firings go: each once, when the observation that fired it is applied to
     * the stored belief (for the state store, when its batch is written). Set once, before use.
     */
    void onReset(ResetListener listener);

    /** Told of every firing of a belief's change detector. */
    @FunctionalInterface
    interface ResetListener {
        void reset(String key, TaskClass taskClass, Belief.Reset reset, long nowMillis);
    }
}
