/**
 * The state a gateway keeps between requests and across restarts (docs/architecture.md §6, §10): per-key daily
 * budgets ({@link io.brainstorm.proxy.state.BudgetLedger}, reserve-then-settle), per-key rate
 * windows ({@link io.brainstorm.proxy.state.RateWindows}), the learnt posteriors and which endpoint
 * answered which request for feedback ({@link io.brainstorm.proxy.route.AnswerLog}), all opened
 * together as a {@link io.brainstorm.proxy.state.StateStore}: Chronicle Map files shared by every
 * gateway process on the host, or the heap for tests. With {@code state_store: redis},
 * {@link io.brainstorm.proxy.state.RedisStateParts} gives the learning state and the answer log
 * in Redis instead.
 *
 * <p>Money is integer nano-USD throughout.
 */
package io.brainstorm.proxy.state;
