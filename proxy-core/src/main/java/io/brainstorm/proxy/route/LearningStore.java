package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.Map;

/**
 * The learnt quality of every endpoint per task class (docs/architecture.md §5): what {@code :best},
 * {@code :smart} and {@code auto} route by. The core owns it and hands it to strategies in
 * {@link io.brainstorm.proxy.spi.EndpointStats}.
 *
 * <p>Behind an interface so it can live in memory, in the Chronicle Map state files or in Redis.
 * Keys are {@link io.brainstorm.proxy.spi.Candidate#id()}s ({@code model@endpoint}) and
 * {@link TaskClass}es.
 *
 * <p><b>Threading:</b> implementations are thread-safe; {@link #posterior} is called on the
 * request path for every candidate and must not block or allocate much.
 */
public interface LearningStore {

    /** The belief for {@code candidateId} and {@code taskClass}; {@link Posterior#PRIOR} when nothing is known. */
    Posterior posterior(String candidateId, TaskClass taskClass);

    /**
     * Adds one observation atomically (see {@link Posterior#update}); concurrent updates are never lost.
     *
     * @param score  answer quality 0..1
     * @param weight how much it counts (1 for the gateway's own judgement; feedback counts more)
     */
    void observe(String candidateId, TaskClass taskClass, double score, double weight);

    /** Everything known: candidate id → task class key → belief, for read-outs. */
    Map<String, Map<String, Posterior>> snapshot();
}
