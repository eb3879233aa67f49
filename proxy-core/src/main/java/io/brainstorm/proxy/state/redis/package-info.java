/**
 * A gateway's state in Redis, shared by every gateway on the same Redis ({@code state_store: redis},
 * docs/scale-out.md), opened as one {@link io.brainstorm.proxy.state.redis.RedisState} over one
 * {@link io.brainstorm.proxy.state.redis.RedisLink} (the Lettuce client, its timeouts and
 * read-outs):
 * {@link io.brainstorm.proxy.state.redis.RedisLimits} (admission's counts: rate windows by
 * {@link io.brainstorm.proxy.state.redis.RedisRates}, budgets by
 * {@link io.brainstorm.proxy.state.redis.RedisBudgets}, writes that wait for Redis, the journal of
 * keys without a budget); {@link io.brainstorm.proxy.state.redis.RedisCellStore} (the learning
 * entries, compare-and-set writes, reads from a heap mirror) and
 * {@link io.brainstorm.proxy.state.redis.RedisAnswerLog} (answers for feedback), which
 * {@code state.RedisStateParts} assembles; {@link io.brainstorm.proxy.state.redis.RedisRegistry}
 * (the registry's state with a version, changed by compare-and-set and announced on a channel).
 * Every script is a {@code RedisScript} ({@code SCRIPT LOAD}, {@code EVALSHA}, reloaded on
 * {@code NOSCRIPT}).
 *
 * <p>Money is integer nano-USD throughout.
 */
package io.brainstorm.proxy.state.redis;
