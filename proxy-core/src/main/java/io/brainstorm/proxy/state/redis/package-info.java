/**
 * The shared state store of several gateways in Redis (issue 14; not yet wired in). Starting
 * points: {@link io.brainstorm.proxy.state.redis.RedisBudgets} (per-key daily budgets, reserve then
 * settle, each step one Lua script) over {@link io.brainstorm.proxy.state.redis.RedisBudgetScripts};
 * {@link io.brainstorm.proxy.state.redis.RedisRates} (per-key requests and tokens per minute, one
 * Lua script per acquire); {@link io.brainstorm.proxy.state.redis.RedisCellStore} (the learning
 * entries, compare-and-set writes, reads from a heap mirror) and
 * {@link io.brainstorm.proxy.state.redis.RedisAnswerLog} (answers for feedback), which
 * {@code state.RedisStateParts} assembles. Every script is a {@code RedisScript} ({@code SCRIPT LOAD},
 * {@code EVALSHA}, reloaded on {@code NOSCRIPT}).
 *
 * <p>Money is integer nano-USD throughout.
 */
package io.brainstorm.proxy.state.redis;
