package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Which endpoint answered which request, for {@code POST /v1/feedback} (docs/architecture.md §5): an
 * application's verdict on an answer goes to the learning state of the endpoint that gave it, for
 * the request's task class. Request ids can be scored for {@link #RETENTION_MILLIS} (7 days).
 *
 * <p>The state store's log ({@code StateStore.answers()}) keeps them in day files shared by the
 * gateway processes on the state directory, across restarts; {@link InMemoryAnswerLog} keeps the
 * last few thousand on the heap.
 *
 * <p>With {@code state_store: redis}, {@code state.redis.RedisAnswerLog} keeps them in Redis, so
 * feedback sent to any gateway finds an answer given by another.
 *
 * <p><b>Threading:</b> thread-safe; {@link #remember} and {@link #lookup} run on event loops and
 * do not block. {@link #find} does not block either, except in a log kept off the host (Redis),
 * where it waits for the answer: there, event loops call {@link #lookup}.
 */
public interface AnswerLog {
    /** How long a request id can be scored. */
    long RETENTION_MILLIS = 7L * 24 * 3600 * 1000;

    /**
     * One answered request.
     *
     * @param tenant      who asked: only this tenant may score it
     * @param candidateId the endpoint that answered ({@code model@endpoint})
     * @param taskClass   the request's task class
     * @param atMillis    when it was answered
     */
    record Answer(String tenant, String candidateId, TaskClass taskClass, long atMillis) {}

    /**
     * Remembers that {@code answer} was given to {@code requestId}; the first answer to an id
     * stands. Never throws: the answer is on its way to the client already, so an entry that
     * cannot be kept is dropped (and logged).
     */
    void remember(String requestId, Answer answer);

    /** The answer to {@code requestId} if it was given to {@code tenant} within the retention; else null. */
    @Nullable
    Answer find(String requestId, String tenant, long nowMillis);

    /**
     * {@link #find} without blocking: completes with the answer, or null, on whichever thread has
     * it (at once for a log on the host). A log kept off the host fails the future when it cannot
     * be asked (the caller answers 503 {@code state_unavailable}, not 404).
     */
    default CompletionStage<@Nullable Answer> lookup(String requestId, String tenant, long nowMillis) {
        try {
            return CompletableFuture.completedFuture(find(requestId, tenant, nowMillis));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
