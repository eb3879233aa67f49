package io.brainstorm.proxy.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RequestFeatures;
import io.brainstorm.proxy.upstream.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ParsedRequestTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"hi\"}]";

    private static final ModelSpec MODEL = Catalog.builtIn().find("sim/alpha").orElseThrow();
    /** Its upstream name differs from the client's, so the rename is visible. */
    private static final Endpoint ENDPOINT = new Endpoint(
            "sim-east",
            MODEL,
            MODEL.price(),
            new Origin("127.0.0.1", 8080, null),
            "/v1",
            "sk-test",
            Timeouts.DEFAULT,
            true);

    private static ParsedRequest parse(ParsedRequest.Kind kind, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        try {
            ParsedRequest parsed = ParsedRequest.parse(kind, content);
            assertEquals(0, content.readerIndex(), "the caller's buffer is not consumed");
            return parsed;
        } finally {
            content.release();
        }
    }

    private static ParsedRequest chat(String body) {
        return parse(ParsedRequest.Kind.CHAT, body);
    }

    private static String upstreamText(ParsedRequest parsed) {
        ByteBuf buf = parsed.upstreamBody(PooledByteBufAllocator.DEFAULT, ENDPOINT);
        try {
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }

    private static JsonNode upstream(ParsedRequest parsed) throws Exception {
        return JSON.readTree(upstreamText(parsed));
    }

    private static ApiError rejected(ParsedRequest.Kind kind, String body, String param) {
        ApiError e = assertThrows(ApiError.class, () -> parse(kind, body), body);
        assertEquals(400, e.status().code(), body);
        assertEquals("invalid_request", e.code(), body);
        assertEquals(param, e.param(), body + " → " + e.getMessage());
        return e;
    }

    private static ApiError rejectedChat(String body, String param) {
        return rejected(ParsedRequest.Kind.CHAT, body, param);
    }

    @Test
    void upstreamBodyRenamesTheModelAndDropsGatewayFields() throws Exception {
        ParsedRequest parsed = chat("{\"model\":\"alpha\",\"models\":[\"sim/alpha\",\"sim/beta\"],"
                + "\"provider\":{\"order\":[\"sim-east\"],\"allow_fallbacks\":true},\"messages\":" + MESSAGES + "}");
        assertEquals("alpha", parsed.model(), "the name as the client wrote it");
        JsonNode out = upstream(parsed);
        assertEquals(MODEL.upstreamName(), out.get("model").asText());
        assertNull(out.get("models"), "OpenRouter's fallback list is the gateway's, not the provider's");
        assertNull(out.get("provider"));
        assertEquals(JSON.readTree(MESSAGES), out.get("messages"));
    }

    @Test
    void oversizedNumbersAndDeepNestingAre400() {
        String longNumber = "1".repeat(150);
        ApiError number = assertThrows(
                ApiError.class,
                () -> chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + ",\"x\":" + longNumber + "}"));
        assertEquals(400, number.status().code());
        String deep = "[".repeat(300) + "]".repeat(300);
        ApiError nesting = assertThrows(
                ApiError.class,
                () -> chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + ",\"x\":" + deep + "}"));
        assertEquals(400, nesting.status().code());
    }

    @Test
    void otherFieldsPassThroughByteForByte() throws Exception {
        String tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                + "\"required\":[\"city\"],\"additionalProperties\":false},\"strict\":true}}]";
        String format = "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"w\",\"schema\":{\"type\":\"object\","
                + "\"properties\":{\"t\":{\"type\":\"number\",\"minimum\":-273.15}}},\"strict\":true}}";
        String unknown = "{\"seed\":42,\"temperature\":0.70,\"top_p\":1.0,\"big\":123456789012345678901234567890,"
                + "\"tiny\":0.000000001,\"nested\":{\"a\":[null,true,false,\"x\\\"y\\\\z\\n\"]},\"empty\":{}}";
        ParsedRequest parsed = chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + ",\"tools\":" + tools
                + ",\"tool_choice\":\"auto\",\"response_format\":" + format + ",\"x_vendor\":" + unknown + "}");
        String out = upstreamText(parsed);
        assertTrue(out.contains("\"tools\":" + tools), out);
        assertTrue(out.contains("\"response_format\":" + format), out);
        assertTrue(out.contains("\"x_vendor\":" + unknown), "numbers keep their digits: " + out);
        assertTrue(out.contains("\"tool_choice\":\"auto\""), out);

        RequestFeatures f = parsed.features();
        assertTrue(f.tools());
        assertTrue(f.json());
        assertFalse(f.stream());
    }

    @Test
    void streamRequestsAskForUsage() throws Exception {
        ParsedRequest plain = chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + "}");
        assertNull(upstream(plain).get("stream_options"), "nothing added to a whole answer");

        ParsedRequest stream = chat("{\"model\":\"sim/alpha\",\"stream\":true,\"messages\":" + MESSAGES + "}");
        assertTrue(stream.stream());
        assertFalse(stream.clientWantsUsage());
        assertTrue(upstream(stream).at("/stream_options/include_usage").asBoolean());

        ParsedRequest optedOut = chat("{\"model\":\"sim/alpha\",\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":false,\"other\":1},\"messages\":" + MESSAGES + "}");
        assertFalse(optedOut.clientWantsUsage(), "remembered, so the usage chunk can be hidden from the client");
        JsonNode options = upstream(optedOut).get("stream_options");
        assertTrue(options.get("include_usage").asBoolean(), "the gateway needs usage for cost");
        assertEquals(1, options.get("other").asInt(), "other options kept");

        ParsedRequest wants = chat("{\"model\":\"sim/alpha\",\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"messages\":" + MESSAGES + "}");
        assertTrue(wants.clientWantsUsage());

        ParsedRequest nullOptions = chat(
                "{\"model\":\"sim/alpha\",\"stream\":true,\"stream_options\":null," + "\"messages\":" + MESSAGES + "}");
        assertTrue(upstream(nullOptions).at("/stream_options/include_usage").asBoolean());

        ParsedRequest notStreamed = chat("{\"model\":\"sim/alpha\",\"stream\":false,\"messages\":" + MESSAGES + "}");
        assertNull(upstream(notStreamed).get("stream_options"));
    }

    @Test
    void maxCompletionTokensWinsOverMaxTokens() {
        assertEquals(
                50,
                chat("{\"model\":\"m\",\"max_tokens\":100,\"max_completion_tokens\":50,\"messages\":" + MESSAGES + "}")
                        .features()
                        .maxOutputTokens());
        assertEquals(
                500,
                chat("{\"model\":\"m\",\"max_completion_tokens\":500,\"max_tokens\":100,\"messages\":" + MESSAGES + "}")
                        .features()
                        .maxOutputTokens());
        assertEquals(
                100,
                chat("{\"model\":\"m\",\"max_tokens\":100,\"messages\":" + MESSAGES + "}")
                        .features()
                        .maxOutputTokens());
        assertEquals(
                -1,
                chat("{\"model\":\"m\",\"max_tokens\":null,\"messages\":" + MESSAGES + "}")
                        .features()
                        .maxOutputTokens(),
                "absent");
    }

    @Test
    void wrongTypesNameTheParam() {
        String m = ",\"messages\":" + MESSAGES;
        rejectedChat("{\"model\":\"m\",\"max_tokens\":0" + m + "}", "max_tokens");
        rejectedChat("{\"model\":\"m\",\"max_tokens\":-3" + m + "}", "max_tokens");
        rejectedChat("{\"model\":\"m\",\"max_tokens\":\"x\"" + m + "}", "max_tokens");
        rejectedChat("{\"model\":\"m\",\"max_tokens\":1.5" + m + "}", "max_tokens");
        rejectedChat("{\"model\":\"m\",\"max_completion_tokens\":true" + m + "}", "max_completion_tokens");
        rejectedChat("{\"model\":\"m\",\"stream\":\"yes\"" + m + "}", "stream");
        rejectedChat("{\"model\":\"m\",\"stream_options\":[]" + m + "}", "stream_options");
        rejectedChat(
                "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":1}" + m + "}", "include_usage");
        rejectedChat("{\"model\":\"m\",\"tools\":{}" + m + "}", "tools");
        rejectedChat("{\"model\":\"m\",\"response_format\":\"json\"" + m + "}", "response_format");
        rejectedChat("{\"model\":\"m\",\"response_format\":{}" + m + "}", "response_format");
        rejectedChat("{\"model\":\"m\",\"messages\":[]}", "messages");
        rejectedChat("{\"model\":\"m\",\"messages\":{}}", "messages");
        rejectedChat("{\"model\":\"m\"}", "messages");
        rejectedChat("{\"model\":\"m\",\"messages\":[{\"content\":\"no role\"}]}", "messages[0]");
        rejectedChat("{\"model\":\"m\",\"messages\":[{\"role\":\"user\"},\"text\"]}", "messages[1]");
        rejectedChat("{\"messages\":" + MESSAGES + "}", "model");
        rejectedChat("{\"model\":7" + m + "}", "model");
        rejectedChat("{\"model\":\"  \"" + m + "}", "model");
        rejected(ParsedRequest.Kind.EMBEDDINGS, "{\"model\":\"m\"}", "input");
        rejected(ParsedRequest.Kind.EMBEDDINGS, "{\"model\":\"m\",\"input\":{}}", "input");
    }

    @Test
    void messagesNameTheValueAndWhatWasExpected() {
        ApiError e = rejectedChat("{\"model\":\"m\",\"max_tokens\":-3,\"messages\":" + MESSAGES + "}", "max_tokens");
        assertTrue(e.getMessage().contains("-3") && e.getMessage().contains("expected"), e.getMessage());
    }

    @Test
    void bodiesThatAreNotOneJsonObjectAreRejected() {
        for (String body : new String[] {
            "",
            "not json",
            "[1,2]",
            "\"text\"",
            "null",
            "{\"model\":\"m\",\"messages\":" + MESSAGES,
            "{\"model\":\"m\",\"messages\":" + MESSAGES + "}}",
            "{\"model\":\"m\",\"messages\":" + MESSAGES + "} {\"model\":\"other\"}"
        }) {
            ApiError e = assertThrows(ApiError.class, () -> chat(body), body);
            assertEquals(400, e.status().code(), body);
            assertNull(e.param(), body);
        }
    }

    @Test
    void embeddingsKeepTheirInput() throws Exception {
        ParsedRequest parsed =
                parse(ParsedRequest.Kind.EMBEDDINGS, "{\"model\":\"m\",\"input\":[\"a\",\"b\"],\"dimensions\":256}");
        assertTrue(parsed.features().embeddings());
        assertEquals("/embeddings", parsed.upstreamPath());
        JsonNode out = upstream(parsed);
        assertEquals(JSON.readTree("[\"a\",\"b\"]"), out.get("input"));
        assertEquals(256, out.get("dimensions").asInt());
        assertNull(out.get("stream_options"));
    }

    @Test
    void upstreamBodyCanBeBuiltForEachFallback() throws Exception {
        ParsedRequest parsed = chat("{\"model\":\"sim/alpha\",\"stream\":true,\"messages\":" + MESSAGES + "}");
        String first = upstreamText(parsed);
        assertEquals(first, upstreamText(parsed), "building one body does not change the next");
        assertEquals("sim/alpha", parsed.model());
    }

    @Test
    void openRouterFieldsAreReadForRoutingAndNotForwarded() throws Exception {
        ParsedRequest p = chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + ",\"user\":\"u-42\","
                + "\"models\":[\"sim/beta\",\"sim/gamma\"],"
                + "\"provider\":{\"order\":[\"sim-west\",\"sim-east\"],\"allow_fallbacks\":false,\"sort\":\"price\","
                + "\"data_collection\":\"deny\"}}");
        RequestFeatures f = p.features();
        assertEquals(java.util.List.of("sim/beta", "sim/gamma"), f.fallbackModels());
        assertEquals(java.util.List.of("sim-west", "sim-east"), f.provider().order());
        assertFalse(f.provider().allowFallbacks());
        assertEquals("price", f.provider().sort());
        assertEquals("u-42", f.user());
        JsonNode up = upstream(p);
        assertFalse(up.has("models") || up.has("provider"), up.toString());
        assertEquals("u-42", up.path("user").asText(), "user passes through");
    }

    @Test
    void withoutOpenRouterFieldsThereAreNoPreferences() {
        RequestFeatures f =
                chat("{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + "}").features();
        assertTrue(f.fallbackModels().isEmpty());
        assertTrue(f.provider().order().isEmpty());
        assertTrue(f.provider().allowFallbacks());
        assertNull(f.provider().sort());
        assertEquals("", f.user());
    }

    @Test
    void badOpenRouterFieldsAre400NamingTheField() {
        String base = "{\"model\":\"sim/alpha\",\"messages\":" + MESSAGES + ",";
        String[][] cases = {
            {"\"models\":\"sim/beta\"}", "models"},
            {"\"models\":[\"sim/beta\",3]}", "models[1]"},
            {"\"models\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]}", "models"},
            {"\"provider\":[]}", "provider"},
            {"\"provider\":{\"order\":\"sim-east\"}}", "provider.order"},
            {"\"provider\":{\"order\":[1]}}", "provider.order[0]"},
            {"\"provider\":{\"allow_fallbacks\":\"no\"}}", "provider.allow_fallbacks"},
            {"\"provider\":{\"sort\":\"cheapest\"}}", "provider.sort"},
            {"\"user\":42}", "user"},
        };
        for (String[] c : cases) {
            ApiError e = assertThrows(ApiError.class, () -> chat(base + c[0]), c[0]);
            assertEquals(400, e.status().code(), c[0]);
            assertEquals(c[1], e.param(), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void thePromptEstimateErrsHighForProseAndForCjk() {
        String english = "The quick brown fox jumps over the lazy dog and keeps running. ".repeat(20);
        ParsedRequest en =
                chat("{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"" + english + "\"}]}");
        // about 4 characters per token in English prose: the estimate must not be below that
        assertTrue(
                en.features().estimatedInputTokens() >= english.length() / 4,
                en.features().toString());
        String chinese = "请用中文回答这个问题并解释原因".repeat(30);
        ParsedRequest zh =
                chat("{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"" + chinese + "\"}]}");
        // about one token per character in Chinese, where UTF-8 bytes / 4 would count 0.75
        assertTrue(
                zh.features().estimatedInputTokens() >= chinese.length(),
                zh.features().toString());
        io.netty.buffer.ByteBuf ten = Unpooled.copiedBuffer("abcdefghij", StandardCharsets.UTF_8);
        try {
            assertEquals(4, ParsedRequest.estimateTokens(ten), "10 ASCII bytes: ceil(10 / 3)");
        } finally {
            ten.release();
        }
    }
}
