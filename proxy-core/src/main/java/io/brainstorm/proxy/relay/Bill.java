package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.Usage;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * What a request cost, and the end of its hold on the key's budget.
 *
 * <p><b>Budget.</b> The request's {@link Ticket} ends exactly once: settled with the answer's cost;
 * for a stream that broke or that the client left, with the prompt estimate plus one completion
 * token per content event relayed (docs/architecture.md §6); for a whole answer the client left while the
 * provider had the request, with the prompt estimate; when the request ends in
 * {@code upstream_invalid_response} (the last attempt answered 2xx with something unusable), with
 * the prompt estimate too; released when no provider produced anything billable.
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class Bill {
    private final Ticket ticket;
    /** The prompt's estimated tokens, charged when the provider reported no usage. */
    private final long promptEstimate;
    /** What the answer cost, as settled; for the completion record. */
    private @Nullable Usage usage;

    private long costNano;
    private boolean estimated;

    Bill(Ticket ticket, long promptEstimate) {
        this.ticket = ticket;
        this.promptEstimate = promptEstimate;
    }

    /** Ends the budget hold with {@code u}'s cost at {@code e}'s price, and keeps it for the completion record. */
    void settle(Usage u, boolean estimated, Endpoint e) {
        usage = u;
        this.estimated = estimated;
        costNano = Cost.nanoUsd(u, e.price());
        ticket.settle(costNano);
    }

    /**
     * Settles what a stream cost when the provider reported no usage (or the stream broke), or a
     * request whose prompt the provider had with nothing relayed: the prompt estimate, and one
     * completion token per content event relayed.
     */
    void settleEstimate(long relayedEvents, Endpoint e) {
        settle(new Usage(promptEstimate, relayedEvents, 0, 0), true, e);
    }

    /** Nothing billable came back: the hold is freed (a no-op once settled). */
    void release() {
        ticket.release();
    }

    /** Whether the budget hold ended (settled or released). */
    boolean ended() {
        return ticket.ended();
    }

    /** The gateway failed before the request was settled: the completion record says nothing was charged. */
    void nothingCharged() {
        if (!ticket.ended()) {
            usage = null;
            costNano = 0;
            estimated = false;
        }
    }

    /** An error answer after a settled cost says what was charged. */
    void costHeaders(HttpHeaders h) {
        if (usage != null) {
            h.set(Headers.ACTUAL_COST, Cost.formatUsd(costNano));
            h.set(Headers.COST_ESTIMATED, estimated);
        }
    }

    /** The usage settled, or null. */
    @Nullable
    Usage usage() {
        return usage;
    }

    long costNano() {
        return costNano;
    }

    boolean estimated() {
        return estimated;
    }
}
