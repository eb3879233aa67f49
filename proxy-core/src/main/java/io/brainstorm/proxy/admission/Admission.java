package io.brainstorm.proxy.admission;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RequestFeatures;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.state.BudgetLedger;
import io.brainstorm.proxy.state.DayUsage;
import io.brainstorm.proxy.state.LimitStore;
import io.brainstorm.proxy.state.RateWindows;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStoreException;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Lets a request through to the providers, or not (docs/architecture.md §6): the key's rate limits first (429
 * {@code rate_limited} with {@code Retry-After}), then its daily budget: the request's worst case
 * is reserved atomically before any provider is called. When it does not fit the answer says why:
 * 402 {@code budget_exceeded}, naming when the budget resets, when the day's settled spend leaves no
 * room for it; 429 {@code budget_busy} with {@code Retry-After} when it would fit but for the
 * reservations of requests in flight (a burst on a small budget: each holds its worst case, and
 * most are charged far less).
 *
 * <p><b>Busy or exceeded.</b> The ledger decides which in the same atomic update as the attempt,
 * from the spend and holds it read there; nothing is read again afterwards, so the code and the
 * figures in the message always agree. A busy answer is a forecast, not a promise: if the requests
 * in flight are charged the rest of the budget, the retry gets the 402. Holds of a gateway process
 * that died stay until a process next opens the state directory (docs/architecture.md §6); until then they make
 * requests that would fit the spend busy, not exceeded.
 *
 * <p><b>Worst case.</b> Estimated prompt tokens at the input price plus {@code max_tokens} (or the
 * model's output cap) at the output price, at the dearest endpoint of the plan, since failover may
 * land there. A budget day runs from midnight to midnight in the key's time zone (UTC unless set).
 *
 * <p><b>Threading:</b> called on event loops; the ledger and windows are thread- and process-safe.
 */
public final class Admission {
    private static final System.Logger log = System.getLogger(Admission.class.getName());
    /**
     * {@code Retry-After} of a 429 {@code budget_busy}: the holds in the way end when their requests
     * end, which the gateway cannot foresee; the shortest whole second lets an SDK retry soon, and a
     * retry that comes too early costs one more refusal before any provider is called.
     */
    static final long BUSY_RETRY_AFTER_SECONDS = 1;

    /** How long {@link #awaitUsage} waits for the store. */
    static final long AWAIT_USAGE_SECONDS = 2;

    private final LimitStore store;
    private final InstantSource clock;

    /** Admission on the state store's ledger and windows: every decision is made within the call. */
    public Admission(BudgetLedger budgets, RateWindows rates, InstantSource clock) {
        this(LimitStore.local(budgets, rates), clock);
    }

    /** Admission on {@code store}, which may decide later (Redis). */
    public Admission(LimitStore store, InstantSource clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * Admits a request whose store decides within the call (the files and heap stores): for tests.
     *
     * @throws ApiError as {@link #admitLater}'s future fails
     * @throws IllegalStateException when the store did not decide within the call
     */
    public Ticket admit(ApiKey key, RoutePlan plan, RequestFeatures f) {
        CompletableFuture<Ticket> t = admitLater(key, plan, f).toCompletableFuture();
        if (!t.isDone()) {
            throw new IllegalStateException("the limit store decides later: use admitLater");
        }
        return now(t);
    }

    /**
     * Admits a request: the future completes with its ticket, or fails with the {@link ApiError} to
     * answer. With the files and heap stores it is complete when this returns.
     *
     * <p>The future fails with 429 {@code rate_limited} when a rate limit is reached, 429
     * {@code budget_busy} when reservations in flight are in the way, 402 when the spend leaves no
     * room for the worst case, and 503 {@code state_unavailable} when the store cannot decide (a full
     * map, Redis unreachable).
     */
    public CompletionStage<Ticket> admitLater(ApiKey key, RoutePlan plan, RequestFeatures f) {
        KeyLimits limits = key.limits();
        long now = clock.millis();
        CompletionStage<Ticket> t;
        try {
            t = admit(key, limits, now, plan, f);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(storeFailure(key, e));
        }
        return t.exceptionally(e -> {
            throw storeFailure(key, e);
        });
    }

    /** What {@code e} from the store means for the client: an ApiError as it is, a store failure as a 503. */
    private static RuntimeException storeFailure(ApiKey key, Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (c instanceof ApiError a) {
            return a;
        }
        if (c instanceof StateStoreException s) {
            // a full map, or Redis that cannot be reached: the gateway's fault, not a spent budget
            if (!s.reported()) {
                log.log(System.Logger.Level.ERROR, "admission for key " + key.id() + " failed in the state store", s);
            }
            return ApiError.stateUnavailable(
                    "The gateway cannot check this key's budget or rate limit right now (" + s.getMessage()
                            + "); try again later.",
                    s.retryAfterSeconds());
        }
        return c instanceof RuntimeException r ? r : new CompletionException(c);
    }

    private CompletionStage<Ticket> admit(ApiKey key, KeyLimits limits, long now, RoutePlan plan, RequestFeatures f) {
        LocalDate day = today(key, now);
        long worst = worstCaseNano(plan, f);
        long tokens = limits.rpm() > 0 || limits.tpm() > 0 ? worstCaseTokens(plan, f) : 0;
        return store.admit(
                        key.id(),
                        now,
                        limits.rpm(),
                        tokens,
                        limits.tpm(),
                        day,
                        zone(key),
                        worst,
                        limits.dailyBudgetNano())
                .thenApply(a -> {
                    if (a.waitMillis() > 0) {
                        long seconds = Math.max(1, (a.waitMillis() + 999) / 1000);
                        throw ApiError.rateLimited(
                                "Rate limit reached for this key (" + describe(limits) + "); retry in " + seconds
                                        + " s.",
                                seconds);
                    }
                    Reservation r = Objects.requireNonNull(a.reservation(), "reservation of an admitted request");
                    if (!r.granted()) {
                        throw refusal(key, day, limits.dailyBudgetNano(), r);
                    }
                    return new Ticket(store, r, limits.dailyBudgetNano());
                });
    }

    /** What a complete future holds, its ApiError thrown as it is. */
    private static <T> T now(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * The refusal the ledger's verdict calls for, told with the figures it decided on (read in the
     * same atomic update, so the code and the figures agree): 429 {@code budget_busy} when only
     * reservations in flight are in the way, 402 {@code budget_exceeded} when the settled spend is.
     */
    private static ApiError refusal(ApiKey key, LocalDate day, long budgetNano, Reservation r) {
        String budget = "This key's daily budget of $" + Cost.formatUsd(budgetNano);
        if (r.verdict() == Reservation.Verdict.BUSY) {
            return ApiError.budgetBusy(
                    budget + " has room for this request (up to $" + Cost.formatUsd(r.amountNano())
                            + ", $" + Cost.formatUsd(r.spentNano()) + " spent today), but $"
                            + Cost.formatUsd(r.heldNano())
                            + " of it is held by " + r.heldCount() + " request" + (r.heldCount() == 1 ? "" : "s")
                            + " in flight until they finish. Retrying shortly will work once they have settled for less than"
                            + " they hold, as answers usually do.",
                    BUSY_RETRY_AFTER_SECONDS);
        }
        return ApiError.budgetExceeded(budget + " cannot cover this request: $" + Cost.formatUsd(r.spentNano())
                + " is spent today and this request may cost up to $" + Cost.formatUsd(r.amountNano())
                + ". Lower max_tokens, or wait until the budget resets at " + resetsAt(key, day) + ".");
    }

    /** The key's use today (its day, in its time zone), from a store that answers within the call: for tests. */
    public DayUsage usage(ApiKey key) {
        CompletableFuture<DayUsage> u = usageLater(key).toCompletableFuture();
        if (!u.isDone()) {
            throw new IllegalStateException("the limit store answers later: use usageLater");
        }
        return now(u);
    }

    /**
     * {@link #usageLater}, waited for at most {@value #AWAIT_USAGE_SECONDS} s: on threads that may
     * block (the admin executor), never on an event loop.
     *
     * @throws ApiError 503 {@code state_unavailable} when the store cannot say in time
     */
    public DayUsage awaitUsage(ApiKey key) {
        try {
            return usageLater(key)
                    .toCompletableFuture()
                    .get(AWAIT_USAGE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw ApiError.stateUnavailable(
                    "The gateway cannot read this key's spend right now (the state store did not answer within "
                            + AWAIT_USAGE_SECONDS + " s); try again later.",
                    1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.stateUnavailable("Interrupted while reading this key's spend.", 1);
        }
    }

    /**
     * The key's use today (its day, in its time zone); the future fails with 503
     * {@code state_unavailable} when the store cannot say.
     */
    public CompletionStage<DayUsage> usageLater(ApiKey key) {
        CompletionStage<DayUsage> u;
        try {
            u = store.usage(key.id(), today(key));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(storeFailure(key, e));
        }
        return u.exceptionally(e -> {
            throw storeFailure(key, e);
        });
    }

    /** The key's budget day now: the date in its time zone (UTC unless set). */
    public LocalDate today(ApiKey key) {
        return today(key, clock.millis());
    }

    /** When the key's budget for today resets: the next midnight in its time zone. */
    public Instant resetsAt(ApiKey key) {
        return resetsAt(key, today(key));
    }

    private static Instant resetsAt(ApiKey key, LocalDate day) {
        return day.plusDays(1).atStartOfDay(zone(key)).toInstant();
    }

    private static LocalDate today(ApiKey key, long millis) {
        return LocalDate.ofInstant(Instant.ofEpochMilli(millis), zone(key));
    }

    private static java.time.ZoneId zone(ApiKey key) {
        return key.zone() == null ? ZoneOffset.UTC : key.zone();
    }

    /**
     * The request's worst-case cost: at the dearest endpoint it may reach, its prompt at the dearest
     * prompt price there (a cache write may cost more than an input token).
     */
    static long worstCaseNano(RoutePlan plan, RequestFeatures f) {
        long worst = 0;
        for (Endpoint e : plan.endpoints()) {
            long out = outputTokens(e, f);
            worst = Math.max(
                    worst,
                    Cost.tokensNano(f.estimatedInputTokens(), e.price().dearestPromptNanoPerM())
                            + Cost.tokensNano(out, e.price().outputNanoPerM()));
        }
        return worst;
    }

    /** Prompt tokens plus the most completion tokens any endpoint of the plan may return. */
    static long worstCaseTokens(RoutePlan plan, RequestFeatures f) {
        long out = 0;
        for (Endpoint e : plan.endpoints()) {
            out = Math.max(out, outputTokens(e, f));
        }
        return f.estimatedInputTokens() + out;
    }

    private static long outputTokens(Endpoint e, RequestFeatures f) {
        if (f.embeddings()) {
            return 0;
        }
        long cap = Math.max(0, e.model().maxOutputTokens());
        return f.maxOutputTokens() >= 0 ? Math.min(f.maxOutputTokens(), cap == 0 ? f.maxOutputTokens() : cap) : cap;
    }

    private static String describe(KeyLimits l) {
        return (l.rpm() > 0 ? l.rpm() + " requests" + (l.tpm() > 0 ? " and " : "") : "")
                + (l.tpm() > 0 ? l.tpm() + " tokens" : "") + " per minute";
    }
}
