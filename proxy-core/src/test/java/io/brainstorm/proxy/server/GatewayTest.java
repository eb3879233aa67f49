package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.testing.TestRegistries;
import io.brainstorm.proxy.testing.TestRouters;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewayTest {

    @Test
    void theServicesAppearInOnePieceAndOnce() throws Exception {
        Gateway gateway = new Gateway(
                ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                TestRegistries.withKey("br_live_" + "g".repeat(32)),
                null);
        assertNull(gateway.services(), "starting");
        assertNull(gateway.router());
        assertNull(gateway.admission());

        TestRouters.start(gateway, TestRouters.empty());
        Services services = gateway.services();
        assertSame(services.router(), gateway.router());
        assertSame(services.admission(), gateway.admission());
        assertNull(gateway.audit(), "no audit trail was given");

        IllegalStateException again =
                assertThrows(IllegalStateException.class, () -> TestRouters.start(gateway, TestRouters.empty()));
        assertEquals("services: already published (expected: once, when start-up finishes)", again.getMessage());
        assertSame(services, gateway.services(), "the first services stay");
        services.scoring().close();
    }
}
