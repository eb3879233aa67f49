package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.pick;
import static org.quicktheories.generators.Generate.range;
import static org.quicktheories.generators.SourceDSL.lists;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import io.brainstorm.proxy.api.Json;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * {@link AnswerCheck#body} agrees with reading the whole answer as a tree (what a client's SDK
 * does): it passes exactly the bodies that are one JSON object with the kind's array at the top
 * level, whatever the bytes and however they are cut into buffer components.
 */
class AnswerCheckPropertiesTest {
    private static final List<String> TOKENS = List.of(
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            " ",
            "\"choices\"",
            "\"data\"",
            "\"x\"",
            "1",
            "-2.5e3",
            "null",
            "true",
            "\"a\\\"}\"",
            "\"é数\"",
            "<html>",
            "\n",
            "{\"choices\":[]}",
            "{\"data\":[{}]}",
            "{\"choices\":[{\"message\":{\"content\":\"{]\"}}]");
    private static final ObjectReader TREE = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Test
    void agreesWithATreeReadOfTheWholeBody() {
        qt().withExamples(3000)
                .forAll(bodies(), lists().of(range(0, 30)).ofSizeBetween(0, 6))
                .checkAssert((body, cuts) -> {
                    for (AnswerCheck.Kind kind : AnswerCheck.Kind.values()) {
                        assertEquals(treeSays(body, kind), check(body, cuts, kind) == null, kind + ": " + body);
                    }
                });
    }

    private static Gen<String> bodies() {
        return lists().of(pick(TOKENS)).ofSizeBetween(0, 14).map(l -> String.join("", l));
    }

    private static boolean treeSays(String body, AnswerCheck.Kind kind) {
        try {
            JsonNode root = TREE.readTree(body.getBytes(StandardCharsets.UTF_8));
            String array = kind == AnswerCheck.Kind.CHAT ? "choices" : "data";
            return root != null && root.isObject() && root.path(array).isArray();
        } catch (IOException e) {
            return false;
        }
    }

    private static String check(String body, List<Integer> cuts, AnswerCheck.Kind kind) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        CompositeByteBuf buf = Unpooled.compositeBuffer();
        int at = 0;
        for (int n : cuts) {
            int len = Math.min(n, bytes.length - at);
            buf.addComponent(true, Unpooled.copiedBuffer(bytes, at, len));
            at += len;
        }
        buf.addComponent(true, Unpooled.copiedBuffer(bytes, at, bytes.length - at));
        try {
            String reason = AnswerCheck.body(buf, kind, Json.MAPPER.getFactory());
            assertEquals(bytes.length, buf.readableBytes());
            return reason;
        } finally {
            buf.release();
        }
    }
}
