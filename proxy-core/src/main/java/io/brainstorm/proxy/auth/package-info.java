/**
 * Who may call: tenants, gateway keys and tenants' provider keys (docs/architecture.md §6). Start at
 * {@link io.brainstorm.proxy.auth.Registry}: it keeps them in {@code registry.json}, shared by the
 * processes of a state directory, or in Redis, shared by every gateway on it ({@code RegistryRedis}),
 * authenticates {@code br_live_} keys on the request path and the admin
 * token or {@code br_admin_} keys on the admin API. {@link io.brainstorm.proxy.auth.ApiKeys} makes and
 * hashes keys; {@link io.brainstorm.proxy.auth.SecretBox} and {@link io.brainstorm.proxy.auth.MasterKey}
 * seal provider keys at rest; {@link io.brainstorm.proxy.auth.Secrets} shows a secret made at start once.
 * {@link io.brainstorm.proxy.auth.KeyAccess} is what routing asks of an authenticated key: the models
 * it may use and the provider key its tenant holds for an endpoint.
 */
package io.brainstorm.proxy.auth;
