package io.brainstorm.proxy.state;

/**
 * What a shared state store reports about budget writes that had to wait for it, for the audit
 * trail (docs/audit.md, {@code "type":"state"} records). The store calls these at most once per
 * episode transition, never once per request; counts only, never key ids.
 *
 * <p><b>Threading.</b> Called from the store's threads (its writer, or the thread of a write that
 * found the store away); an implementation must return at once and never block or throw.
 *
 * <p><b>Errors.</b> An implementation that cannot keep an event (a full queue) counts it as lost on
 * its side; the store does not retry.
 */
public interface StoreEvents {
    /** Reports nothing: the audit trail is disabled, or no one listens. */
    StoreEvents NONE = new StoreEvents() {
        @Override
        public void writesWaiting(long atMillis, String firstWrite) {}

        @Override
        public void waitingWritten(long writes, long settledNano, long journaledNano, long fromMillis, long toMillis) {}

        @Override
        public void writesLost(long atMillis, long writes, String reason) {}
    };

    /**
     * Budget writes started to wait for the store (it cannot be reached).
     *
     * @param atMillis   when the first write had to wait
     * @param firstWrite its kind: {@code settle}, {@code release} or {@code journal}
     */
    void writesWaiting(long atMillis, String firstWrite);

    /**
     * The writes that waited are written: the episode {@link #writesWaiting} began is over.
     *
     * @param writes        writes written while the episode lasted
     * @param settledNano   the spend of the settles among them, nano-USD
     * @param journaledNano the spend of the journal batches among them, nano-USD
     * @param fromMillis    when the first write had to wait
     * @param toMillis      when the last was written
     */
    void waitingWritten(long writes, long settledNano, long journaledNano, long fromMillis, long toMillis);

    /**
     * Writes that will never be written.
     *
     * @param atMillis when this was noticed
     * @param writes   how many since the last such report for this reason
     * @param reason   why, without key ids or secrets
     */
    void writesLost(long atMillis, long writes, String reason);
}
