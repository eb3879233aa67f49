package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Call;
import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.auth.Tenant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code /admin/v1/tenants}, {@code /tenants/{tenant}} and {@code /tenants/{tenant}/usage}: list,
 * show, create and delete tenants, and a tenant's use today. Only the super-admin creates and
 * deletes tenants (403 otherwise); a tenant admin sees its own tenant only.
 */
final class TenantResource {
    private static final Set<String> FIELDS = Set.of("id", "name");
    private final AdminServices services;

    TenantResource(AdminServices services) {
        this.services = services;
    }

    Answer list(AdminPrincipal who, Call call) {
        List<ObjectNode> out = new ArrayList<>();
        for (Tenant t : services.registry().tenants()) {
            if (who.canAccess(t.id())) {
                out.add(json(t));
            }
        }
        return Answer.ok(AdminJson.list(out));
    }

    Answer show(AdminPrincipal who, Call call) {
        return Answer.ok(json(services.visibleTenant(who, call.param(0))));
    }

    Answer create(AdminPrincipal who, Call call) {
        AdminServices.requireSuperAdmin(who, "create tenants");
        JsonBody body = JsonBody.parse(call.request().content(), FIELDS);
        String id = body.requiredString("id");
        String name = body.string("name", id);
        Tenant t = services.registry().createTenant(id, name);
        AdminServices.log.log(System.Logger.Level.INFO, "admin API: {0} created tenant {1}", who.keyId(), t.id());
        return Answer.created(json(t));
    }

    Answer delete(AdminPrincipal who, Call call) {
        AdminServices.requireSuperAdmin(who, "delete tenants");
        String id = call.param(0);
        services.registry().deleteTenant(id);
        AdminServices.log.log(System.Logger.Level.INFO, "admin API: {0} deleted tenant {1}", who.keyId(), id);
        return Answer.ok(AdminJson.object("tenant").put("id", id).put("deleted", true));
    }

    /** Today's use summed over the tenant's API keys that are not revoked, and each of them. */
    Answer usage(AdminPrincipal who, Call call) {
        String id = services.visibleTenant(who, call.param(0)).id();
        Admission admission = services.admission();
        long spent = 0;
        long reserved = 0;
        long requests = 0;
        List<ObjectNode> perKey = new ArrayList<>();
        for (ApiKey k : services.registry().keys(id)) {
            if (k.revoked() || k.kind() != KeyKind.API) {
                continue;
            }
            var u = admission.awaitUsage(k);
            spent += u.spentNano();
            reserved += u.reservedNano();
            requests += u.requests();
            perKey.add(UsageView.json(k, admission, u));
        }
        ObjectNode o = AdminJson.object("tenant_usage").put("tenant", id);
        o.putRawValue("spent_usd", UsageView.usd(spent));
        o.putRawValue("reserved_usd", UsageView.usd(reserved));
        o.put("requests", requests);
        o.putArray("keys").addAll(perKey);
        return Answer.ok(o);
    }

    private ObjectNode json(Tenant t) {
        Registry r = services.registry();
        int active = (int) r.keys(t.id()).stream().filter(k -> !k.revoked()).count();
        return AdminJson.tenant(t, active, r.providerKeys(t.id()).size());
    }
}
