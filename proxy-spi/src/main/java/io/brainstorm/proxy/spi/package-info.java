/**
 * The plugin API of brainstorm-proxy: write a routing strategy against these types only.
 *
 * <p>Start at {@link io.brainstorm.proxy.spi.RoutingStrategyProvider} (found by
 * {@link java.util.ServiceLoader}), which creates a {@link io.brainstorm.proxy.spi.RoutingStrategy}.
 * The strategy receives a {@link io.brainstorm.proxy.spi.RouteRequest} and the eligible
 * {@link io.brainstorm.proxy.spi.Candidate}s, each with a live
 * {@link io.brainstorm.proxy.spi.EndpointStats} snapshot, and answers with a
 * {@link io.brainstorm.proxy.spi.RouteDecision}. Every type is an immutable final class, an
 * interface or an enum of JDK types; the API has no dependencies beyond JSpecify's annotations.
 *
 * <p><b>Nulls.</b> The package is {@link org.jspecify.annotations.NullMarked}: nothing the gateway
 * hands a strategy is null, and a strategy passes no null, except where a parameter is marked
 * {@link org.jspecify.annotations.Nullable} (the {@code reason} of a
 * {@link io.brainstorm.proxy.spi.RouteDecision}; the {@code user} and {@code taskClass} of a
 * {@link io.brainstorm.proxy.spi.RouteRequest.Builder}).
 *
 * <p><b>How the API evolves.</b> {@link io.brainstorm.proxy.spi.SpiVersion#MINOR} versions only add;
 * a plugin compiled against an older minor version of the same major keeps loading and working.
 * So that adding is always possible, values are not records and have no public constructors:
 * <ul>
 *   <li>Accessor methods ({@code candidate.model()}, {@code request.maxTokens()}) are the stable
 *       surface. A minor version may add accessors, builder methods, static factories, constants,
 *       enum constants and default methods; it never removes or renames one, nor changes a
 *       parameter or return type.</li>
 *   <li>What the gateway gives a strategy ({@code Candidate}, {@code RouteRequest},
 *       {@code EndpointStats}, {@code Outcome}) is made with a {@code builder()}: a plugin makes
 *       these only in its tests. A value added later gets a default in the builder, so older
 *       tests keep compiling.</li>
 *   <li>What a plugin makes itself ({@code RouteDecision}, and {@code StrategyConfig},
 *       {@code LatencyStats} in tests) is made by static factories ({@code of(…)}); a later
 *       component comes with a new factory, and the old ones stay.</li>
 *   <li>Do not rely on {@code toString()} formats, nor on the set of enum constants being closed:
 *       a {@code switch} over {@link io.brainstorm.proxy.spi.CircuitState} wants a
 *       {@code default}.</li>
 * </ul>
 * Anything else is a new major version, which the gateway refuses to mix with plugins built for
 * the old one. The test {@code SpiCompatibilityTest} in proxy-core holds this: it compiles a plugin
 * against the frozen surface of every released minor version ({@code proxy-spi/src/compat/})
 * and loads it through the gateway's plugin loader.
 *
 * <p>Jars dropped into the plugins folder ({@code --plugins-dir}, default {@code ./ext}) load at
 * start through a class loader that shares only this package with the gateway.
 */
@NullMarked
package io.brainstorm.proxy.spi;

import org.jspecify.annotations.NullMarked;
