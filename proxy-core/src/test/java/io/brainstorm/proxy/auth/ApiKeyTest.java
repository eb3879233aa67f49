package io.brainstorm.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeyTest {
    private static ApiKey allowing(String... models) {
        return new ApiKey(
                "key_x",
                "x",
                "default",
                "0".repeat(64),
                KeyLimits.NONE,
                KeyKind.API,
                List.of(models),
                ZoneOffset.UTC,
                Instant.EPOCH,
                null,
                "admin");
    }

    @Test
    void allowedModelsAreExactIdsOrAWholeProvider() {
        assertTrue(allowing().allows("openai/gpt-4o"), "no list: every model");
        ApiKey k = allowing("sim/*", "openai/gpt-4o-mini");
        assertTrue(k.allows("sim/alpha"));
        assertTrue(k.allows("openai/gpt-4o-mini"));
        assertFalse(k.allows("openai/gpt-4o"));
        assertFalse(k.allows("simx/alpha"), "sim/* is the provider sim, not a prefix of names");
        assertFalse(k.allows("openai/gpt-4o-mini-2"));
    }
}
