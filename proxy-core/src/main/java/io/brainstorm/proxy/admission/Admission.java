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
import io.brainstorm.proxy.state.RateWindows;
import io.brainstorm.proxy.state.Reservation;
import io.brainstorm.proxy.state.StateStoreException;

import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Lets a request through to the providers, or not (DESIGN §6): the key's rate limits first (429
 * {@code rate_limited} with {@code Retry-After}), then its daily budget: the request's worst case
 * is reserved atomically before any provider is called, and when it does not fit the answer is 402
 * {@code budget_exceeded}, naming when the budget resets.
 *
 * <p><b>Worst case.</b> Estimated prompt tokens at the input price plus {@code max_tokens} (or the
 * model's output cap) at the output price, at the dearest endpoint of the plan, since failover may
 * land there. A budget day runs from midnight to midnight in the key's time zone (UTC unless set).
 *
 * <p><b>Threading:</b> called on event loops; the ledger and windows are thread- and process-safe.
 */
public final class Admission {
    private static final System.Logger log = System.getLogger(Admission.class.getName());
    private final BudgetLedger budgets;
    private final RateWindows rates;
    private final InstantSource clock;

    public Admission(BudgetLedger budgets, RateWindows rates, InstantSource clock) {
        this.budgets = budgets;
        this.rates = rates;
        this.clock = clock;
    }

    /**
     * Admits a request.
     *
     * @throws ApiError 429 when a rate limit is reached, 402 when the budget cannot cover the worst case
     */
    public Ticket admit(ApiKey key, RoutePlan plan, RequestFeatures f) {
        KeyLimits limits = key.limits();
        long now = clock.millis();
        try {
            return admit(key, limits, now, plan, f);
        } catch (StateStoreException e) {
            // a full map or a clash: the gateway's fault, not a spent budget
            log.log(System.Logger.Level.ERROR, "admission for key " + key.id() + " failed in the state store", e);
            throw ApiError.unavailable("The gateway cannot record spend right now (" + e.getMessage()
                    + "); try again later.", 5);
        }
    }

    private Ticket admit(ApiKey key, KeyLimits limits, long now, RoutePlan plan, RequestFeatures f) {
        if (limits.rpm() > 0 || limits.tpm() > 0) {
            long wait = rates.tryAcquire(key.id(), now, limits.rpm(), worstCaseTokens(plan, f), limits.tpm());
            if (wait > 0) {
                long seconds = Math.max(1, (wait + 999) / 1000);
                throw ApiError.rateLimited("Rate limit reached for this key (" + describe(limits) + "); retry in "
                        + seconds + " s.", seconds);
            }
        }
        LocalDate day = today(key, now);
        long worst = worstCaseNano(plan, f);
        Reservation r = budgets.reserve(key.id(), day, worst, limits.dailyBudgetNano());
        if (!r.granted()) {
            DayUsage used = budgets.usage(key.id(), day);
            throw ApiError.budgetExceeded("This key's daily budget of $" + Cost.formatUsd(limits.dailyBudgetNano())
                    + " cannot cover this request: it may cost up to $" + Cost.formatUsd(worst) + " and $"
                    + Cost.formatUsd(Math.max(0, r.remainingNano())) + " is left ($" + Cost.formatUsd(used.spentNano())
                    + " spent, $" + Cost.formatUsd(used.reservedNano()) + " held by requests in flight). Lower max_tokens,"
                    + " or wait until the budget resets at " + resetsAt(key, day) + ".");
        }
        return new Ticket(budgets, r, limits.dailyBudgetNano());
    }

    /** The key's use today (its day, in its time zone). */
    public DayUsage usage(ApiKey key) {
        return budgets.usage(key.id(), today(key));
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

    /** The request's worst-case cost: at the dearest endpoint it may reach. */
    static long worstCaseNano(RoutePlan plan, RequestFeatures f) {
        long worst = 0;
        for (Endpoint e : plan.endpoints()) {
            long out = outputTokens(e, f);
            worst = Math.max(worst, Cost.tokensNano(f.estimatedInputTokens(), e.price().inputNanoPerM())
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
