package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.auth.KeyAccess;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.KeyConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Key lookup on every request: {@link Registry#authenticate} of an {@code Authorization} header
 * among {@code keys} keys, for a key seen before ({@code authenticate}: confirmed from the
 * snapshot's verdict cache, no SHA-256) and for an unknown key ({@code authenticateUnknown}: SHA-256
 * of the presented key, the snapshot's hash map, a 401), and the tenant's provider key for an
 * endpoint ({@link Registry#providerKey}) as {@link KeyAccess} asks for it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
public class KeyLookupBenchmark {
    @Param({"10", "100000"})
    public int keys;

    private Registry registry;
    private String header;
    private String unknownHeader;
    private String tenant;

    @Setup
    public void setUp() {
        List<KeyConfig> configured = new ArrayList<>();
        String secret = null;
        for (int i = 0; i < keys; i++) {
            secret = ApiKeys.generate();
            configured.add(new KeyConfig("k" + i, ApiKeys.sha256(secret), "t" + (i % 100)));
        }
        List<Registry.ProviderSecret> providerKeys = new ArrayList<>();
        for (int t = 0; t < 100; t++) {
            providerKeys.add(new Registry.ProviderSecret("t" + t, "openai", "sk-" + t + "-".repeat(40)));
        }
        registry = Registry.inMemory(
                new Registry.Bootstrap(
                        configured,
                        providerKeys,
                        Set.of("openai"),
                        null,
                        "br_admin_" + "B".repeat(32),
                        null,
                        Path.of("/nonexistent")),
                InstantSource.system());
        header = "Bearer " + secret;
        unknownHeader = "Bearer " + ApiKeys.generate();
        tenant = Objects.requireNonNull(registry.authenticate(header).tenant(), "every configured key has a tenant");
    }

    @TearDown
    public void tearDown() {
        registry.close();
    }

    @Benchmark
    public ApiKey authenticate() {
        return registry.authenticate(header);
    }

    @Benchmark
    public @Nullable ApiKey authenticateUnknown() {
        try {
            return registry.authenticate(unknownHeader);
        } catch (ApiError e) {
            return null;
        }
    }

    @Benchmark
    public @Nullable String providerKey() {
        return registry.providerKey(tenant, "openai");
    }
}
