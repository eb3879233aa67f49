package io.brainstorm.proxy.auth;

import io.brainstorm.proxy.api.ApiError;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyRingTest {
    private final String secret = ApiKeys.generate();
    private final ApiKey key = ApiKey.of("app", "acme", ApiKeys.sha256(secret));
    private final KeyRing ring = new KeyRing();

    {
        ring.add(key);
    }

    private ApiError rejected(String authorization) {
        ApiError e = assertThrows(ApiError.class, () -> ring.authenticate(authorization), String.valueOf(authorization));
        assertEquals(401, e.status().code());
        assertEquals("authentication_error", e.type());
        assertEquals("invalid_api_key", e.code());
        return e;
    }

    @Test
    void aKnownKeyAuthenticates() {
        assertSame(key, ring.authenticate("Bearer " + secret));
        assertSame(key, ring.authenticate("bearer " + secret), "the scheme is case-insensitive");
        assertSame(key, ring.authenticate("Bearer  " + secret + " "), "surrounding spaces are ignored");
    }

    @Test
    void missingOrMalformedIsRejected() {
        for (String auth : Arrays.asList(null, "", "Bearer", "Bearer ", "Basic " + secret, secret,
                "Bearer " + secret.substring(1), "Bearer sk-proj-abc", "Token " + secret)) {
            rejected(auth);
        }
    }

    @Test
    void unknownKeyIsRejectedWithoutEchoingIt() {
        String other = ApiKeys.generate();
        ApiError e = rejected("Bearer " + other);
        assertFalse(e.getMessage().contains(other), e.getMessage());
        assertFalse(e.getMessage().contains(other.substring(ApiKeys.PREFIX.length() + 4)), e.getMessage());
        assertTrue(e.getMessage().contains(ApiKeys.hint(other)), "names which key, by its hint: " + e.getMessage());
    }

    @Test
    void malformedKeyMessageDoesNotEchoIt() {
        String pasted = "sk-proj-THISISAPROVIDERSECRET0123456789";
        ApiError e = rejected("Bearer " + pasted);
        assertFalse(e.getMessage().contains("THISISAPROVIDERSECRET"), e.getMessage());
    }

    @Test
    void keysAreHeldByHash() {
        assertFalse(ring.isEmpty());
        assertEquals(List.of(key), List.copyOf(ring.keys()));
        assertTrue(new KeyRing().isEmpty());
        rejected("Bearer " + ApiKeys.generate());
        ApiError none = assertThrows(ApiError.class, () -> new KeyRing().authenticate("Bearer " + secret));
        assertEquals("invalid_api_key", none.code());
    }
}
