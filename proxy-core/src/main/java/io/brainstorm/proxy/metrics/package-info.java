/**
 * Prometheus metrics (docs/metrics.md): {@link io.brainstorm.proxy.metrics.Metrics} counts every
 * ended request (a {@link io.brainstorm.proxy.settle.CompletionSink}) and renders the text
 * exposition the admin listener serves at {@code GET /metrics}. Start there.
 */
package io.brainstorm.proxy.metrics;
