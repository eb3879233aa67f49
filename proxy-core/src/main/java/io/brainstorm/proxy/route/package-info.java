/**
 * Where a request goes: {@link io.brainstorm.proxy.route.Router} turns a model name into an ordered list of {@link io.brainstorm.proxy.route.Endpoint}s (the first is tried first, the rest are the failover order).
 */
package io.brainstorm.proxy.route;
