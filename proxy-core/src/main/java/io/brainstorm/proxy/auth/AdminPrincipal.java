package io.brainstorm.proxy.auth;

import org.jspecify.annotations.Nullable;

/**
 * Who is calling the admin API: the super-admin (the admin token) or a tenant-scoped admin key.
 *
 * @param tenant the admin key's tenant, or null for the super-admin
 * @param keyId  the admin key's id, or {@code admin-token} for the super-admin
 */
public record AdminPrincipal(@Nullable String tenant, String keyId) {
    public static final AdminPrincipal SUPER = new AdminPrincipal(null, "admin-token");

    public boolean superAdmin() {
        return tenant == null;
    }

    /** True when this principal may see and change {@code tenantId}'s resources. */
    public boolean canAccess(@Nullable String tenantId) {
        return tenant == null || tenant.equals(tenantId);
    }
}
