package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Call;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ProviderKeyInfo;
import java.util.Set;

/**
 * {@code /admin/v1/tenants/{tenant}/providers} and {@code /providers/{provider}}: a tenant's own keys
 * for the provider accounts (BYOK). A provider key goes in and never comes out: answers show its
 * fingerprint only.
 */
final class ProviderKeyResource {
    private static final Set<String> FIELDS = Set.of("api_key");
    private final AdminServices services;

    ProviderKeyResource(AdminServices services) {
        this.services = services;
    }

    /** The tenant's provider keys, and every provider account's name. */
    Answer list(AdminPrincipal who, Call call) {
        String id = services.visibleTenant(who, call.param(0)).id();
        ObjectNode o = AdminJson.list(services.registry().providerKeys(id).stream()
                .map(AdminJson::providerKey)
                .toList());
        ArrayNode names = o.putArray("providers");
        services.providers().forEach(names::add);
        return Answer.ok(o);
    }

    /** 201 when the tenant had no key for the provider, 200 when it replaced one. */
    Answer set(AdminPrincipal who, Call call) {
        String tenant = services.visibleTenant(who, call.param(0)).id();
        String provider = call.param(1);
        JsonBody body = JsonBody.parse(call.request().content(), FIELDS);
        String secret = body.requiredString("api_key");
        boolean existed = services.registry().providerKeys(tenant).stream()
                .anyMatch(p -> p.provider().equals(provider));
        ProviderKeyInfo info = services.registry().setProviderKey(tenant, provider, secret);
        AdminServices.log.log(
                System.Logger.Level.INFO,
                "admin API: {0} {1} the {2} key of tenant {3} ({4})",
                who.keyId(),
                existed ? "replaced" : "set",
                provider,
                tenant,
                info.fingerprint());
        ObjectNode o = AdminJson.providerKey(info);
        return existed ? Answer.ok(o) : Answer.created(o);
    }

    Answer delete(AdminPrincipal who, Call call) {
        String id = services.visibleTenant(who, call.param(0)).id();
        String provider = call.param(1);
        services.registry().deleteProviderKey(id, provider);
        AdminServices.log.log(
                System.Logger.Level.INFO,
                "admin API: {0} deleted the {1} key of tenant {2}",
                who.keyId(),
                provider,
                id);
        return Answer.ok(AdminJson.object("provider_key")
                .put("tenant", id)
                .put("provider", provider)
                .put("deleted", true));
    }
}
