/**
 * The OpenAI wire format as the gateway speaks it: request parsing and validation ({@link io.brainstorm.proxy.api.ParsedRequest}), OpenAI-shaped errors ({@link io.brainstorm.proxy.api.ApiError}), the governance header names ({@link io.brainstorm.proxy.api.Headers}) and the model list.
 */
package io.brainstorm.proxy.api;
