/**
 * The OpenAI wire format as the gateway speaks it: request parsing and validation ({@link io.brainstorm.proxy.api.ParsedRequest}), OpenAI-shaped errors ({@link io.brainstorm.proxy.api.ApiError}) and the gateway's own complete answers ({@link io.brainstorm.proxy.api.Responses}), the governance header names ({@link io.brainstorm.proxy.api.Headers}), the model list, and the one JSON mapper every package shares ({@link io.brainstorm.proxy.api.Json}).
 */
package io.brainstorm.proxy.api;
