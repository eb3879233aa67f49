/**
 * The proxy→upstream side: {@link io.brainstorm.proxy.upstream.UpstreamClient} opens and pools provider connections per event loop (TLS, async DNS, auto-read off for backpressure); {@link io.brainstorm.proxy.upstream.UpstreamListener} is how a request's relay hears what its connection reads.
 */
package io.brainstorm.proxy.upstream;
