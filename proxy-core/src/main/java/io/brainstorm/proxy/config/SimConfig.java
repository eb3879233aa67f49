package io.brainstorm.proxy.config;

/**
 * The built-in simulated provider.
 *
 * @param enabled      start it and route {@code sim/…} models to it
 * @param seed         seed of its random choices, so runs replay
 * @param port         loopback port (0 = any free port)
 * @param zeroDelay    answer at once (no simulated latency): the benchmarks' fake upstream
 * @param randomFaults let endpoints fail and give invalid structured answers at their profile's rates
 */
public record SimConfig(boolean enabled, long seed, int port, boolean zeroDelay, boolean randomFaults) {}
