package io.brainstorm.proxy.state.redis;

import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.Reservation;
import io.lettuce.core.KeyValue;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Per-key daily budgets in Redis, shared by every gateway that uses the same Redis: reserve, then
 * settle or release (docs/architecture.md §6), with the same verdicts and figures as the files
 * ledger ({@code state.BudgetLedger}), each step one Lua script ({@link RedisBudgetScripts}).
 *
 * <p><b>Keys.</b> Per (key, day), four keys that share the hash tag {@code {<key id>}}, so on Redis
 * Cluster they live in one slot and a script may touch them all: {@code <prefix>budget:{id}:<day>}
 * (a hash of spent, requests, reserved, open), {@code <prefix>holds:{id}:<day>} (reservation id →
 * amount), {@code <prefix>deadlines:{id}:<day>} (reservation id → when its hold lapses) and
 * {@code <prefix>lapsed:{id}:<day>} (holds that lapsed before they ended). They expire at the end of
 * the key's day in its time zone plus {@link #dayMargin()} (default {@link #DEFAULT_DAY_MARGIN}).
 * Money is integer nano-USD.
 *
 * <p><b>Holds.</b> A granted reservation is held until its settle or release, or until its hold
 * lapses {@code holdTtl} after it was made (by Redis's clock, so gateways' clocks do not matter):
 * the next reserve on that (key, day) releases it then, which is how a gateway killed mid-request
 * gives its money back. A settle that comes after its hold lapsed still charges once.
 *
 * <p><b>Idempotence.</b> A reservation's id in Redis is this instance's random 64-bit tag plus its
 * {@link Reservation#id()}; settle and release remove it in the same step as they change the
 * figures, so a retried settle (Lettuce resends commands after a reconnect) charges once. Only the
 * instance that granted a reservation may end it.
 *
 * <p><b>Threading:</b> thread-safe and non-blocking: every call returns a future that Lettuce
 * completes on its I/O thread; keep what runs on it short.
 *
 * <p><b>Errors:</b> arguments out of range throw {@link IllegalArgumentException} at once; Redis's
 * errors and timeouts fail the future ({@link RedisBudgetScripts}).
 */
public final class RedisBudgets {
    /**
     * How long a day's keys outlive its end. A settle of a request that crossed midnight and a
     * gateway's clock a little behind need minutes; two days keep yesterday's figures readable for
     * a whole day in every time zone, at the cost of two more hashes per active key.
     */
    public static final Duration DEFAULT_DAY_MARGIN = Duration.ofDays(2);
    /** Lua computes with doubles, exact up to 2^53; amounts and settles stay below (about $9 million). */
    static final long MAX_AMOUNT_NANO = 1L << 53;

    private static final Reservation.Verdict[] VERDICTS = {
        Reservation.Verdict.GRANTED, Reservation.Verdict.BUSY, Reservation.Verdict.EXCEEDED
    };

    /** How a settle or release ended. */
    public enum Ending {
        /** It ended its hold now. */
        ENDED,
        /** Its hold had lapsed (its money was released already); a settle still charged. */
        LAPSED,
        /** It had ended before (a retry), or was never granted: nothing changed. */
        ALREADY_ENDED
    }

    private final RedisAsyncCommands<String, String> redis;
    private final RedisBudgetScripts scripts;
    private final String prefix;
    private final Duration holdTtl;
    private final Duration dayMargin;
    private final String instance;
    private final AtomicLong ids = new AtomicLong();

    /**
     * @param prefix    put before every key ({@code redis.key_prefix}); no braces
     * @param holdTtl   how long a hold lasts unless ended: longer than any request may run
     * @param dayMargin how long a day's keys outlive its end
     */
    public RedisBudgets(
            RedisAsyncCommands<String, String> redis,
            RedisBudgetScripts scripts,
            String prefix,
            Duration holdTtl,
            Duration dayMargin) {
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException(
                    "prefix: \"" + prefix + "\" (expected: no braces, which would change the hash tag)");
        }
        if (holdTtl.toMillis() <= 0 || dayMargin.isNegative()) {
            throw new IllegalArgumentException(
                    "holdTtl: " + holdTtl + ", dayMargin: " + dayMargin + " (expected: > 0 ms, >= 0)");
        }
        this.redis = redis;
        this.scripts = scripts;
        this.prefix = prefix;
        this.holdTtl = holdTtl;
        this.dayMargin = dayMargin;
        byte[] tag = new byte[8];
        new SecureRandom().nextBytes(tag);
        this.instance = HexFormat.of().formatHex(tag);
    }

    public Duration dayMargin() {
        return dayMargin;
    }

    /**
     * Reserves {@code amountNano} on (keyId, day) if {@code spent + reserved + amountNano <=
     * budgetNano}, in one atomic step; else says why, as {@code BudgetLedger.reserve} does.
     *
     * @param zone the key's time zone: its day ends at the next midnight there
     */
    public CompletionStage<Reservation> reserve(
            String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano) {
        Reserve r = prepare(keyId, day, zone, amountNano, budgetNano);
        return scripts.reserve(r.keys(), r.args()).thenApply(r::reservation);
    }

    /**
     * A rate check ({@code acquire.lua}, prepared by {@link RedisRates}) and then, if it counted the
     * request, a reservation, in one atomic step: one round trip for a key with both limits. As the
     * two apart, the request stays counted in its minute when the budget refuses it.
     *
     * @return a future of the millis to wait when the rate limit refused (0 otherwise) and the
     *         reservation (null when the rate limit refused)
     */
    CompletionStage<Admitted> admit(
            RedisRates.Acquire rate, String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano) {
        Reserve r = prepare(keyId, day, zone, amountNano, budgetNano);
        String[] keys = new String[1 + r.keys().length];
        keys[0] = rate.key();
        System.arraycopy(r.keys(), 0, keys, 1, r.keys().length);
        String[] args = new String[rate.args().length + r.args().length];
        System.arraycopy(rate.args(), 0, args, 0, rate.args().length);
        System.arraycopy(r.args(), 0, args, rate.args().length, r.args().length);
        return scripts.admit(keys, args)
                .thenApply(a -> (Long) a.get(0) < 0
                        ? new Admitted(rate.waitMillis(), null)
                        : new Admitted(0, r.reservation(a)));
    }

    /** What {@link #admit} decided: a wait for the rate limit, or the budget's verdict. */
    record Admitted(long waitMillis, @Nullable Reservation reservation) {}

    /** One reservation's keys and arguments for {@code reserve.lua}, and how its answer reads. */
    private record Reserve(
            String[] keys, String[] args, long id, String keyId, LocalDate day, long amountNano, long budgetNano) {
        Reservation reservation(List<Object> a) {
            Reservation.Verdict v = VERDICTS[(int) (long) (Long) a.get(0)];
            long spent = figure(a.get(1));
            long held = figure(a.get(2));
            long count = figure(a.get(3));
            boolean granted = v == Reservation.Verdict.GRANTED;
            long remaining = Math.max(0, budgetNano - spent - held - (granted ? amountNano : 0));
            return new Reservation(granted ? id : 0, keyId, day, amountNano, v, remaining, spent, held, count);
        }
    }

    private Reserve prepare(String keyId, LocalDate day, ZoneId zone, long amountNano, long budgetNano) {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(zone, "zone");
        if (amountNano < 0 || amountNano >= MAX_AMOUNT_NANO || budgetNano < 0) {
            throw new IllegalArgumentException("amountNano: " + amountNano + ", budgetNano: " + budgetNano
                    + " (expected: 0 <= amountNano < 2^53, budgetNano >= 0)");
        }
        long id = ids.incrementAndGet();
        long expireAt =
                day.plusDays(1).atStartOfDay(zone).toInstant().plus(dayMargin).getEpochSecond();
        return new Reserve(
                keys(keyId, day),
                new String[] {
                    holdId(id),
                    Long.toString(amountNano),
                    Long.toString(budgetNano),
                    Long.toString(expireAt),
                    Long.toString(holdTtl.toMillis())
                },
                id,
                keyId,
                day,
                amountNano,
                budgetNano);
    }

    /** Ends a granted reservation: spent += actualNano, requests += 1, its hold freed. Idempotent. */
    public CompletionStage<Ending> settle(Reservation r, long actualNano) {
        if (actualNano < 0 || actualNano >= MAX_AMOUNT_NANO) {
            throw new IllegalArgumentException("actualNano: " + actualNano + " (expected: 0 <= actualNano < 2^53)");
        }
        if (!r.granted()) {
            return CompletableFuture.completedFuture(Ending.ALREADY_ENDED);
        }
        return scripts.settle(keys(r.keyId(), r.day()), holdId(r.id()), Long.toString(actualNano))
                .thenApply(RedisBudgets::ending);
    }

    /**
     * Adds {@code nano} and {@code requests} that held no reservation to (keyId, day), as batch
     * {@code seq} of this instance: batches must be sent in increasing {@code seq} order, each until
     * it completes; one sent again after a lost reply counts once.
     *
     * @return whether this call counted it (false: it was counted before)
     */
    public CompletionStage<Boolean> charge(String keyId, LocalDate day, long seq, long nano, long requests) {
        if (nano < 0 || nano >= MAX_AMOUNT_NANO || requests < 0 || seq <= 0) {
            throw new IllegalArgumentException("nano: " + nano + ", requests: " + requests + ", seq: " + seq
                    + " (expected: 0 <= nano < 2^53, requests >= 0, seq > 0)");
        }
        // the day ends at the latest 14 hours after its UTC end (UTC+14), so this outlives every zone's
        long expireAt = day.plusDays(1)
                .atStartOfDay(java.time.ZoneOffset.UTC)
                .toInstant()
                .plus(Duration.ofHours(14))
                .plus(dayMargin)
                .getEpochSecond();
        return scripts.charge(
                        new String[] {keys(keyId, day)[0]},
                        instance,
                        Long.toString(seq),
                        Long.toString(nano),
                        Long.toString(requests),
                        Long.toString(expireAt))
                .thenApply(n -> n == 1);
    }

    /** Ends a granted reservation without charge. Idempotent. */
    public CompletionStage<Ending> release(Reservation r) {
        if (!r.granted()) {
            return CompletableFuture.completedFuture(Ending.ALREADY_ENDED);
        }
        return scripts.release(keys(r.keyId(), r.day()), holdId(r.id())).thenApply(RedisBudgets::ending);
    }

    /**
     * What (keyId, day) has: spent, reserved, requests (zeros when nothing). Holds that lapsed are
     * counted until the next reserve on the entry releases them.
     */
    public CompletionStage<DayUsage> usage(String keyId, LocalDate day) {
        return redis.hmget(keys(keyId, day)[0], "spent", "reserved", "requests")
                .thenApply(f -> new DayUsage(value(f.get(0)), value(f.get(1)), value(f.get(2))));
    }

    /** The four keys of (keyId, day), in the order the scripts take them. */
    String[] keys(String keyId, LocalDate day) {
        String tail = "{" + keyId + "}:" + day;
        return new String[] {
            prefix + "budget:" + tail, prefix + "holds:" + tail, prefix + "deadlines:" + tail, prefix + "lapsed:" + tail
        };
    }

    private String holdId(long id) {
        return instance + "." + id;
    }

    private static Ending ending(Long code) {
        return code == 1 ? Ending.ENDED : code == 2 ? Ending.LAPSED : Ending.ALREADY_ENDED;
    }

    private static long figure(@Nullable Object o) {
        return o == null ? 0 : o instanceof Long l ? l : Long.parseLong(o.toString());
    }

    private static long value(KeyValue<String, String> kv) {
        return kv.hasValue() ? Long.parseLong(kv.getValue()) : 0;
    }
}
