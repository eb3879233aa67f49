/**
 * The admin API (docs/admin-api.md) on its own listener: {@link io.brainstorm.proxy.admin.AdminServer}
 * binds it and builds each connection's pipeline; {@link io.brainstorm.proxy.admin.AdminHandler}
 * routes, authenticates and scopes every request, off the event loop. Start there.
 *
 * <p>The dashboard (docs/dashboard.md) lives here too: {@link io.brainstorm.proxy.admin.DashboardHandler}
 * serves its page, login and live feed ({@link io.brainstorm.proxy.admin.DashboardEvents} over
 * {@link io.brainstorm.proxy.admin.LiveFeed}) on the event loop; {@link io.brainstorm.proxy.admin.DashboardSessions}
 * holds the logins whose cookie the admin API accepts; {@link io.brainstorm.proxy.admin.DashboardStats}
 * sums completions per model and endpoint; {@link io.brainstorm.proxy.admin.RoutingReport} is the routing
 * state both show.
 */
package io.brainstorm.proxy.admin;
