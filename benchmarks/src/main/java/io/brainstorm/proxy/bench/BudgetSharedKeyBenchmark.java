package io.brainstorm.proxy.bench;

import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link BudgetBenchmark}'s calls from two threads on ONE key of one store, as two event loops
 * serving one key (issue #12). On the Chronicle files every budget call used to update the key's
 * entry under its lock, so the threads fought for it; with budget leases (docs/architecture.md §6)
 * the common reserve and settle only change a heap object, and with rate shares the common rate
 * window call counts against a heap share of the key's minute.
 */
@State(Scope.Benchmark)
@Threads(2)
@Measurement(iterations = 5, time = 1)
public class BudgetSharedKeyBenchmark extends BudgetBenchmark {}
