package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.TaskClass;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which endpoint answered which request, for {@code POST /v1/feedback} (DESIGN §5): an
 * application's verdict on an answer goes to the learning state of the endpoint that gave it, for
 * the request's task class.
 *
 * <p>Entries are kept {@link #RETENTION_MILLIS} (7 days) and at most {@code capacity} of them,
 * the oldest dropped first, so under heavy load a request can be scored only for as long as it is
 * among the last {@code capacity} answers. They live on the heap: feedback on a request answered
 * before a restart gets a 404.
 *
 * <p><b>Threading:</b> thread-safe; {@link #remember} runs on event loops and does not block.
 */
public final class AnswerLog {
    /** How long a request id can be scored. */
    public static final long RETENTION_MILLIS = 7L * 24 * 3600 * 1000;

    /**
     * One answered request.
     *
     * @param tenant      who asked: only this tenant may score it
     * @param candidateId the endpoint that answered ({@code model@endpoint})
     * @param taskClass   the request's task class
     * @param atMillis    when it was answered
     */
    public record Answer(String tenant, String candidateId, TaskClass taskClass, long atMillis) {
    }

    private final int capacity;
    private final ConcurrentHashMap<String, Answer> byRequestId = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();

    public AnswerLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
        }
        this.capacity = capacity;
    }

    public void remember(String requestId, Answer answer) {
        if (byRequestId.putIfAbsent(requestId, answer) != null) {
            return;
        }
        order.add(requestId);
        if (size.incrementAndGet() > capacity) {
            String oldest = order.poll();
            if (oldest != null) {
                byRequestId.remove(oldest);
                size.decrementAndGet();
            }
        }
    }

    /** The answer to {@code requestId} if it was given to {@code tenant} within the retention; else null. */
    public Answer find(String requestId, String tenant, long nowMillis) {
        Answer a = byRequestId.get(requestId);
        if (a == null || !a.tenant().equals(tenant) || nowMillis - a.atMillis() > RETENTION_MILLIS) {
            return null;
        }
        return a;
    }
}
