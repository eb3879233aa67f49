/**
 * Gateway API keys: {@link io.brainstorm.proxy.auth.ApiKeys} makes and hashes {@code br_live_} keys, {@link io.brainstorm.proxy.auth.KeyRing} authenticates bearer tokens by SHA-256, {@link io.brainstorm.proxy.auth.KeyBootstrap} loads keys at start and shows a new demo key once.
 */
package io.brainstorm.proxy.auth;
