package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.state.redis.RedisLimits;
import io.brainstorm.proxy.state.redis.RedisLink;
import io.brainstorm.proxy.state.redis.RedisState;
import org.HdrHistogram.Histogram;

/**
 * The Redis state store's families in {@code /metrics} (docs/metrics.md), with {@code state_store:
 * redis}: command latency by purpose, failed commands, whether the connection is up, reconnects,
 * budget writes waiting for Redis, and requests refused or served unchecked while it was away.
 *
 * <p><b>Threading:</b> rendered under the scrape's lock; the latency histograms are Lettuce-side
 * {@code Recorder}s whose intervals are added here at each scrape.
 */
public final class RedisMetrics {
    /** Upper bounds of the latency buckets, in seconds: 100 µs to 1 s. */
    private static final String[] LE = {
        "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1"
    };

    private static final long[] LE_NANOS = {
        100_000,
        250_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
        10_000_000,
        25_000_000,
        50_000_000,
        100_000_000,
        250_000_000,
        500_000_000,
        1_000_000_000
    };

    private final RedisLink link;
    /** The registry's own link (Main opens it before the state's), whose commands count under op="registry". */
    private volatile @org.jspecify.annotations.Nullable RedisLink registryLink;

    private final Histogram[] total = new Histogram[RedisLink.Op.values().length];
    private final Histogram[] recycle = new Histogram[RedisLink.Op.values().length];

    private RedisMetrics(RedisLink link) {
        this.link = link;
        for (RedisLink.Op op : RedisLink.Op.values()) {
            total[op.ordinal()] = new Histogram(60_000_000_000L, 2);
        }
    }

    /** Adds the families of {@code redis} to {@code m}; the returned read-out takes the registry's link later. */
    public static RedisMetrics register(Metrics m, RedisState redis) {
        RedisMetrics r = new RedisMetrics(redis.link());
        RedisLimits limits = redis.limits();
        m.addFamily("brainstorm_state_store_command_seconds", r::latency);
        m.addFamily("brainstorm_state_store_errors_total", r::errors);
        m.addGauge(
                "brainstorm_state_store_connected",
                "1 while the gateway's connection to the Redis state store is up, else 0.",
                () -> redis.link().connected() ? 1 : 0);
        m.addCounter(
                "brainstorm_state_store_disconnects_total",
                "Times the connection to the Redis state store was lost (Lettuce reconnects by itself).",
                redis.link()::disconnects);
        m.addGauge(
                "brainstorm_state_store_deferred_writes",
                "Budget writes (settles, releases, spend of keys without a budget) waiting for Redis, in order.",
                limits::deferred);
        m.addCounter(
                "brainstorm_state_store_deferred_writes_total",
                "Budget writes that had to wait for Redis (each is written once it answers).",
                limits::deferredTotal);
        m.addCounter(
                "brainstorm_state_store_lost_writes_total",
                "Budget writes lost: the waiting queue was full, Redis refused one, or they still waited at shutdown.",
                limits::lost);
        m.addCounter(
                "brainstorm_state_store_unavailable_total",
                "Requests of keys with a budget or rate limit refused with 503 state_unavailable because Redis could"
                        + " not be reached (redis.on_unavailable: closed).",
                limits::refusedUnavailable);
        m.addCounter(
                "brainstorm_state_store_unchecked_total",
                "Requests of keys with a budget or rate limit served without them because Redis could not be"
                        + " reached (redis.on_unavailable: open).",
                limits::servedOpen);
        return r;
    }

    /** Counts the commands of the registry's link under {@code op="registry"}. */
    public void registryLink(RedisLink registry) {
        this.registryLink = registry;
    }

    /** The link whose commands count under {@code op}. */
    private RedisLink linkOf(RedisLink.Op op) {
        RedisLink r = registryLink;
        return op == RedisLink.Op.REGISTRY && r != null ? r : link;
    }

    private void latency(Exposition x) {
        String name = "brainstorm_state_store_command_seconds";
        x.family(name, "histogram", "Latency of the Redis state store's commands, by what they were for.");
        for (RedisLink.Op op : RedisLink.Op.values()) {
            int i = op.ordinal();
            Histogram interval = linkOf(op).takeLatency(op, recycle[i]);
            total[i].add(interval);
            recycle[i] = interval;
            Histogram h = total[i];
            for (int b = 0; b < LE.length; b++) {
                x.sample(name + "_bucket", "op", op.label(), "le", LE[b])
                        .value(h.getCountBetweenValues(0, LE_NANOS[b]));
            }
            x.sample(name + "_bucket", "op", op.label(), "le", "+Inf").value(h.getTotalCount());
            x.sample(name + "_sum", "op", op.label()).value(sumNanos(h), 9);
            x.sample(name + "_count", "op", op.label()).value(h.getTotalCount());
        }
    }

    private void errors(Exposition x) {
        String name = "brainstorm_state_store_errors_total";
        x.family(
                name,
                "counter",
                "Redis state store commands that failed (an error, a timeout, Redis unreachable), by"
                        + " what they were for.");
        for (RedisLink.Op op : RedisLink.Op.values()) {
            x.sample(name, "op", op.label()).value(linkOf(op).errors(op));
        }
    }

    /** The sum of the recorded values, from the histogram's buckets (within its 2 digits of precision). */
    private static long sumNanos(Histogram h) {
        double mean = h.getMean();
        return Math.round(mean * h.getTotalCount());
    }
}
