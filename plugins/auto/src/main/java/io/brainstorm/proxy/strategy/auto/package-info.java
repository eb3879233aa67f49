/**
 * The built-in {@code auto} routing strategy: model and endpoint by Thompson sampling, with cost
 * on a log scale. Start at {@link io.brainstorm.proxy.strategy.auto.AutoStrategy}.
 */
package io.brainstorm.proxy.strategy.auto;
