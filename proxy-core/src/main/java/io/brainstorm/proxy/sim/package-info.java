/**
 * The built-in <b>simulated</b> upstream: a loopback OpenAI-compatible server whose {@code sim/…}
 * models answer with made-up text, JSON and tool calls at each endpoint's price, latency, quality
 * and failure rate. It backs the demo on a machine with no provider keys, the tests and the
 * benchmarks.
 *
 * <p>Start at {@link io.brainstorm.proxy.sim.SimServer}: its class doc lists the routes, the
 * behaviour and the {@code "sim": {...}} test hook.
 */
package io.brainstorm.proxy.sim;
