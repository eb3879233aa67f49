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

    Answer routing(AdminPrincipal who, Call call) {
        return Answer.ok(RoutingReport.json(services.router()));
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
