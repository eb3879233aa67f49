/**
 * Small building blocks for data that event loops write concurrently without waiting for each
 * other. {@link io.brainstorm.proxy.concurrent.ThreadLanes} keeps one lane per writing thread;
 * the metrics' histograms and routing's latency windows are built on it.
 * {@link io.brainstorm.proxy.concurrent.Cpus} sizes the thread pools from the CPUs the process may
 * use. Depends on nothing else
 * in the gateway, so any package may use it without a cycle.
 */
package io.brainstorm.proxy.concurrent;
