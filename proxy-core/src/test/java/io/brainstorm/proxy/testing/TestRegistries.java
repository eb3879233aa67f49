package io.brainstorm.proxy.testing;

import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.KeyConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Registries on the heap for tests: given API keys, no provider keys, a fixed admin token. */
public final class TestRegistries {
    /** The super-admin token of every registry made here. */
    public static final String ADMIN_TOKEN = "br_admin_" + "T".repeat(32);

    private TestRegistries() {}

    /** Tenant {@code default} with one API key, {@code secret}. */
    public static Registry withKey(String secret) {
        return Registry.inMemory(
                bootstrap(List.of(new KeyConfig("test", ApiKeys.sha256(secret), "default")), List.of(), Set.of()),
                InstantSource.system());
    }

    /** A bootstrap with {@link #ADMIN_TOKEN}, a master key from nowhere (heap only). */
    public static Registry.Bootstrap bootstrap(
            List<KeyConfig> keys, List<Registry.ProviderSecret> providerKeys, Set<String> providers) {
        return new Registry.Bootstrap(
                new ArrayList<>(keys),
                providerKeys,
                providers,
                null,
                ADMIN_TOKEN,
                null,
                Path.of("/nonexistent/master.key"));
    }
}
