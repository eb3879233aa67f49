package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ParsedRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/** The error code in a provider's 4xx body ({@code error.code}), for completion records. */
final class UpstreamErrors {
    private static final int MAX_CODE_CHARS = 64;

    private UpstreamErrors() {
    }

    /**
     * {@code error.code} (else {@code error.type}) of an OpenAI-shaped error body when it is a short
     * identifier ({@code [a-z0-9_.-]}); else {@code upstream_client_error}. Indexes untouched.
     */
    static String code(@Nullable ByteBuf body) {
        try {
            JsonNode root = ParsedRequest.JSON.readTree(new ByteBufInputStream(body.duplicate()));
            JsonNode error = root == null ? null : root.get("error");
            if (error != null) {
                for (String field : new String[] {"code", "type"}) {
                    JsonNode v = error.get(field);
                    if (v != null && v.isTextual() && identifier(v.textValue())) {
                        return v.textValue();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the status says enough
        }
        return "upstream_client_error";
    }

    private static boolean identifier(String s) {
        if (s.isEmpty() || s.length() > MAX_CODE_CHARS) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-')) {
                return false;
            }
        }
        return true;
    }
}
