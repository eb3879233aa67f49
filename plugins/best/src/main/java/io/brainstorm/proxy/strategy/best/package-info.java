/**
 * The built-in {@code :best} routing strategy: highest learnt quality first, the cheaper on ties.
 * Start at {@link io.brainstorm.proxy.strategy.best.BestStrategy}.
 */
package io.brainstorm.proxy.strategy.best;
