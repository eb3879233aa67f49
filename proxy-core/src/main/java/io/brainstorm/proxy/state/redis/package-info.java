/**
 * The shared state store of several gateways in Redis (issue 14; not yet wired in). Starting
 * points: {@link io.brainstorm.proxy.state.redis.RedisBudgets} (per-key daily budgets, reserve then
 * settle, each step one Lua script) over {@link io.brainstorm.proxy.state.redis.RedisBudgetScripts}
 * ({@code SCRIPT LOAD}, {@code EVALSHA}, reloaded on {@code NOSCRIPT}).
 *
 * <p>Money is integer nano-USD throughout.
 */
package io.brainstorm.proxy.state.redis;
