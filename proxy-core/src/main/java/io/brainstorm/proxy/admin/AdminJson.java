package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ProviderKeyInfo;
import io.brainstorm.proxy.auth.Tenant;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The admin API's resources as JSON (docs/admin-api.md): the caller, tenants, keys and provider keys
 * as shown, and lists of them. Nothing here ever holds a secret: {@link ApiKey} has only the key's hash, which
 * is not shown either, and {@link ProviderKeyInfo} only a fingerprint.
 */
final class AdminJson {
    private AdminJson() {}

    /** {@code {"object": type}}, to add the rest to. */
    static ObjectNode object(String type) {
        return Json.MAPPER.createObjectNode().put("object", type);
    }

    /** Who is calling: {@code GET /admin/v1/whoami}, and the dashboard's session. */
    static ObjectNode whoami(AdminPrincipal who) {
        return object("principal")
                .put("role", who.superAdmin() ? "super_admin" : "tenant_admin")
                .put("tenant", who.tenant())
                .put("key_id", who.keyId());
    }

    /** @param keys its keys that are not revoked; @param providerKeys its provider keys */
    static ObjectNode tenant(Tenant t, int keys, int providerKeys) {
        return object("tenant")
                .put("id", t.id())
                .put("name", t.name())
                .put("created_at", time(t.createdAt()))
                .put("source", t.source())
                .put("keys", keys)
                .put("provider_keys", providerKeys);
    }

    static ObjectNode key(ApiKey k) {
        ObjectNode o = object("key")
                .put("id", k.id())
                .put("name", k.name())
                .put("tenant", k.tenant())
                .put("kind", k.kind().name().toLowerCase(Locale.ROOT));
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
        return object("provider_key")
                .put("tenant", p.tenant())
                .put("provider", p.provider())
                .put("fingerprint", p.fingerprint())
                .put("created_at", time(p.createdAt()))
                .put("source", p.source());
    }

    /** {@code {"object":"list","data":[...]}}. */
    static ObjectNode list(List<ObjectNode> items) {
        ObjectNode o = object("list");
        o.putArray("data").addAll(items);
        return o;
    }

    /** ISO-8601 UTC; null for none, and for {@link Instant#EPOCH}, which the registry uses for "from config". */
    static @Nullable String time(@Nullable Instant t) {
        return t == null || t.equals(Instant.EPOCH) ? null : t.toString();
    }
}
