package io.brainstorm.proxy.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import java.io.UncheckedIOException;

/** JSON trees for golden tests, compared as the wire would see them. */
final class Trees {
    private Trees() {}

    /** {@code text} parsed; single quotes stand for double quotes, so goldens read without escapes. */
    static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text.replace('\'', '"'));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Equal as JSON text would be: numbers compared by their written form, not their Java type. */
    static void assertJson(String expected, JsonNode actual) {
        try {
            assertEquals(
                    json(expected), Json.MAPPER.readTree(Json.write(actual)), () -> "actual: " + Json.write(actual));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
