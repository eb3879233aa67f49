package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The gateway's one JSON mapper, shared by the API, the relay, the admin API, the audit trail and
 * the CLI, and the few ways they all use it.
 *
 * <p><b>Threading:</b> the mapper is configured once here and thread-safe; so are the helpers.
 *
 * <p><b>Ownership:</b> {@link #read(ByteBuf)} reads a buffer's readable bytes without moving its
 * reader index or releasing it; the caller keeps it.
 */
public final class Json {
    /**
     * Decimals stay exact (digits and trailing zeros: 1.0 stays 1.0) and are written back plain
     * unless that would inflate them ({@link PassThroughGenerator}); large inputs are bounded.
     */
    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(200)
                            .maxNumberLength(100)
                            .build())
                    .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
                    .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    private Json() {}

    /**
     * The JSON value in {@code buf}'s readable bytes, as {@link ObjectMapper#readTree} reads it, in place.
     *
     * @throws IOException when they are not JSON
     */
    public static JsonNode read(ByteBuf buf) throws IOException {
        return MAPPER.readTree(new ByteBufInputStream(buf.duplicate()));
    }

    /** {@code value} as compact JSON text; a tree always writes, so a failure is unchecked. */
    public static String write(JsonNode value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
