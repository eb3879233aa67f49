/**
 * The built-in {@code :fast} routing strategy: lowest observed latency first, unmeasured endpoints
 * before that. Start at {@link io.brainstorm.proxy.strategy.fast.FastStrategy}.
 */
package io.brainstorm.proxy.strategy.fast;
