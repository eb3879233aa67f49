package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ProviderKeyInfo;
import io.brainstorm.proxy.auth.Tenant;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The admin API's resources as JSON (docs/admin-api.md): tenants, keys and provider keys as shown,
 * and lists of them. Nothing here ever holds a secret: {@link ApiKey} has only the key's hash, which
 * is not shown either, and {@link ProviderKeyInfo} only a fingerprint.
 */
final class AdminJson {
    private AdminJson() {
    }

    /** @param keys its keys that are not revoked; @param providerKeys its provider keys */
    static ObjectNode tenant(Tenant t, int keys, int providerKeys) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "tenant");
        o.put("id", t.id());
        o.put("name", t.name());
        o.put("created_at", time(t.createdAt()));
        o.put("source", t.source());
        o.put("keys", keys);
        o.put("provider_keys", providerKeys);
        return o;
    }

    static ObjectNode key(ApiKey k) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "key");
        o.put("id", k.id());
        o.put("name", k.name());
        o.put("tenant", k.tenant());
        o.put("kind", k.kind().name().toLowerCase(Locale.ROOT));
        if (k.limits().hasBudget()) {
            o.putRawValue("daily_budget_usd", UsageView.usd(k.limits().dailyBudgetNano()));
        } else {
            o.putNull("daily_budget_usd");
        }
        o.put("rpm", k.limits().rpm());
        o.put("tpm", k.limits().tpm());
        ArrayNode models = o.putArray("allowed_models");
        k.allowedModels().forEach(models::add);
        o.put("time_zone", k.zoneName());
        o.put("created_at", time(k.createdAt()));
        o.put("revoked_at", time(k.revokedAt()));
        o.put("source", k.source());
        return o;
    }

    static ObjectNode providerKey(ProviderKeyInfo p) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "provider_key");
        o.put("tenant", p.tenant());
        o.put("provider", p.provider());
        o.put("fingerprint", p.fingerprint());
        o.put("created_at", time(p.createdAt()));
        o.put("source", p.source());
        return o;
    }

    /** {@code {"object":"list","data":[...]}}. */
    static ObjectNode list(List<ObjectNode> items) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "list");
        o.putArray("data").addAll(items);
        return o;
    }

    /** ISO-8601 UTC; null for none, and for {@link Instant#EPOCH}, which the registry uses for "from config". */
    static @Nullable String time(Instant t) {
        return t == null || t.equals(Instant.EPOCH) ? null : t.toString();
    }
}
