package io.brainstorm.proxy.auth;

/** What a gateway key opens. */
public enum KeyKind {
    /** {@code br_live_…}: the OpenAI-compatible API on the client listener ({@code /v1/…}). */
    API,
    /** {@code br_admin_…}: the admin API and dashboard on the admin listener, for its own tenant only. */
    ADMIN
}
