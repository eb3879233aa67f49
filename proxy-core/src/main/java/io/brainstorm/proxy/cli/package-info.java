/**
 * The command line: {@link io.brainstorm.proxy.cli.Main} ({@code serve}, {@code sim}, {@code selftest}, {@code version}, {@code help}), started by {@code bin/brainstorm-proxy};
 * {@link io.brainstorm.proxy.cli.AdminCommands} ({@code tenants}, {@code keys}, {@code providers}) over
 * {@link io.brainstorm.proxy.cli.AdminClient}, the admin API's HTTP client; {@link io.brainstorm.proxy.cli.AuditCommand}
 * ({@code audit verify}).
 *
 * <p>{@code AdminCommands} dispatches to one class per group: {@link io.brainstorm.proxy.cli.TenantCommands},
 * {@link io.brainstorm.proxy.cli.KeyCommands}, {@link io.brainstorm.proxy.cli.ProviderCommands}.
 */
package io.brainstorm.proxy.cli;
