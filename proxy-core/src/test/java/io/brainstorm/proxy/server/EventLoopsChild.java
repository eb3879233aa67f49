package io.brainstorm.proxy.server;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;

/**
 * A gateway started with the default thread counts, for {@link EventLoopsTest}: prints
 * {@code loops N scorers M} once it is ready, then stops.
 *
 * <p>Arguments: a state directory.
 */
public final class EventLoopsChild {
    private EventLoopsChild() {}

    public static void main(String[] args) throws Exception {
        Path state = Path.of(args[0]);
        String yaml = """
                server:
                  host: 127.0.0.1
                  port: 0
                  shutdown_grace_seconds: 1
                admin:
                  enabled: false
                sim:
                  enabled: true
                  port: 0
                state_dir: %s
                state_store: memory
                routing:
                  plugins_dir: %s
                """.formatted(state, state.resolveSibling("no-plugins"));
        GatewayConfig config = ConfigLoader.load(yaml, Path.of("."), Map.of());
        try (Registry registry = Registry.inMemory(Registry.Bootstrap.of(config, Map.of()), InstantSource.system());
                GatewayServer server = GatewayServer.start(config, registry, 0)) {
            System.out.println("loops " + server.eventLoops() + " scorers "
                    + config.scoring().threads());
            System.out.flush();
        }
    }
}
