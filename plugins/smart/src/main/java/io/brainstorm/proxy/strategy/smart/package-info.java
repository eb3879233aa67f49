/**
 * The built-in {@code :smart} routing strategy: Thompson sampling over a model's endpoints with
 * cost and latency penalties. Start at {@link io.brainstorm.proxy.strategy.smart.SmartStrategy};
 * {@link io.brainstorm.proxy.strategy.smart.ThompsonSampling} is the ranking, shared with
 * {@code auto}.
 */
package io.brainstorm.proxy.strategy.smart;
