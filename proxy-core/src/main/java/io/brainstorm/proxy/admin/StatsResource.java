package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
     * {@code GET /admin/v1/state}: where budgets, rate limits and learning are kept and, for Redis,
     * its health: whether the connection is up, writes waiting for it or lost, and requests refused
     * (or served unchecked) while it was away. The URL (without its password) only for the
     * super-admin.
     */
    Answer state(AdminPrincipal who, Call call) {
        var config = services.gatewayConfig();
        ObjectNode o =
                AdminJson.object("state_store").put("kind", config.store().label());
        var redis = services.redis();
        if (redis != null) {
            var link = redis.link();
            var limits = redis.limits();
            ObjectNode r = o.putObject("redis");
            if (who.superAdmin()) {
                r.put("url", link.config().safeUrl());
                r.put("key_prefix", link.prefix());
            }
            r.put("connected", link.connected());
            r.put("disconnects", link.disconnects());
            r.put("on_unavailable", link.config().failOpen() ? "open" : "closed");
            r.put("deferred_writes", limits.deferred());
            r.put("lost_writes", limits.lost());
            r.put("refused_unavailable", limits.refusedUnavailable());
            r.put("served_unchecked", limits.servedOpen());
        }
        return Answer.ok(o);
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
