package io.brainstorm.proxy.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.state.DayUsage;

/**
 * A key's use today as JSON: the answer of {@code GET /v1/usage} and of the admin API's usage
 * read-outs. Money is a JSON number in USD (exact decimals from nano-USD); {@code null} means no budget.
 */
public final class UsageView {
    private UsageView() {}

    /**
     * The key's spend today, what is left, and when its budget resets, waiting for the store (on
     * threads that may block: the admin executor).
     */
    public static ObjectNode json(ApiKey key, Admission admission) {
        return json(key, admission, admission.awaitUsage(key));
    }

    /** The key's spend today {@code u}, what is left, and when its budget resets. */
    public static ObjectNode json(ApiKey key, Admission admission, DayUsage u) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "usage");
        o.put("key_id", key.id());
        o.put("key_name", key.name());
        o.put("day", admission.today(key).toString());
        o.put("time_zone", key.zoneName());
        o.putRawValue("spent_usd", usd(u.spentNano()));
        o.putRawValue("reserved_usd", usd(u.reservedNano()));
        o.put("requests", u.requests());
        KeyLimits limits = key.limits();
        if (limits.hasBudget()) {
            o.putRawValue("daily_budget_usd", usd(limits.dailyBudgetNano()));
            o.putRawValue(
                    "remaining_usd", usd(Math.max(0, limits.dailyBudgetNano() - u.spentNano() - u.reservedNano())));
        } else {
            o.putNull("daily_budget_usd");
            o.putNull("remaining_usd");
        }
        o.put("rpm_limit", limits.rpm());
        o.put("tpm_limit", limits.tpm());
        o.put("resets_at", admission.resetsAt(key).toString());
        return o;
    }

    /** Nano-USD as an exact JSON number of USD. */
    public static RawValue usd(long nano) {
        return new RawValue(Cost.formatUsd(nano));
    }
}
