package io.brainstorm.proxy.settle;

/**
 * Where ended requests go: the audit trail, metrics, the dashboard's live feed.
 *
 * <p><b>Threading:</b> {@link #accept} is called on event loops, concurrently; it must not block
 * or do I/O (hand the record to a queue), and must not throw (a sink that fails is the sink's
 * problem: it logs and counts, the request is already answered).
 */
@FunctionalInterface
public interface CompletionSink {
    void accept(Completion completion);
}
