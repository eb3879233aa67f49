package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Call;
import io.brainstorm.proxy.auth.AdminPrincipal;

/**
 * {@code /admin/v1/routing} and {@code /admin/v1/stats/models}: what the gateway has seen since it
 * started, per model, and how it routes now.
 */
final class StatsResource {
    private final AdminServices services;
    private final DashboardStats stats;

    StatsResource(AdminServices services, DashboardStats stats) {
        this.services = services;
        this.stats = stats;
    }

    /**
     * The routing report: for the super-admin every tenant's detector firings, or one tenant's view
     * with {@code ?tenant=}; for a tenant admin its own tenant's view, never another's (404 as for
     * a tenant that does not exist).
     */
    Answer routing(AdminPrincipal who, Call call) {
        String tenant = call.first("tenant");
        if (tenant != null) {
            tenant = services.visibleTenant(who, tenant).id();
        } else if (!who.superAdmin()) {
            tenant = who.tenant();
        }
        return Answer.ok(RoutingReport.json(services.router(), tenant));
    }

    /**
     * Since start, per model and endpoint: the caller's tenant's figures for a tenant admin; for the
     * super-admin all tenants' summed, or one tenant's with {@code ?tenant=}.
     */
    Answer models(AdminPrincipal who, Call call) {
        String tenant = call.first("tenant");
        if (tenant != null) {
            return Answer.ok(stats.json(services.visibleTenant(who, tenant).id()));
        }
        return Answer.ok(stats.json(who.superAdmin() ? null : who.tenant()));
    }
}
