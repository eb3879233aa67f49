/**
 * Where a request goes. {@link io.brainstorm.proxy.route.Router} turns a model name into a
 * {@link io.brainstorm.proxy.route.RoutePlan}: ordered {@link io.brainstorm.proxy.route.Endpoint}s,
 * the first tried first, the rest the failover order. Variants name strategies, loaded by
 * {@link io.brainstorm.proxy.route.StrategyRegistry} (built-ins through {@code ServiceLoader},
 * plugin jars through {@link io.brainstorm.proxy.route.PluginClassLoader}).
 *
 * <p>{@link io.brainstorm.proxy.route.RoutingState} holds what routing knows of each endpoint:
 * its {@link io.brainstorm.proxy.route.CircuitBreaker} (connect errors, timeouts, 5xx), the
 * provider keys it turned away ({@link io.brainstorm.proxy.route.CredentialHolds}: 401/403/429
 * are a key's, not the endpoint's), latency windows and, through a
 * {@link io.brainstorm.proxy.route.LearningStore}, the learnt answer quality.
 * {@link io.brainstorm.proxy.route.OutcomeRecorder} writes each attempt's end there, and each
 * answer's endpoint to an {@link io.brainstorm.proxy.route.AnswerLog}, where feedback finds it.
 */
package io.brainstorm.proxy.route;
