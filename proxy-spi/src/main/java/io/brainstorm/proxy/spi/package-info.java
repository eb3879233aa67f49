/**
 * The plugin API of brainstorm-proxy: write a routing strategy against these types only.
 *
 * <p>Start at {@link io.brainstorm.proxy.spi.RoutingStrategyProvider} (found by
 * {@link java.util.ServiceLoader}), which creates a {@link io.brainstorm.proxy.spi.RoutingStrategy}.
 * The strategy receives a {@link io.brainstorm.proxy.spi.RouteRequest} and the eligible
 * {@link io.brainstorm.proxy.spi.Candidate}s, each with a live
 * {@link io.brainstorm.proxy.spi.EndpointStats} snapshot, and answers with a
 * {@link io.brainstorm.proxy.spi.RouteDecision}. Every type is an immutable record or an enum of
 * JDK types; the API's one dependency is JSpecify, whose {@code @Nullable} marks what may be null
 * (everything else never is).
 *
 * <p>Jars dropped into the plugins folder ({@code --plugins-dir}, default {@code ./ext}) load at
 * start through a class loader that shares only this package with the gateway.
 */
package io.brainstorm.proxy.spi;
