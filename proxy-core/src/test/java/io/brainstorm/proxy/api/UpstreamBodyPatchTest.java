package io.brainstorm.proxy.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.upstream.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What the upstream receives: the client's bytes, with only the model renamed, the gateway's own
 * fields removed and, on streams, usage asked for ({@link ParsedRequest#upstreamBody}).
 */
class UpstreamBodyPatchTest {
    private static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"hi\"}]";

    private static Endpoint endpoint(String upstreamName) {
        Price price = new Price(1, 1, 1);
        ModelSpec model = new ModelSpec(
                "sim/" + upstreamName,
                "sim",
                upstreamName,
                List.of(),
                1000,
                100,
                price,
                Set.of(Capability.TOOLS, Capability.JSON),
                true,
                List.of(),
                0);
        return new Endpoint("e", model, price, new Origin("127.0.0.1", 1, null), "/v1", "k", Timeouts.DEFAULT, true);
    }

    private static final Endpoint UP = endpoint("up-model");

    private static ParsedRequest parse(String body) {
        return parse(body.getBytes(StandardCharsets.UTF_8));
    }

    private static ParsedRequest parse(byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        try {
            return ParsedRequest.parse(ParsedRequest.Kind.CHAT, content);
        } finally {
            content.release();
        }
    }

    private static String upstream(ParsedRequest p, Endpoint e) {
        ByteBuf out = p.upstreamBody(PooledByteBufAllocator.DEFAULT, e);
        try {
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            out.release();
        }
    }

    private static String upstream(String body) {
        return upstream(parse(body), UP);
    }

    @Test
    void aBodyWithNothingToChangeGoesOutByteForByte() {
        String body = "{ \"messages\" :\t" + MESSAGES + ",\n\"model\": \"up-model\" , \"temperature\":1.0,"
                + "\"x\":{\"n\":[1E+2,-0.0,1e-7],\"s\":\"\\u00e9\\n\\\"\"} }";
        assertEquals(body, upstream(body));
    }

    @Test
    void theModelIsRenamedWhereverItIs() {
        String rest = "\"messages\":" + MESSAGES;
        assertEquals("{\"model\":\"up-model\"," + rest + "}", upstream("{\"model\":\"alpha\"," + rest + "}"));
        assertEquals(
                "{" + rest + ",\"model\" : \"up-model\",\"n\":1}",
                upstream("{" + rest + ",\"model\" : \"al\\u0070ha\",\"n\":1}"));
        assertEquals("{" + rest + ",\"model\":\"up-model\"}", upstream("{" + rest + ",\"model\":\"alpha\"}"));
        assertEquals(
                "{\"model\":\"we\\\"ird\\\\é\"," + rest + "}",
                upstream(parse("{\"model\":\"alpha\"," + rest + "}"), endpoint("we\"ird\\é")),
                "the upstream name is escaped as JSON");
    }

    @Test
    void aModelGivenTwiceRoutesOnTheLastAndBothAreRenamed() {
        ParsedRequest p = parse("{\"model\":\"first\",\"messages\":" + MESSAGES + ",\"model\":\"second\"}");
        assertEquals("second", p.model(), "the last occurrence, as a JSON tree reads it");
        assertEquals("{\"model\":\"up-model\",\"messages\":" + MESSAGES + ",\"model\":\"up-model\"}", upstream(p, UP));
    }

    @Test
    void gatewayFieldsAreRemovedWithTheirCommaAtStartMiddleAndEnd() {
        String m = "\"model\":\"up-model\"";
        String msgs = "\"messages\":" + MESSAGES;
        String models = "\"models\":[\"a\",\"b\"]";
        String provider = "\"provider\":{\"order\":[\"x\"],\"sort\":\"price\"}";
        String expected = "{" + m + "," + msgs + "}";
        assertEquals(expected, upstream("{" + models + "," + m + "," + msgs + "}"), "start");
        assertEquals("{" + m + " ," + msgs + "}", upstream("{" + m + ", " + models + " ," + msgs + "}"), "middle");
        assertEquals(expected, upstream("{" + m + "," + msgs + "," + models + "}"), "end");
        assertEquals(
                expected, upstream("{" + models + "," + provider + "," + m + "," + msgs + "}"), "two at the start");
        assertEquals(
                expected, upstream("{" + m + "," + models + "," + provider + "," + msgs + "}"), "two in the middle");
        assertEquals(
                "{" + m + "," + msgs + "\n}",
                upstream("{" + m + "," + msgs + "," + provider + ",\n" + models + "\n}"),
                "two at the end");
        assertEquals(
                "{" + m + "," + msgs + "}",
                upstream("{" + models + "," + m + "," + provider + "," + msgs + "," + models + "}"),
                "every occurrence, around kept fields");
    }

    @Test
    void streamsAskForUsageAndTouchNothingElse() {
        String head = "{\"model\":\"up-model\",\"stream\":true,\"messages\":" + MESSAGES;
        assertEquals(
                "{\"model\":\"up-model\",\"stream_options\":{\"include_usage\":true},\"stream\":true,\"messages\":"
                        + MESSAGES + "}",
                upstream(head + "}"),
                "added after the model when absent");
        assertEquals(
                head + ",\"stream_options\":{\"include_usage\":true}}", upstream(head + ",\"stream_options\":null}"));
        assertEquals(
                head + ",\"stream_options\":{\"include_usage\":true }}", upstream(head + ",\"stream_options\":{ }}"));
        assertEquals(
                head + ",\"stream_options\":{\"include_usage\":true,\"x\":1}}",
                upstream(head + ",\"stream_options\":{\"x\":1}}"));
        assertEquals(
                head + ",\"stream_options\":{\"x\":1, \"include_usage\" : true }}",
                upstream(head + ",\"stream_options\":{\"x\":1, \"include_usage\" : false }}"));
        ParsedRequest optedOut = parse(head + ",\"stream_options\":{\"include_usage\":null}}");
        assertFalse(optedOut.clientWantsUsage());
        assertEquals(head + ",\"stream_options\":{\"include_usage\":true}}", upstream(optedOut, UP));
        String whole = "{\"model\":\"up-model\",\"stream\":false,\"stream_options\":{\"include_usage\":false},"
                + "\"messages\":" + MESSAGES + "}";
        assertEquals(whole, upstream(whole), "a whole answer's options are the client's");
    }

    @Test
    void eachAttemptGetsABodyOfItsOwn() {
        ParsedRequest p =
                parse("{\"model\":\"alpha\",\"stream\":true,\"models\":[\"b\"],\"messages\":" + MESSAGES + "}");
        String first = upstream(p, UP);
        String other = upstream(p, endpoint("other"));
        assertEquals(first, upstream(p, UP));
        assertEquals(first.replace("up-model", "other"), other);
    }

    @Test
    void aModelThatIsNotAStringIsRefused() {
        for (String model : new String[] {"7", "null", "[\"a\"]", "{\"a\":1}", "true", "\"\""}) {
            ApiError e = assertThrows(
                    ApiError.class, () -> parse("{\"model\":" + model + ",\"messages\":" + MESSAGES + "}"), model);
            assertEquals("model", e.param(), model);
        }
        ApiError last = assertThrows(
                ApiError.class, () -> parse("{\"model\":\"a\",\"messages\":" + MESSAGES + ",\"model\":5}"));
        assertEquals("model", last.param(), "the last occurrence is the one checked");
    }

    @Test
    void structuredValuesOfReadFieldsAreReadWhole() {
        String choice = "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}";
        String body = "{\"model\":\"up-model\",\"messages\":" + MESSAGES + ",\"tools\":[{\"type\":\"function\","
                + "\"function\":{\"name\":\"f\"}}]," + choice + ",\"n\":1}";
        ParsedRequest p = parse(body);
        assertEquals("tools", p.format());
        assertEquals(body, upstream(p, UP));
        ApiError user = assertThrows(
                ApiError.class, () -> parse("{\"model\":\"a\",\"messages\":" + MESSAGES + ",\"user\":{\"id\":[1]}}"));
        assertEquals("user", user.param());
        ApiError max = assertThrows(
                ApiError.class, () -> parse("{\"model\":\"a\",\"messages\":" + MESSAGES + ",\"max_tokens\":[5]}"));
        assertEquals("max_tokens", max.param());
        assertTrue(max.getMessage().contains("[5]"), max.getMessage());
    }

    @Test
    void errorsComeInTheSameOrderWhateverTheFieldOrder() {
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"max_tokens\":0,\"messages\":{},\"model\":1}"));
        assertEquals("model", e.param());
        ApiError json = assertThrows(ApiError.class, () -> parse("{\"model\":1,\"messages\":[}"));
        assertNull(json.param(), "malformed JSON is found before any field");
    }

    @Test
    void aHugeBodyIsPatchedInPlace() {
        String content = "word \\\"quoted\\\" é ".repeat(400_000); // about 8 MB
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],\"model\":\"alpha\"}";
        assertEquals(body.replace("\"alpha\"", "\"up-model\""), upstream(body));
    }

    @Test
    void aUtf16BodyIsStillServedAsUtf8() {
        String body = "{\"model\":\"alpha\",\"messages\":" + MESSAGES + "}";
        ParsedRequest p = parse(body.getBytes(StandardCharsets.UTF_16BE));
        assertEquals("alpha", p.model());
        assertEquals("{\"model\":\"up-model\",\"messages\":" + MESSAGES + "}", upstream(p, UP));
    }

    @Test
    void scoringGetsTheFieldsItReadsAndThePromptIsReadOnDemand() throws Exception {
        String format = "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\"}}}";
        ParsedRequest p = parse("{\"model\":\"a\",\"messages\":[ {\"role\" : \"user\", \"content\":\"hi\"} ],"
                + "\"response_format\":" + format + ",\"tools\":[],\"tool_choice\":\"none\",\"seed\":1}");
        assertEquals("json_schema", p.format());
        ObjectNode fields = p.scoringFields();
        assertEquals(Json.MAPPER.readTree(format), fields.get("response_format"));
        assertEquals(Set.of("response_format", "tools", "tool_choice"), Set.copyOf(names(fields)));
        assertEquals("[{\"role\":\"user\",\"content\":\"hi\"}]", p.prompt(), "compact, as the tree writes it");
        assertEquals(
                "tools",
                parse("{\"model\":\"a\",\"messages\":" + MESSAGES + ",\"tools\":[{\"type\":\"function\"}]}")
                        .format());
        assertEquals(
                "plain",
                parse("{\"model\":\"a\",\"messages\":" + MESSAGES + ",\"tools\":[{}],\"tool_choice\":\"none\"}")
                        .format());
        assertTrue(parse("{\"model\":\"a\",\"messages\":" + MESSAGES + "}")
                .scoringFields()
                .isEmpty());
    }

    private static List<String> names(ObjectNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /**
     * For bodies with fields in any order, unknown fields of any shape, whitespace anywhere and
     * the gateway's own fields scattered: the upstream body reads as the client's tree with the
     * model renamed, the gateway's fields gone and usage asked for on a stream; and every member
     * the gateway keeps is there byte for byte, in the client's order.
     */
    @Test
    void theUpstreamBodyIsTheClientsWithOnlyThosePatches() {
        qt().withExamples(1500).forAll(longs().all()).checkAssert(seed -> {
            Random r = new Random(seed);
            List<String> members = new ArrayList<>();
            List<String> kept = new ArrayList<>();
            String model = r.nextBoolean() ? "\"alpha\"" : "\"al\\u0070ha/\\\"x\\\"\"";
            kept.add(member(r, "model", model));
            kept.add(member(
                    r, "messages", "[" + ws(r) + "{\"role\":\"user\",\"content\":" + string(r) + "}" + ws(r) + "]"));
            boolean stream = r.nextBoolean();
            if (stream || r.nextBoolean()) {
                kept.add(member(r, "stream", String.valueOf(stream)));
            }
            switch (r.nextInt(4)) {
                case 0 -> kept.add(member(r, "stream_options", "null"));
                case 1 -> kept.add(member(r, "stream_options", "{" + ws(r) + "}"));
                case 2 ->
                    kept.add(member(
                            r,
                            "stream_options",
                            "{\"include_usage\":" + r.nextBoolean() + "," + ws(r) + "\"o\":" + value(r, 2) + "}"));
                default -> {}
            }
            for (int i = r.nextInt(6); i > 0; i--) {
                kept.add(member(r, "x" + r.nextInt(3), value(r, 3)));
            }
            members.addAll(kept);
            int removed = r.nextInt(4);
            for (int i = 0; i < removed; i++) {
                members.add(
                        r.nextBoolean()
                                ? member(r, "models", "[\"sim/beta\"]")
                                : member(r, "provider", "{\"order\":[\"p\"]," + ws(r) + "\"x\":" + value(r, 2) + "}"));
            }
            Collections.shuffle(members, r);
            String body = ws(r) + "{" + ws(r) + String.join(ws(r) + "," + ws(r), members) + ws(r) + "}" + ws(r);
            ParsedRequest p;
            try {
                p = parse(body);
            } catch (ApiError e) {
                throw new AssertionError(body + " → " + e.getMessage(), e);
            }
            String out = upstream(p, UP);
            try {
                JsonNode expected = Json.MAPPER.readTree(body);
                ObjectNode o = (ObjectNode) expected;
                o.put("model", "up-model");
                o.remove("models");
                o.remove("provider");
                if (stream) {
                    JsonNode so = o.get("stream_options");
                    (so instanceof ObjectNode options ? options : o.putObject("stream_options"))
                            .put("include_usage", true);
                }
                assertEquals(expected, Json.MAPPER.readTree(out), body + "\n→ " + out);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            int at = 0;
            for (String m : members) {
                if (m.startsWith("\"model\"")
                        || m.startsWith("\"models\"")
                        || m.startsWith("\"provider\"")
                        || stream && m.startsWith("\"stream_options\"")) {
                    continue; // patched or removed
                }
                int found = out.indexOf(m, at);
                assertTrue(found >= 0, "kept byte for byte and in order: " + m + "\nin " + out);
                at = found + m.length();
            }
        });
    }

    private static String member(Random r, String name, String value) {
        return "\"" + name + "\"" + ws(r) + ":" + ws(r) + value;
    }

    private static String ws(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> " ";
            case 1 -> "\n  ";
            case 2 -> "\t";
            case 3 -> "\r\n";
            default -> "";
        };
    }

    private static String string(Random r) {
        String[] parts = {"plain", "é数", "\\\"", "\\\\", "\\u00e9", "\\n", "{\\\"a\\\":1}", ",:[]{}"};
        StringBuilder s = new StringBuilder("\"");
        for (int i = r.nextInt(4); i > 0; i--) {
            s.append(parts[r.nextInt(parts.length)]);
        }
        return s.append('"').toString();
    }

    private static String value(Random r, int depth) {
        int kind = depth == 0 ? r.nextInt(4) : r.nextInt(6);
        return switch (kind) {
            case 0 -> string(r);
            case 1 -> new String[] {"1", "1.0", "-0.50", "1e5", "2E-3", "123456789012345678901234567890"}[r.nextInt(6)];
            case 2 -> new String[] {"true", "false", "null"}[r.nextInt(3)];
            case 3 -> "\"model\"";
            case 4 -> {
                List<String> items = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    items.add(value(r, depth - 1));
                }
                yield "[" + ws(r) + String.join(ws(r) + "," + ws(r), items) + ws(r) + "]";
            }
            default -> {
                List<String> items = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    // nested names the gateway reads at the top level are not its business here
                    String name = new String[] {"model", "models", "provider", "stream_options", "k"}[r.nextInt(5)];
                    items.add(member(r, name, value(r, depth - 1)));
                }
                yield "{" + ws(r) + String.join(ws(r) + "," + ws(r), items) + ws(r) + "}";
            }
        };
    }
}
