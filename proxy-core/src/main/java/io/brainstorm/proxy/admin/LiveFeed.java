package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.CompletionSink;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * The dashboard's live request feed: every {@link Completion} goes to each subscriber (an open
 * {@code GET /dashboard/events}) allowed to see it, and the last {@value #REPLAY} of each tenant,
 * and of all tenants, are kept for a subscriber that just arrived.
 *
 * <p>A subscriber sees what its principal may: the super-admin every request (those refused before
 * authentication too), a tenant admin its tenant's only.
 *
 * <p><b>Threading.</b> {@link #accept} runs on the client listener's event loops and never blocks:
 * it appends to lock-free rings and to each subscriber's bounded lock-free queue, and asks the
 * subscriber to wake up (its {@code wakeUp} only schedules work, see {@link Subscriber}). A
 * subscriber that does not keep up loses the oldest of what waits in its queue, and is told how
 * much ({@link Subscriber#takeDropped()}), rather than making requests wait. Several event loops
 * accept at once: every shared write is a single compare-and-set or an atomic add (a failed
 * compare-and-set means another thread progressed), never a lock or a spin-wait on another
 * thread, so loops sharing one CPU cannot hold each other up; the readers (a new subscriber's
 * {@link #replay}, the senders' {@link Subscriber#poll}) only read or take, and an accept that
 * finds a queue full takes its oldest entry the way a sender would.
 *
 * <p>Nothing here holds a secret: the JSON sent ({@link Entry#json}) leaves out the prompt and the
 * answer even when the audit records them.
 */
public final class LiveFeed implements CompletionSink {
    /** Completions replayed to a new subscriber, at most. */
    public static final int REPLAY = 50;
    /** Completions waiting for one subscriber, at most; beyond it the oldest are dropped and counted. */
    public static final int QUEUE = 256;

    private final AtomicLong seq = new AtomicLong();
    private final Ring all = new Ring(REPLAY);
    private final Map<String, Ring> byTenant = new ConcurrentHashMap<>();
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();

    /** One completion with its place in the feed; its JSON is made once per form, when first sent. */
    public static final class Entry {
        private final long seq;
        private final Completion completion;
        private volatile @Nullable String withTenant;
        private volatile @Nullable String withoutTenant;

        Entry(long seq, Completion completion) {
            this.seq = seq;
            this.completion = completion;
        }

        public long seq() {
            return seq;
        }

        public Completion completion() {
            return completion;
        }

        /**
         * The event's JSON: time, request id, key id, requested and selected model, endpoint, strategy,
         * status, error code, stream, tokens, cost (USD), latency and TTFT (ms), fallbacks, score and its
         * outcome; {@code tenant} only when {@code tenant} is true (the super-admin's feed).
         */
        public String json(boolean tenant) {
            String s = tenant ? withTenant : withoutTenant;
            if (s == null) {
                // a race makes the same string twice: harmless
                s = toJson(completion, tenant);
                if (tenant) {
                    withTenant = s;
                } else {
                    withoutTenant = s;
                }
            }
            return s;
        }
    }

    /**
     * One open event stream. {@link #offer} (any thread) never blocks; {@code wakeUp} runs after an
     * offer found the subscriber idle, and must only schedule the sending (on the connection's event
     * loop), which then {@link #poll}s until empty.
     */
    public static final class Subscriber {
        private final AdminPrincipal principal;
        private final int capacity;
        private final Runnable wakeUp;
        private final Queue<Entry> queue = new ConcurrentLinkedQueue<>();
        private final AtomicInteger size = new AtomicInteger();
        private final AtomicLong dropped = new AtomicLong();
        private final AtomicBoolean awake = new AtomicBoolean();

        Subscriber(AdminPrincipal principal, int capacity, Runnable wakeUp) {
            this.principal = principal;
            this.capacity = capacity;
            this.wakeUp = wakeUp;
        }

        public AdminPrincipal principal() {
            return principal;
        }

        /**
         * Queues {@code e}; when {@code capacity} wait already, the oldest waiting entry makes room and
         * is counted dropped. The newest are kept: a page that fell behind and reads again shows what
         * happens now, and a completion made after it caught up is never the one lost.
         */
        void offer(Entry e) {
            // in the queue before it is counted: a sender that sees the count finds the entry
            queue.offer(e);
            boolean full = size.incrementAndGet() > capacity;
            // one out for one in, so the queue stays within capacity (plus the offers in flight);
            // null only when the sender took everything meanwhile: then nothing needed to go
            if (full && queue.poll() != null) {
                size.decrementAndGet();
                dropped.incrementAndGet();
            }
            if (awake.compareAndSet(false, true)) {
                wakeUp.run();
            }
        }

        /**
         * The next waiting entry, or null. When it gets null the sender calls {@link #sleep()}, which
         * says whether to go on: an offer racing with the end of a round is not left behind.
         */
        public Entry poll() {
            Entry e = queue.poll();
            if (e != null) {
                size.decrementAndGet();
            }
            return e;
        }

        /**
         * The sender is done with this round: the next offer wakes it. Returns true when entries arrived
         * meanwhile and the sender is to go on (it is awake again); false when it may stop.
         */
        public boolean sleep() {
            awake.set(false);
            return size.get() > 0 && awake.compareAndSet(false, true);
        }

        /** Entries dropped since the last call. */
        public long takeDropped() {
            return dropped.getAndSet(0);
        }

        /** Entries waiting. */
        public int waiting() {
            // an entry taken before its offer counted it reads as -1 for that moment
            return Math.max(0, size.get());
        }
    }

    /** A fixed ring of the latest entries, lock-free: a slot per sequence number modulo its length. */
    private static final class Ring {
        private final AtomicReferenceArray<Entry> slots;

        Ring(int length) {
            slots = new AtomicReferenceArray<>(length);
        }

        void put(Entry e) {
            slots.set((int) (e.seq % slots.length()), e);
        }

        void addTo(List<Entry> out) {
            for (int i = 0; i < slots.length(); i++) {
                Entry e = slots.get(i);
                if (e != null) {
                    out.add(e);
                }
            }
        }
    }

    @Override
    public void accept(Completion completion) {
        Entry e = new Entry(seq.incrementAndGet(), completion);
        all.put(e);
        String tenant = completion.tenant();
        if (tenant != null) {
            byTenant.computeIfAbsent(tenant, t -> new Ring(REPLAY)).put(e);
        }
        for (Subscriber s : subscribers) {
            if (s.principal.canAccess(tenant)) {
                s.offer(e);
            }
        }
    }

    /**
     * A new subscriber for {@code who}: gets every completion from now on that {@code who} may see.
     * Call {@link #replay} after this, and skip live entries the replay had (by {@link Entry#seq()}).
     */
    public Subscriber subscribe(AdminPrincipal who, Runnable wakeUp) {
        return subscribe(who, QUEUE, wakeUp);
    }

    Subscriber subscribe(AdminPrincipal who, int capacity, Runnable wakeUp) {
        Subscriber s = new Subscriber(who, capacity, wakeUp);
        subscribers.add(s);
        return s;
    }

    public void unsubscribe(Subscriber s) {
        subscribers.remove(s);
    }

    /** Open event streams. */
    public int subscribers() {
        return subscribers.size();
    }

    /** The last (at most {@value #REPLAY}) completions {@code who} may see, oldest first. */
    public List<Entry> replay(AdminPrincipal who) {
        List<Entry> out = new ArrayList<>(REPLAY);
        if (who.superAdmin()) {
            all.addTo(out);
        } else {
            Ring r = byTenant.get(who.tenant());
            if (r != null) {
                r.addTo(out);
            }
        }
        out.sort(Comparator.comparingLong(Entry::seq));
        return out;
    }

    private static String toJson(Completion c, boolean tenant) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("time", Instant.ofEpochMilli(c.atMillis()).toString());
        o.put("request_id", c.requestId());
        if (tenant) {
            o.put("tenant", c.tenant());
        }
        o.put("key_id", c.keyId());
        o.put("operation", c.operation());
        o.put("model", c.requestedModel());
        o.put("selected_model", c.selectedModel());
        o.put("endpoint", c.endpoint());
        o.put("strategy", c.strategy());
        o.put("status", c.status());
        o.put("error_code", c.errorCode());
        o.put("stream", c.stream());
        o.put("prompt_tokens", c.promptTokens());
        o.put("completion_tokens", c.completionTokens());
        o.putRawValue("cost_usd", UsageView.usd(c.costNanoUsd()));
        o.put("cost_estimated", c.costEstimated());
        o.put("latency_ms", c.latencyMicros() / 1000.0);
        if (c.ttftMicros() >= 0) {
            o.put("ttft_ms", c.ttftMicros() / 1000.0);
        } else {
            o.putNull("ttft_ms");
        }
        o.put("fallbacks", c.fallbacks());
        if (c.scored()) {
            o.put("score", c.score());
        } else {
            o.putNull("score");
        }
        o.put(
                "score_outcome",
                c.scoreOutcome() == null ? null : c.scoreOutcome().label());
        return Json.write(o);
    }
}
