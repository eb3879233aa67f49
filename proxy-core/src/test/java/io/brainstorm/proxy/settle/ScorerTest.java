package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.config.ScoringConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scoring rules (docs/scoring.md) on real-looking OpenAI requests and answers. */
class ScorerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ScoringConfig CONFIG = new ScoringConfig(true, 1 << 20, 64 * 1024, 1);

    private final Scorer scorer = new Scorer(CONFIG);

    // ---- requests --------------------------------------------------------------------------

    static final String WEATHER_PARAMETERS = """
            {"type":"object","properties":{
              "city":{"type":"string","minLength":1},
              "unit":{"type":"string","enum":["celsius","fahrenheit"]},
              "days":{"type":"integer","minimum":1,"maximum":14}},
             "required":["city","days"],"additionalProperties":false}""";

    static final String PERSON_SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string"},
              "age":{"type":"integer","minimum":0},
              "email":{"type":"string","pattern":"^[^@\\\\s]+@[^@\\\\s]+$"}},
             "required":["name","age","email"],"additionalProperties":false}""";

    static JsonNode request(String extra) {
        try {
            return JSON.readTree("""
                    {"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]%s}""".formatted(extra.isEmpty() ? "" : "," + extra));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String jsonObjectFormat() {
        return "\"response_format\":{\"type\":\"json_object\"}";
    }

    static String jsonSchemaFormat(String schema) {
        return "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"strict\":true,\"schema\":"
                + schema + "}}";
    }

    static String tools(String toolChoice) {
        return "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Forecast\","
                + "\"parameters\":" + WEATHER_PARAMETERS + "}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}]"
                + (toolChoice == null ? "" : ",\"tool_choice\":" + toolChoice);
    }

    ScoreSpec spec(String extra) {
        return ScoreSpec.of(request(extra), scorer);
    }

    // ---- answers ---------------------------------------------------------------------------

    /** An OpenAI {@code chat.completion} whose message has {@code content} (null: JSON null). */
    static String answer(String content, String finishReason) {
        ObjectNode message = JSON.createObjectNode().put("role", "assistant");
        message.put("content", content);
        return completion(message, finishReason);
    }

    /** An answer with tool calls: pairs of name and arguments text. */
    static String toolAnswer(String... nameThenArguments) {
        ObjectNode message = JSON.createObjectNode().put("role", "assistant");
        message.putNull("content");
        ArrayNode calls = message.putArray("tool_calls");
        for (int i = 0; i < nameThenArguments.length; i += 2) {
            ObjectNode call = calls.addObject().put("id", "call_" + i).put("type", "function");
            call.putObject("function").put("name", nameThenArguments[i]).put("arguments", nameThenArguments[i + 1]);
        }
        return completion(message, "tool_calls");
    }

    static String completion(ObjectNode message, String finishReason) {
        ObjectNode body = JSON.createObjectNode()
                .put("id", "chatcmpl-AbC123")
                .put("object", "chat.completion")
                .put("created", 1_764_000_000)
                .put("model", "gpt-4o-mini-2024-07-18");
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        choice.set("message", message);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        body.putObject("usage")
                .put("prompt_tokens", 19)
                .put("completion_tokens", 10)
                .put("total_tokens", 29);
        body.put("system_fingerprint", "fp_0ba0d124f1");
        return body.toString();
    }

    Scorer.Result score(ScoreSpec spec, String body) {
        return score(scorer, spec, body);
    }

    /** Scores {@code body} from a heap and from a direct buffer; both must agree and stay untouched. */
    static Scorer.Result score(Scorer scorer, ScoreSpec spec, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf heap = Unpooled.wrappedBuffer(new byte[3], bytes).readerIndex(3).copy();
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes);
        try {
            Scorer.Result fromHeap = scorer.scoreAnswer(spec, heap);
            Scorer.Result fromDirect = scorer.scoreAnswer(spec, direct);
            assertEquals(fromHeap, fromDirect, "heap and direct buffers score alike");
            assertEquals(0, direct.readerIndex(), "reader index untouched");
            assertEquals(bytes.length, direct.writerIndex(), "writer index untouched");
            assertEquals(1, direct.refCnt(), "not released");
            return fromHeap;
        } finally {
            heap.release();
            direct.release();
        }
    }

    static void assertResult(ScoreOutcome outcome, Scorer.Result r) {
        assertEquals(outcome, r.outcome(), () -> "outcome of " + r);
        assertEquals(Scorer.result(outcome).score(), r.score(), () -> "score of " + r);
    }

    // ---- plain -----------------------------------------------------------------------------

    @Test
    void plainNonEmptyAnswerScoresOne() {
        ScoreSpec plain = spec("");
        assertFalse(plain.structured());
        assertEquals("plain", plain.kind());
        Scorer.Result r = score(plain, answer("Hello! How can I help you today?", "stop"));
        assertEquals(new Scorer.Result(1, ScoreOutcome.PLAIN_OK), r);
    }

    @Test
    void plainEmptyOrBlankAnswerScoresZero() {
        ScoreSpec plain = spec("");
        assertResult(ScoreOutcome.EMPTY, score(plain, answer("", "stop")));
        assertResult(ScoreOutcome.EMPTY, score(plain, answer(null, "stop")));
        assertResult(ScoreOutcome.EMPTY, score(plain, answer(" \n\t", "stop")));
        assertResult(ScoreOutcome.EMPTY, score(plain, "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[]}"));
    }

    @Test
    void plainAnswerCutByLengthStillScoresOneWhenNotEmpty() {
        // docs/scoring.md: length → 0 only where structure was required
        assertResult(ScoreOutcome.PLAIN_OK, score(spec(""), answer("Once upon a time there was a", "length")));
        assertResult(ScoreOutcome.EMPTY, score(spec(""), answer("", "length")));
    }

    @Test
    void plainToolCallWithoutDeclaredToolsCountsAsAnAnswer() {
        assertResult(ScoreOutcome.PLAIN_OK, score(spec(""), toolAnswer("anything", "{}")));
    }

    @Test
    void unparsableOrChoicelessBodyIsAnError() {
        assertEquals(
                Scorer.ERROR,
                score(spec(""), "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"content\":\"hi"));
        assertEquals(Scorer.ERROR, score(spec(""), "<html>502 Bad Gateway</html>"));
        assertEquals(Scorer.ERROR, score(spec(""), ""));
        assertEquals(
                Scorer.ERROR, score(spec(""), "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}"));
        assertEquals(Scorer.ERROR, score(spec(jsonObjectFormat()), "[1,2]"));
        assertEquals(Scorer.ERROR, score(spec(""), answer("hi", "stop") + "{}"));
    }

    @Test
    void contentWrittenAsTextPartsIsJoined() {
        String body = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                + "[{\"type\":\"text\",\"text\":\"{\\\"a\\\":\"},{\"type\":\"text\",\"text\":\"1}\"}]},\"finish_reason\":\"stop\"}]}";
        assertResult(ScoreOutcome.VALID, score(spec(jsonObjectFormat()), body));
    }

    @Test
    void theFirstChoiceIsScoredWhateverTheOrder() {
        String body = "{\"choices\":[{\"message\":{\"content\":\"not json\"},\"index\":1,\"finish_reason\":\"stop\"},"
                + "{\"message\":{\"content\":\"{\\\"ok\\\":true}\"},\"index\":0,\"finish_reason\":\"stop\"}]}";
        assertResult(ScoreOutcome.VALID, score(spec(jsonObjectFormat()), body));
    }

    // ---- json_object -----------------------------------------------------------------------

    @Test
    void jsonObjectThatParsesIsValid() {
        ScoreSpec s = spec(jsonObjectFormat());
        assertTrue(s.structured());
        assertFalse(s.expensive());
        assertEquals("json_object", s.kind());
        assertResult(
                ScoreOutcome.VALID,
                score(s, answer("{\"name\":\"Ada\",\"langs\":[\"en\",\"fr\"],\"age\":36}", "stop")));
        assertResult(ScoreOutcome.VALID, score(s, answer("\n  {\"name\": \"Ada\"}\n", "stop")));
    }

    @Test
    void jsonObjectThatDoesNotParseIsInvalid() {
        ScoreSpec s = spec(jsonObjectFormat());
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("Sure! Here is the JSON: {\"name\":\"Ada\"}", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("{\"name\":\"Ada\",}", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("{\"name\":\"Ada\"} {\"name\":\"Bob\"}", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("{'name':'Ada'}", "stop")));
    }

    @Test
    void jsonObjectMustBeAnObject() {
        ScoreSpec s = spec(jsonObjectFormat());
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("[1,2,3]", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("\"just a string\"", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("42", "stop")));
    }

    @Test
    void jsonObjectInAMarkdownFenceIsInvalid() {
        assertResult(
                ScoreOutcome.INVALID_JSON,
                score(spec(jsonObjectFormat()), answer("```json\n{\"name\":\"Ada\"}\n```", "stop")));
    }

    @Test
    void jsonObjectEmptyOrCutByLengthScoresZero() {
        ScoreSpec s = spec(jsonObjectFormat());
        assertResult(ScoreOutcome.EMPTY, score(s, answer("", "stop")));
        assertResult(ScoreOutcome.CUT_BY_LENGTH, score(s, answer("{\"name\":\"Ada\",\"bio\":\"born in", "length")));
        // even a cut answer that happens to parse is incomplete
        assertResult(ScoreOutcome.CUT_BY_LENGTH, score(s, answer("{}", "length")));
    }

    // ---- json_schema -----------------------------------------------------------------------

    @Test
    void jsonSchemaAnswerThatValidatesIsValid() {
        ScoreSpec s = spec(jsonSchemaFormat(PERSON_SCHEMA));
        assertTrue(s.structured());
        assertTrue(s.expensive());
        assertEquals("json_schema", s.kind());
        assertResult(
                ScoreOutcome.VALID,
                score(s, answer("{\"name\":\"Ada\",\"age\":36,\"email\":\"ada@example.com\"}", "stop")));
    }

    @Test
    void jsonSchemaAnswerThatDoesNotValidateIsAMismatch() {
        ScoreSpec s = spec(jsonSchemaFormat(PERSON_SCHEMA));
        assertResult(ScoreOutcome.SCHEMA_MISMATCH, score(s, answer("{\"name\":\"Ada\",\"age\":36}", "stop")));
        assertResult(
                ScoreOutcome.SCHEMA_MISMATCH,
                score(s, answer("{\"name\":\"Ada\",\"age\":\"36\",\"email\":\"ada@example.com\"}", "stop")));
        assertResult(
                ScoreOutcome.SCHEMA_MISMATCH,
                score(s, answer("{\"name\":\"Ada\",\"age\":36,\"email\":\"ada@example.com\",\"x\":1}", "stop")));
        assertResult(
                ScoreOutcome.SCHEMA_MISMATCH,
                score(s, answer("{\"name\":\"Ada\",\"age\":36,\"email\":\"not an email\"}", "stop")));
        assertResult(ScoreOutcome.SCHEMA_MISMATCH, score(s, answer("[]", "stop")));
    }

    @Test
    void jsonSchemaAnswerThatIsNotJsonIsInvalidJson() {
        ScoreSpec s = spec(jsonSchemaFormat(PERSON_SCHEMA));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("Ada, 36, ada@example.com", "stop")));
        assertResult(
                ScoreOutcome.INVALID_JSON,
                score(s, answer("```json\n{\"name\":\"Ada\",\"age\":36,\"email\":\"a@b\"}\n```", "stop")));
    }

    @Test
    void jsonSchemaAnswerCutByLengthScoresZero() {
        ScoreSpec s = spec(jsonSchemaFormat(PERSON_SCHEMA));
        assertResult(ScoreOutcome.CUT_BY_LENGTH, score(s, answer("{\"name\":\"Ada\",\"age\":36,\"em", "length")));
    }

    @Test
    void jsonSchemaWithInDocumentReferencesWorks() {
        String schema = """
                {"$defs":{"step":{"type":"object","properties":{"explanation":{"type":"string"},"output":{"type":"string"}},
                   "required":["explanation","output"],"additionalProperties":false}},
                 "type":"object","properties":{"steps":{"type":"array","items":{"$ref":"#/$defs/step"}},"final_answer":{"type":"string"}},
                 "required":["steps","final_answer"],"additionalProperties":false}""";
        ScoreSpec s = spec(jsonSchemaFormat(schema));
        assertResult(
                ScoreOutcome.VALID,
                score(
                        s,
                        answer(
                                "{\"steps\":[{\"explanation\":\"8x = -30\",\"output\":\"x = -3.75\"}],\"final_answer\":\"x = -3.75\"}",
                                "stop")));
        assertResult(
                ScoreOutcome.SCHEMA_MISMATCH,
                score(
                        s,
                        answer("{\"steps\":[{\"explanation\":\"8x = -30\"}],\"final_answer\":\"x = -3.75\"}", "stop")));
    }

    @Test
    void jsonSchemaWithoutASchemaOnlyNeedsJson() {
        ScoreSpec s = spec("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}");
        assertEquals("json_schema", s.kind());
        assertResult(ScoreOutcome.VALID, score(s, answer("[1]", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("one", "stop")));
    }

    @Test
    void textResponseFormatIsPlain() {
        ScoreSpec s = spec("\"response_format\":{\"type\":\"text\"}");
        assertFalse(s.structured());
        assertResult(ScoreOutcome.PLAIN_OK, score(s, answer("not json", "stop")));
    }

    // ---- tools -----------------------------------------------------------------------------

    @Test
    void toolCallThatNamesADeclaredToolWithValidArgumentsIsValid() {
        ScoreSpec s = spec(tools(null));
        assertTrue(s.structured());
        assertTrue(s.expensive());
        assertEquals("tools", s.kind());
        assertResult(ScoreOutcome.VALID, score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3}")));
        assertResult(
                ScoreOutcome.VALID,
                score(
                        s,
                        toolAnswer(
                                "get_weather",
                                "{\"city\":\"Paris\",\"days\":3,\"unit\":\"celsius\"}",
                                "get_time",
                                "{}")));
        // a function without parameters takes no arguments; blank arguments count as {}
        assertResult(ScoreOutcome.VALID, score(s, toolAnswer("get_time", "")));
    }

    @Test
    void toolCallOfAnUndeclaredToolIsUnknown() {
        ScoreSpec s = spec(tools(null));
        assertResult(ScoreOutcome.UNKNOWN_TOOL, score(s, toolAnswer("get_wether", "{\"city\":\"Paris\",\"days\":3}")));
        assertResult(
                ScoreOutcome.UNKNOWN_TOOL,
                score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3}", "send_email", "{}")));
    }

    @Test
    void toolCallWithArgumentsThatAreNotJsonIsBad() {
        ScoreSpec s = spec(tools(null));
        assertResult(ScoreOutcome.BAD_ARGUMENTS, score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":")));
        assertResult(ScoreOutcome.BAD_ARGUMENTS, score(s, toolAnswer("get_weather", "city=Paris")));
        assertResult(ScoreOutcome.BAD_ARGUMENTS, score(s, toolAnswer("get_time", "[]")));
    }

    @Test
    void toolCallWithArgumentsFailingTheSchemaIsBad() {
        ScoreSpec s = spec(tools(null));
        assertResult(ScoreOutcome.BAD_ARGUMENTS, score(s, toolAnswer("get_weather", "{\"city\":\"Paris\"}")));
        assertResult(
                ScoreOutcome.BAD_ARGUMENTS, score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":30}")));
        assertResult(
                ScoreOutcome.BAD_ARGUMENTS,
                score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3,\"unit\":\"kelvin\"}")));
        assertResult(
                ScoreOutcome.BAD_ARGUMENTS,
                score(s, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3,\"country\":\"FR\"}")));
    }

    @Test
    void noToolCallWhenOneIsRequiredIsUnknownTool() {
        assertResult(
                ScoreOutcome.UNKNOWN_TOOL, score(spec(tools("\"required\"")), answer("It is sunny in Paris.", "stop")));
        String named = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}";
        assertResult(ScoreOutcome.UNKNOWN_TOOL, score(spec(tools(named)), answer("It is sunny in Paris.", "stop")));
    }

    @Test
    void namedToolChoiceMustBeTheToolCalled() {
        String named = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}";
        assertResult(
                ScoreOutcome.VALID,
                score(spec(tools(named)), toolAnswer("get_weather", "{\"city\":\"Oslo\",\"days\":1}")));
        assertResult(ScoreOutcome.UNKNOWN_TOOL, score(spec(tools(named)), toolAnswer("get_time", "{}")));
    }

    @Test
    void noToolCallWithAutoChoiceIsScoredOnTheWords() {
        assertResult(ScoreOutcome.VALID, score(spec(tools("\"auto\"")), answer("Which city do you mean?", "stop")));
        assertResult(ScoreOutcome.VALID, score(spec(tools(null)), answer("Which city do you mean?", "stop")));
        assertResult(ScoreOutcome.EMPTY, score(spec(tools("\"auto\"")), answer("", "stop")));
    }

    @Test
    void toolsWithChoiceNoneArePlain() {
        ScoreSpec s = spec(tools("\"none\""));
        assertFalse(s.structured());
        assertFalse(s.expensive());
        assertEquals("plain", s.kind());
        assertResult(ScoreOutcome.PLAIN_OK, score(s, answer("It is sunny.", "length")));
    }

    @Test
    void toolCallsCutByLengthScoreZero() {
        String body = toolAnswer("get_weather", "{\"city\":\"Par")
                .replace("\"finish_reason\":\"tool_calls\"", "\"finish_reason\":\"length\"");
        assertTrue(body.contains("\"length\""));
        assertResult(ScoreOutcome.CUT_BY_LENGTH, score(spec(tools(null)), body));
    }

    @Test
    void toolsAndResponseFormatTogether() {
        ScoreSpec s = spec(tools(null) + "," + jsonSchemaFormat(PERSON_SCHEMA));
        assertEquals("tools", s.kind());
        assertResult(ScoreOutcome.VALID, score(s, toolAnswer("get_weather", "{\"city\":\"Rome\",\"days\":2}")));
        // no tool call: the content must be what the response format asked for
        assertResult(
                ScoreOutcome.VALID,
                score(s, answer("{\"name\":\"Ada\",\"age\":36,\"email\":\"ada@example.com\"}", "stop")));
        assertResult(ScoreOutcome.SCHEMA_MISMATCH, score(s, answer("{\"name\":\"Ada\"}", "stop")));
        assertResult(ScoreOutcome.INVALID_JSON, score(s, answer("Ada is 36.", "stop")));
    }

    @Test
    void legacyFunctionsAreTools() {
        ScoreSpec s = spec("\"functions\":[{\"name\":\"get_weather\",\"parameters\":" + WEATHER_PARAMETERS + "}],"
                + "\"function_call\":{\"name\":\"get_weather\"}");
        assertEquals("tools", s.kind());
        String ok = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                + "\"function_call\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Lima\\\",\\\"days\\\":5}\"}},"
                + "\"finish_reason\":\"function_call\"}]}";
        assertResult(ScoreOutcome.VALID, score(s, ok));
        assertResult(ScoreOutcome.BAD_ARGUMENTS, score(s, ok.replace("5}", "50}")));
        assertResult(ScoreOutcome.UNKNOWN_TOOL, score(s, answer("Lima is warm.", "stop")));
    }

    @Test
    void argumentsWrittenAsAnObjectAreAccepted() {
        String body = "{\"choices\":[{\"index\":0,\"message\":{\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Kyiv\",\"days\":2}}}]},\"finish_reason\":\"tool_calls\"}]}";
        assertResult(ScoreOutcome.VALID, score(spec(tools(null)), body));
    }

    // ---- unusable schemas --------------------------------------------------------------------

    @Test
    void schemaLargerThanTheLimitIsUnusable() {
        Scorer small = new Scorer(new ScoringConfig(true, 1 << 20, 256, 1));
        StringBuilder props = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            props.append(i == 0 ? "" : ",").append("\"field_").append(i).append("\":{\"type\":\"string\"}");
        }
        ScoreSpec s =
                ScoreSpec.of(request(jsonSchemaFormat("{\"type\":\"object\",\"properties\":{" + props + "}}")), small);
        assertNotNull(s.unusableReason());
        assertTrue(s.unusableReason().contains("max_schema_bytes"), s.unusableReason());
        assertFalse(s.expensive(), "nothing to validate");
        assertEquals(
                new Scorer.Result(Completion.NO_SCORE, ScoreOutcome.SCHEMA_UNUSABLE),
                score(small, s, answer("{\"field_1\":\"x\"}", "stop")));
        assertEquals(0, small.compiledSchemas(), "never compiled");
        // the same limit applies to tool parameters
        ScoreSpec t = ScoreSpec.of(
                request("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                        + "{\"type\":\"object\",\"properties\":{" + props + "}}}}]"),
                small);
        assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(small, t, toolAnswer("f", "{}")));
    }

    @Test
    void remoteReferenceIsNeverFetched() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(200);
            String base = "http://127.0.0.1:" + server.getLocalPort();
            String[] schemas = {
                "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + base + "/x.json\"}}}",
                "{\"$ref\":\"" + base + "/x.json#/definitions/a\"}",
                "{\"$schema\":\"" + base + "/meta\",\"type\":\"object\"}",
                "{\"$id\":\"" + base + "/root.json\",\"properties\":{\"a\":{\"$ref\":\"other.json\"}}}",
                "{\"properties\":{\"a\":{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"}}}",
                "{\"properties\":{\"a\":{\"$ref\":\"classpath:/META-INF/MANIFEST.MF\"}}}",
                "{\"properties\":{\"a\":{\"$ref\":\"file:///etc/passwd\"}}}",
            };
            for (String schema : schemas) {
                ScoreSpec s = spec(jsonSchemaFormat(schema));
                assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(s, answer("{\"a\":1}", "stop")));
                assertThrowsTimeout(server, schema);
            }
        }
    }

    private static void assertThrowsTimeout(ServerSocket server, String schema) throws IOException {
        try {
            server.accept().close();
            throw new AssertionError("the scorer connected to " + server.getLocalPort() + " for " + schema);
        } catch (SocketTimeoutException expected) {
            // nobody connected
        }
    }

    @Test
    void oneClientsIdDoesNotAnswerAnothersReference() {
        ScoreSpec first =
                spec(jsonSchemaFormat("{\"$id\":\"https://tenant-a.example/person.json\",\"type\":\"object\"}"));
        assertResult(ScoreOutcome.VALID, score(first, answer("{}", "stop")));
        ScoreSpec second =
                spec(jsonSchemaFormat("{\"properties\":{\"p\":{\"$ref\":\"https://tenant-a.example/person.json\"}}}"));
        assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(second, answer("{\"p\":{}}", "stop")));
    }

    @Test
    void invalidSchemaIsUnusable() {
        String[] invalid = {
            "{\"type\":\"strnig\"}",
            "{\"type\":5}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"minimum\":\"ten\"}}}",
            "{\"type\":\"object\",\"required\":\"name\"}",
            "{\"pattern\":\"([a-z\"}",
            "{\"$ref\":\"#/$defs/missing\"}",
            "\"a string\"",
            "[{\"type\":\"object\"}]",
        };
        for (String schema : invalid) {
            ScoreSpec s = spec(jsonSchemaFormat(schema));
            assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(s, answer("{\"name\":\"Ada\"}", "stop")));
        }
        // tool parameters too
        ScoreSpec t = spec(
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"objet\"}}}]");
        assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(t, toolAnswer("f", "{}")));
        assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(t, answer("no call", "stop")));
    }

    @Test
    void draft7SchemasAreUnderstood() {
        String schema =
                "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"n\":{\"type\":\"integer\"}},"
                        + "\"type\":\"object\",\"properties\":{\"n\":{\"$ref\":\"#/definitions/n\"}},\"required\":[\"n\"]}";
        ScoreSpec s = spec(jsonSchemaFormat(schema));
        assertResult(ScoreOutcome.VALID, score(s, answer("{\"n\":3}", "stop")));
        assertResult(ScoreOutcome.SCHEMA_MISMATCH, score(s, answer("{\"n\":\"3\"}", "stop")));
    }

    // ---- bounded patterns --------------------------------------------------------------------

    @Test
    void catastrophicPatternsDoNotHangTheScorer() {
        String input = "\"" + "a".repeat(40) + "!\"";
        // the classic; Java 17's engine memoises it, so it fails fast: a mismatch
        assertScoredWithin(
                ScoreOutcome.SCHEMA_MISMATCH,
                spec(jsonSchemaFormat("{\"type\":\"string\",\"pattern\":\"^(a+)+$\"}")),
                "\"aaa\"",
                answer(input, "stop"));
        // these backtrack exponentially in java.util.regex (hours for this input): cut by the step budget
        for (String pattern : List.of("^(a|aa){1,100}$", "^(.*a){20}$", "^(a+){2,40}$")) {
            ScoreSpec s = spec(jsonSchemaFormat("{\"type\":\"string\",\"pattern\":\"" + pattern + "\"}"));
            assertScoredWithin(ScoreOutcome.SCHEMA_UNUSABLE, s, "\"aaa\"", answer(input, "stop"));
        }
        // in patternProperties and in tool parameters too
        ScoreSpec props =
                spec(jsonSchemaFormat("{\"type\":\"object\",\"patternProperties\":{\"^(a|aa){1,100}$\":{}}}"));
        assertScoredWithin(ScoreOutcome.SCHEMA_UNUSABLE, props, "{}", answer("{" + input + ":1}", "stop"));
        ScoreSpec tool = spec("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"pattern\":\"^(.*a){20}$\"}}}}}]");
        assertScoredWithin(ScoreOutcome.SCHEMA_UNUSABLE, tool, "{}", toolAnswer("f", "{\"s\":" + input + "}"));
    }

    /**
     * Scores a harmless answer first (its content {@code warmUp}), so that compiling the schema is
     * not timed, then {@code body} within 2 s.
     */
    private void assertScoredWithin(ScoreOutcome expected, ScoreSpec s, String warmUp, String body) {
        boolean tool = body.contains("tool_calls");
        score(s, tool ? toolAnswer("f", warmUp) : answer(warmUp, "stop"));
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertResult(expected, score(s, body)));
    }

    @Test
    void theStepBudgetIsPerValidationNotPerString() {
        // each string costs java.util.regex about 35,000 steps to reject; "not" makes it valid, so
        // validation goes on to the next string
        ScoreSpec s = spec(jsonSchemaFormat(
                "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"not\":{\"pattern\":\"^(a|aa){1,100}$\"}}}"));
        // 20 strings fit in one validation's budget, and the budget is whole again for the next answer
        for (int i = 0; i < 3; i++) {
            assertResult(ScoreOutcome.VALID, score(s, answer(strings(20), "stop")));
        }
        // 200 strings do not: many cheap strings cannot add up to an unbounded validation
        assertTimeoutPreemptively(
                Duration.ofSeconds(2),
                () -> assertResult(ScoreOutcome.SCHEMA_UNUSABLE, score(s, answer(strings(200), "stop"))));
    }

    private static String strings(int n) {
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            many.append(i == 0 ? "" : ",").append("\"").append("a".repeat(18)).append("!\"");
        }
        return many.append("]").toString();
    }

    // ---- limits, cache, config -----------------------------------------------------------------

    @Test
    void structuredAnswerLargerThanTheCaptureLimitIsNotScored() {
        Scorer small = new Scorer(new ScoringConfig(true, 1024, 64 * 1024, 1));
        String big = "{\"text\":\"" + "x".repeat(2000) + "\"}";
        assertEquals(
                new Scorer.Result(Completion.NO_SCORE, ScoreOutcome.OVER_LIMIT),
                score(small, ScoreSpec.of(request(jsonObjectFormat()), small), answer(big, "stop")));
        ScoreSpec tools = ScoreSpec.of(request(tools(null)), small);
        assertResult(ScoreOutcome.OVER_LIMIT, score(small, tools, toolAnswer("get_weather", big)));
        // a plain answer is not validated, so its size does not matter
        assertResult(ScoreOutcome.PLAIN_OK, score(small, ScoreSpec.of(request(""), small), answer(big, "stop")));
    }

    @Test
    void theSameSchemaCompilesOnce() {
        ScoreSpec a = spec(jsonSchemaFormat(PERSON_SCHEMA));
        // the same schema with keys in another order and other whitespace
        ScoreSpec b = spec(jsonSchemaFormat("""
                { "additionalProperties" : false, "required" : ["name","age","email"],
                  "properties" : { "email" : {"pattern":"^[^@\\\\s]+@[^@\\\\s]+$","type":"string"},
                                   "age" : {"minimum":0,"type":"integer"}, "name" : {"type":"string"} },
                  "type" : "object" }"""));
        assertEquals(0, scorer.compiledSchemas(), "compiled on the first answer, not when the request arrives");
        for (int i = 0; i < 5; i++) {
            assertResult(
                    ScoreOutcome.VALID,
                    score(i % 2 == 0 ? a : b, answer("{\"name\":\"A\",\"age\":1,\"email\":\"a@b\"}", "stop")));
        }
        assertEquals(1, scorer.compiledSchemas());
        ScoreSpec tools = spec(tools(null));
        score(tools, toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3}"));
        score(spec(tools(null)), toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3}"));
        assertEquals(2, scorer.compiledSchemas(), "one more schema: the weather tool's parameters");
    }

    @Test
    void theCacheIsBounded() {
        SchemaCache cache = scorer.schemaCache();
        for (int i = 0; i < SchemaCache.MAX_ENTRIES + 50; i++) {
            cache.entry(JSON.createObjectNode().put("maxLength", i));
        }
        assertEquals(SchemaCache.MAX_ENTRIES, cache.size());
    }

    @Test
    void disabledScoringOnlyChecksForAnAnswer() {
        Scorer off = new Scorer(new ScoringConfig(false, 1 << 20, 64 * 1024, 1));
        ScoreSpec s = ScoreSpec.of(request(jsonSchemaFormat(PERSON_SCHEMA)), off);
        assertFalse(s.structured());
        assertResult(ScoreOutcome.PLAIN_OK, score(off, s, answer("not json at all", "stop")));
        assertResult(ScoreOutcome.EMPTY, score(off, s, answer("", "stop")));
        assertEquals(0, off.compiledSchemas());
    }

    @Test
    void oddRequestsNeverThrow() {
        String[] odd = {
            "\"response_format\":\"json_object\"",
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":\"x\"}",
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":null}}",
            "\"tools\":{\"type\":\"function\"}",
            "\"tools\":[1,null,{\"type\":\"function\"},{\"type\":\"function\",\"function\":{\"name\":5}}]",
            "\"tools\":[{\"type\":\"web_search\"}],\"tool_choice\":{\"type\":\"allowed_tools\"}",
            "\"tool_choice\":\"required\"",
        };
        for (String extra : odd) {
            ScoreSpec s = spec(extra);
            assertNotNull(s.kind());
            assertNotNull(score(s, answer("{\"a\":1}", "stop")));
        }
        assertEquals(ScoreSpec.PLAIN, ScoreSpec.of(null, scorer));
        assertEquals(ScoreSpec.PLAIN, ScoreSpec.of(JSON.getNodeFactory().textNode("x"), scorer));
        assertNull(spec(tools(null)).unusableReason());
    }

    @Test
    void readAnswerGivesTheFirstChoice() {
        ByteBuf body = Unpooled.copiedBuffer(
                toolAnswer("get_weather", "{\"city\":\"Paris\",\"days\":3}", "get_time", ""), StandardCharsets.UTF_8);
        try {
            AnswerContent a = Scorer.readAnswer(body);
            assertEquals(
                    new AnswerContent(
                            null,
                            List.of(
                                    new AnswerContent.ToolCall("get_weather", "{\"city\":\"Paris\",\"days\":3}"),
                                    new AnswerContent.ToolCall("get_time", "")),
                            "tool_calls"),
                    a);
        } finally {
            body.release();
        }
    }
}
