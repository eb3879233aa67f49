package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Call;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.auth.Tenant;
import io.brainstorm.proxy.auth.Validation;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code /admin/v1/keys}, {@code /keys/{key}}, {@code /keys/{key}/usage} and
 * {@code /tenants/{tenant}/keys}: list, create, show, update and revoke gateway keys (API and admin),
 * and a key's use today. A new key's secret is in the creation's answer, the one time it is shown.
 */
final class KeyResource {
    private static final Set<String> FIELDS =
            Set.of("name", "kind", "daily_budget_usd", "rpm", "tpm", "allowed_models", "time_zone");
    private static final Set<String> UPDATE_FIELDS =
            Set.of("name", "daily_budget_usd", "rpm", "tpm", "allowed_models", "time_zone");
    private final AdminServices services;

    KeyResource(AdminServices services) {
        this.services = services;
    }

    /** Every key the caller may see, or those of {@code ?tenant=}. */
    Answer list(AdminPrincipal who, Call call) {
        String tenant = call.first("tenant");
        List<ApiKey> keys;
        if (tenant != null) {
            keys = services.registry().keys(services.visibleTenant(who, tenant).id());
        } else {
            keys = services.registry().allKeys().stream()
                    .filter(k -> who.canAccess(k.tenant()))
                    .toList();
        }
        return Answer.ok(AdminJson.list(keys.stream().map(AdminJson::key).toList()));
    }

    Answer listOfTenant(AdminPrincipal who, Call call) {
        String tenant = services.visibleTenant(who, call.param(0)).id();
        return Answer.ok(AdminJson.list(
                services.registry().keys(tenant).stream().map(AdminJson::key).toList()));
    }

    /** The answer holds the secret, {@code "key"}: the one time it is shown. */
    Answer create(AdminPrincipal who, Call call) {
        Tenant tenant = services.visibleTenant(who, call.param(0));
        JsonBody body = JsonBody.parse(call.request().content(), FIELDS);
        String name = body.requiredString("name");
        KeyKind kind = body.kind("kind");
        KeyLimits limits = new KeyLimits(
                body.usdNano("daily_budget_usd", KeyLimits.UNLIMITED),
                (int) body.limit("rpm", Validation.MAX_RPM),
                body.limit("tpm", Validation.MAX_TPM));
        Registry.KeySpec spec =
                new Registry.KeySpec(name, kind, limits, body.strings("allowed_models"), body.zone("time_zone", null));
        Registry.Created created = services.registry().createKey(tenant.id(), spec);
        AdminServices.log.log(
                System.Logger.Level.INFO,
                "admin API: {0} created {1} key {2} of tenant {3}",
                who.keyId(),
                kind.name().toLowerCase(Locale.ROOT),
                created.key().id(),
                tenant.id());
        ObjectNode o = AdminJson.key(created.key());
        o.put("key", created.secret());
        return Answer.created(o);
    }

    Answer show(AdminPrincipal who, Call call) {
        return Answer.ok(AdminJson.key(services.visibleKey(who, call.param(0))));
    }

    /** Fields left out stay; {@code null} clears a limit (budget, rpm, tpm, models, zone back to UTC). */
    Answer update(AdminPrincipal who, Call call) {
        ApiKey key = services.visibleKey(who, call.param(0));
        JsonBody body = JsonBody.parse(call.request().content(), UPDATE_FIELDS);
        String name = body.has("name") ? body.requiredString("name") : null;
        KeyLimits now = key.limits();
        KeyLimits limits = null;
        if (body.has("daily_budget_usd") || body.has("rpm") || body.has("tpm")) {
            limits = new KeyLimits(
                    body.has("daily_budget_usd")
                            ? body.usdNano("daily_budget_usd", KeyLimits.UNLIMITED)
                            : now.dailyBudgetNano(),
                    body.has("rpm") ? (int) body.limit("rpm", Validation.MAX_RPM) : now.rpm(),
                    body.has("tpm") ? body.limit("tpm", Validation.MAX_TPM) : now.tpm());
        }
        List<String> models = body.has("allowed_models") ? body.strings("allowed_models") : null;
        ZoneId zone = body.has("time_zone") ? body.zone("time_zone", ZoneOffset.UTC) : null;
        ApiKey updated = services.registry().updateKey(key.id(), new Registry.KeyUpdate(name, limits, models, zone));
        AdminServices.log.log(System.Logger.Level.INFO, "admin API: {0} updated key {1}", who.keyId(), key.id());
        return Answer.ok(AdminJson.key(updated));
    }

    Answer revoke(AdminPrincipal who, Call call) {
        ApiKey key = services.visibleKey(who, call.param(0));
        ApiKey revoked = services.registry().revokeKey(key.id());
        AdminServices.log.log(System.Logger.Level.INFO, "admin API: {0} revoked key {1}", who.keyId(), key.id());
        return Answer.ok(AdminJson.key(revoked));
    }

    Answer usage(AdminPrincipal who, Call call) {
        return Answer.ok(UsageView.json(services.visibleKey(who, call.param(0)), services.admission()));
    }
}
