/**
 * The admin API (docs/admin-api.md) on its own listener: {@link io.brainstorm.proxy.admin.AdminServer}
 * binds it and builds each connection's pipeline; {@link io.brainstorm.proxy.admin.AdminHandler}
 * takes every request off the event loop, matches it in {@link io.brainstorm.proxy.admin.AdminRoutes}
 * (every endpoint, in one table) and authenticates it. Start there. One resource class answers each
 * group of endpoints: {@link io.brainstorm.proxy.admin.TenantResource},
 * {@link io.brainstorm.proxy.admin.KeyResource}, {@link io.brainstorm.proxy.admin.ProviderKeyResource},
 * {@link io.brainstorm.proxy.admin.StatsResource} and {@link io.brainstorm.proxy.admin.AuditResource},
 * scoped to the caller's tenant by {@link io.brainstorm.proxy.admin.AdminServices}.
 *
 * <p>The dashboard (docs/dashboard.md) lives here too: {@link io.brainstorm.proxy.admin.DashboardHandler}
 * serves its page, login and live feed ({@link io.brainstorm.proxy.admin.DashboardEvents} over
 * {@link io.brainstorm.proxy.admin.LiveFeed}) on the event loop; {@link io.brainstorm.proxy.admin.DashboardSessions}
 * holds the logins whose cookie the admin API accepts; {@link io.brainstorm.proxy.admin.DashboardStats}
 * sums completions per model and endpoint; {@link io.brainstorm.proxy.admin.RoutingReport} is the routing
 * state both show.
 */
package io.brainstorm.proxy.admin;
