/**
 * The shared state store of several gateways in Redis (issue 14; not yet wired in). Starting
 * points: {@link io.brainstorm.proxy.state.redis.RedisBudgets} (per-key daily budgets, reserve then
 * settle, each step one Lua script) over {@link io.brainstorm.proxy.state.redis.RedisBudgetScripts};
 * {@link io.brainstorm.proxy.state.redis.RedisRates} (per-key requests and tokens per minute, one
 * Lua script per acquire); {@link io.brainstorm.proxy.state.redis.RedisRegistry} (the registry's
 * state with a version, changed by compare-and-set and announced on a channel). Every script is a {@code RedisScript} ({@code SCRIPT LOAD},
 * {@code EVALSHA}, reloaded on {@code NOSCRIPT}).
 *
 * <p>Money is integer nano-USD throughout.
 */
package io.brainstorm.proxy.state.redis;
