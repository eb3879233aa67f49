/**
 * The admin API (docs/admin-api.md) on its own listener: {@link io.brainstorm.proxy.admin.AdminServer}
 * binds it and builds each connection's pipeline; {@link io.brainstorm.proxy.admin.AdminHandler}
 * routes, authenticates and scopes every request, off the event loop. Start there.
 */
package io.brainstorm.proxy.admin;
