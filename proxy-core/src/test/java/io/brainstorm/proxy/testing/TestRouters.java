package io.brainstorm.proxy.testing;

import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.InMemoryAnswerLog;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.route.StrategyRegistry;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.server.Services;
import io.brainstorm.proxy.settle.audit.AuditLog;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;

/** Routers for tests: the strategies on the test class path, no plugins folder, fresh state. */
public final class TestRouters {
    private TestRouters() {}

    /** A router over {@code endpoints} with the default routing settings, reading {@code clock}. */
    public static Router of(List<Endpoint> endpoints, InstantSource clock) {
        GatewayConfig config;
        try {
            config = ConfigLoader.load("sim:\n  enabled: false\nrouting:\n  seed: 7\n", Path.of("."), Map.of());
        } catch (io.brainstorm.proxy.config.ConfigException e) {
            throw new IllegalStateException(e);
        }
        StrategyRegistry strategies = StrategyRegistry.load(TestRouters.class.getClassLoader(), null, Map.of());
        return GatewayServer.router(config, endpoints, strategies, clock);
    }

    /** Budgets and rate limits on the heap, on the system clock. */
    public static io.brainstorm.proxy.admission.Admission admission() {
        io.brainstorm.proxy.state.StateStore store = io.brainstorm.proxy.state.StateStore.inMemory();
        return new io.brainstorm.proxy.admission.Admission(store.budgets(), store.rates(), InstantSource.system());
    }

    /** A router with no endpoints. */
    public static Router empty() {
        return of(List.of(), InstantSource.system());
    }

    /** Ends {@code gateway}'s start: services over {@code router}, heap budgets and answers, no audit trail. */
    public static Gateway start(Gateway gateway, Router router) {
        return start(gateway, router, null);
    }

    /** Ends {@code gateway}'s start: services over {@code router}, heap budgets and answers, {@code audit}. */
    public static Gateway start(Gateway gateway, Router router, AuditLog audit) {
        gateway.start(Services.start(
                gateway.config(), gateway.completions(), router, admission(), new InMemoryAnswerLog(), audit));
        return gateway;
    }
}
