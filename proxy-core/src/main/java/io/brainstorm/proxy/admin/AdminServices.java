package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.auth.Tenant;
import io.brainstorm.proxy.config.ProviderConfig;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.settle.audit.AuditLog;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What the admin API's resources use of the gateway, and the tenant scope they all apply.
 *
 * <h2>Scope</h2>
 * A tenant admin asking for another tenant's tenant, keys, provider keys or usage gets exactly the
 * 404 a tenant or key that does not exist gets ({@link #visibleTenant}, {@link #visibleKey}), so it
 * cannot learn what other tenants exist; only what covers every tenant answers 403
 * ({@link #requireSuperAdmin}), whatever the tenant.
 *
 * <p><b>Errors:</b> a service the gateway has not set yet (it is starting) is a 503 with
 * {@code Retry-After: 1}; a disabled audit trail is a 404.
 *
 * <p><b>Threading:</b> stateless; reads the gateway's services on each call, from the admin executor.
 */
final class AdminServices {
    /** The admin API's log: changes are logged here with the caller's key id, never a secret. */
    static final System.Logger log = System.getLogger(AdminHandler.class.getName());

    private final Gateway gateway;

    AdminServices(Gateway gateway) {
        this.gateway = gateway;
    }

    Registry registry() {
        return started(gateway.registry());
    }

    Admission admission() {
        return started(gateway.admission());
    }

    Router router() {
        return started(gateway.router());
    }

    AuditLog audit() {
        AuditLog a = gateway.audit();
        if (a == null) {
            throw ApiError.notFound("The audit trail is disabled (audit.enabled: false in conf/brainstorm.yaml)"
                    + " or the gateway is starting.");
        }
        return a;
    }

    /** The gateway's configuration. */
    io.brainstorm.proxy.config.GatewayConfig gatewayConfig() {
        return gateway.config();
    }

    /** The Redis state with {@code state_store: redis}; null otherwise. */
    io.brainstorm.proxy.state.redis.@Nullable RedisState redis() {
        return gateway.redis();
    }

    /** The names of the provider accounts in config. */
    List<String> providers() {
        return gateway.config().providers().stream().map(ProviderConfig::name).toList();
    }

    /**
     * The tenant {@code id} if it exists and {@code who} may see it; otherwise the same 404 either
     * way, so a tenant admin cannot tell another tenant from none.
     */
    Tenant visibleTenant(AdminPrincipal who, String id) {
        if (who.canAccess(id)) {
            Optional<Tenant> t = registry().tenant(id);
            if (t.isPresent()) {
                return t.get();
            }
        }
        throw ApiError.notFound("tenant '" + id + "' not found");
    }

    /** The key {@code id} if it exists and {@code who} may see it; otherwise one 404 either way. */
    ApiKey visibleKey(AdminPrincipal who, String id) {
        Optional<ApiKey> key = registry().key(id);
        if (key.isPresent() && who.canAccess(key.get().tenant())) {
            return key.get();
        }
        throw ApiError.notFound("key '" + id + "' not found");
    }

    /** 403 unless {@code who} is the super-admin; {@code what} completes "may only …". */
    static void requireSuperAdmin(AdminPrincipal who, String what) {
        if (!who.superAdmin()) {
            throw ApiError.permissionDenied("Only the super-admin (the admin token) may " + what
                    + "; this admin key belongs to tenant '" + who.tenant() + "'.");
        }
    }

    private static <T> T started(@Nullable T service) {
        if (service == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        return service;
    }
}
