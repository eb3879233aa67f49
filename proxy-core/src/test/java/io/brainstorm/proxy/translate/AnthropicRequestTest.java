package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AnthropicRequestTest {

    private static final String MODEL = "claude-sonnet-4-5-20250929";

    private static AnthropicRequest.Translation translate(String openAi) {
        return AnthropicRequest.translate(json(openAi), MODEL, 8192);
    }

    private static ApiError refused(String openAi) {
        return assertThrows(ApiError.class, () -> translate(openAi));
    }

    private static void assertRefused(String openAi, String param, String message) {
        ApiError e = refused(openAi);
        assertEquals(400, e.status().code());
        assertEquals("invalid_request_error", e.type());
        assertEquals(param, e.param());
        assertEquals(message, e.getMessage());
    }

    @Test
    void systemAndDeveloperMessagesBecomeTopLevelSystemBlocks() {
        AnthropicRequest.Translation t = translate("""
                {'model':'anthropic/claude-sonnet-4-5','messages':[
                  {'role':'system','content':'Be brief.'},
                  {'role':'developer','content':[{'type':'text','text':'Answer in French.'}]},
                  {'role':'user','content':'Hello'}]}
                """);
        assertJson("""
                {'model':'claude-sonnet-4-5-20250929','max_tokens':8192,
                 'system':[{'type':'text','text':'Be brief.'},{'type':'text','text':'Answer in French.'}],
                 'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}]}
                """, t.body());
        assertFalse(t.stream());
        assertFalse(t.includeUsage());
        assertNull(t.forcedTool());
        assertEquals(0, t.thinkingBudget());
    }

    @Test
    void samplingStopUserAndStreamAreCarried() {
        AnthropicRequest.Translation t = translate("""
                {'model':'m','messages':[{'role':'user','content':'Hi'}],
                 'max_tokens':100,'temperature':0.2,'top_p':0.9,'stop':'END','user':'alice',
                 'stream':true,'stream_options':{'include_usage':true},
                 'seed':7,'n':1,'presence_penalty':0,'frequency_penalty':0.0,'logit_bias':{},'logprobs':false,
                 'store':false,'metadata':{'a':'b'},'service_tier':'auto'}
                """);
        assertJson("""
                {'model':'claude-sonnet-4-5-20250929','max_tokens':100,
                 'messages':[{'role':'user','content':[{'type':'text','text':'Hi'}]}],
                 'stop_sequences':['END'],'metadata':{'user_id':'alice'},'temperature':0.2,'top_p':0.9,
                 'stream':true}
                """, t.body());
        assertTrue(t.stream());
        assertTrue(t.includeUsage());
    }

    @Test
    void maxCompletionTokensWinsOverMaxTokensAndAListOfStopsIsKept() {
        JsonNode body = translate("""
                {'messages':[{'role':'user','content':'Hi'}],'max_tokens':100,'max_completion_tokens':300,
                 'stop':['a','b']}
                """).body();
        assertEquals(300, body.get("max_tokens").intValue());
        assertJson("['a','b']", body.get("stop_sequences"));
    }

    @Test
    void includeUsageWithoutStreamIsNotAsked() {
        assertFalse(translate("{'messages':[{'role':'user','content':'Hi'}],'stream_options':{'include_usage':true}}")
                .includeUsage());
    }

    @Test
    void whatAnthropicCannotHonourIsRefusedNamingTheParameter() {
        String hi = "'messages':[{'role':'user','content':'Hi'}]";
        assertRefused("{" + hi + ",'n':2}", "n", "n: 2 (expected: 1; Anthropic models give one choice)");
        assertRefused(
                "{" + hi + ",'presence_penalty':0.5}",
                "presence_penalty",
                "presence_penalty: 0.5 (expected: 0; Anthropic models have no penalties)");
        assertRefused(
                "{" + hi + ",'frequency_penalty':-1}",
                "frequency_penalty",
                "frequency_penalty: -1 (expected: 0; Anthropic models have no penalties)");
        assertRefused(
                "{" + hi + ",'logit_bias':{'50256':-100}}",
                "logit_bias",
                "logit_bias: {\"50256\":-100} (expected: none; Anthropic models take no logit bias)");
        assertRefused(
                "{" + hi + ",'logprobs':true}",
                "logprobs",
                "logprobs: true (expected: false; Anthropic models give no logprobs)");
        assertRefused(
                "{" + hi + ",'top_logprobs':3}",
                "top_logprobs",
                "top_logprobs: 3 (expected: none; Anthropic models give no logprobs)");
        assertRefused(
                "{" + hi + ",'temperature':1.5}",
                "temperature",
                "temperature: 1.5 (expected: between 0 and 1 for Anthropic models)");
        assertRefused("{" + hi + ",'max_tokens':-3}", "max_tokens", "max_tokens: -3 (expected: an integer > 0)");
        assertRefused(
                "{" + hi + ",'max_completion_tokens':1.5}",
                "max_completion_tokens",
                "max_completion_tokens: 1.5 (expected: an integer > 0)");
        assertRefused("{" + hi + ",'stop':[1]}", "stop", "stop: [1] (expected: a string or a list of them)");
        assertRefused(
                "{'messages':[{'role':'system','content':'S'}]}",
                "messages",
                "messages: no user or assistant message (expected: at least one)");
        assertRefused("{'model':'m'}", "messages", "messages: missing (expected: a list of messages)");
        assertRefused(
                "{'messages':[{'role':'function','content':'x'}]}",
                "messages",
                "messages[0].role: \"function\" (expected: system, developer, user, assistant or tool)");
        assertRefused(
                "{'messages':[{'role':'user','content':[{'type':'input_audio','input_audio':{}}]}]}",
                "messages",
                "messages[0].content[0].type: \"input_audio\" (expected: text or image_url for Anthropic models)");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            value = {
                "'auto'                                         | {'type':'auto'}",
                "'required'                                     | {'type':'any'}",
                "'none'                                         | {'type':'none'}",
                "{'type':'function','function':{'name':'get_weather'}} | {'type':'tool','name':'get_weather'}"
            })
    void toolChoiceMaps(String openAi, String anthropic) {
        JsonNode body = translate("{'messages':[{'role':'user','content':'Hi'}],'tools':" + WEATHER_TOOL
                        + ",'tool_choice':" + openAi + "}")
                .body();
        assertJson(anthropic, body.get("tool_choice"));
    }

    private static final String WEATHER_TOOL = """
            [{'type':'function','function':{'name':'get_weather','description':'Weather in a city',
              'parameters':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']},
              'strict':true}}]
            """;

    @Test
    void toolsBecomeInputSchemasAndParallelFalseDisablesParallelUse() {
        JsonNode body = translate("{'messages':[{'role':'user','content':'Hi'}],'tools':" + WEATHER_TOOL
                        + ",'parallel_tool_calls':false}")
                .body();
        assertJson("""
                [{'name':'get_weather','description':'Weather in a city',
                  'input_schema':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']}}]
                """, body.get("tools"));
        assertJson("{'type':'auto','disable_parallel_tool_use':true}", body.get("tool_choice"));

        JsonNode required = translate("{'messages':[{'role':'user','content':'Hi'}],'tools':" + WEATHER_TOOL
                        + ",'tool_choice':'required','parallel_tool_calls':false}")
                .body();
        assertJson("{'type':'any','disable_parallel_tool_use':true}", required.get("tool_choice"));

        JsonNode none = translate("{'messages':[{'role':'user','content':'Hi'}],'tools':" + WEATHER_TOOL
                        + ",'tool_choice':'none','parallel_tool_calls':false}")
                .body();
        assertJson("{'type':'none'}", none.get("tool_choice"));
    }

    @Test
    void aToolWithoutParametersGetsAnEmptyObjectSchema() {
        JsonNode body = translate(
                        "{'messages':[{'role':'user','content':'Hi'}],'tools':[{'type':'function','function':{'name':'now'}}]}")
                .body();
        assertJson("[{'name':'now','input_schema':{'type':'object','properties':{}}}]", body.get("tools"));
    }

    @Test
    void badToolsAndToolChoicesAreRefused() {
        assertRefused(
                "{'messages':[{'role':'user','content':'Hi'}],'tools':[{'type':'code_interpreter'}]}",
                "tools",
                "tools[0]: \"code_interpreter\" (expected: a function tool with a name)");
        assertRefused(
                "{'messages':[{'role':'user','content':'Hi'}],'tool_choice':'sometimes'}",
                "tool_choice",
                "tool_choice: \"sometimes\" (expected: \"auto\", \"required\", \"none\" or a named function)");
    }

    /** The request half of a tool round trip: the assistant's calls and the tools' results. */
    static final String TOOL_ROUND_TRIP = """
            {'model':'anthropic/claude-sonnet-4-5','tools':%s,'messages':[
              {'role':'system','content':'You can look up weather.'},
              {'role':'user','content':'Weather in Paris and Oslo?'},
              {'role':'assistant','content':'Looking both up.','tool_calls':[
                {'id':'toolu_01','type':'function','function':{'name':'get_weather','arguments':'{\\"city\\":\\"Paris\\"}'}},
                {'id':'toolu_02','type':'function','function':{'name':'get_weather','arguments':'{\\"city\\":\\"Oslo\\"}'}}]},
              {'role':'tool','tool_call_id':'toolu_01','content':'18 C, sunny'},
              {'role':'tool','tool_call_id':'toolu_02','content':[{'type':'text','text':'4 C, rain'}]},
              {'role':'user','content':'Which is warmer?'}]}
            """.formatted(WEATHER_TOOL);

    @Test
    void toolCallsBecomeToolUseAndConsecutiveToolResultsOneUserTurn() {
        JsonNode body = translate(TOOL_ROUND_TRIP).body();
        assertJson("""
                [{'role':'user','content':[{'type':'text','text':'Weather in Paris and Oslo?'}]},
                 {'role':'assistant','content':[
                   {'type':'text','text':'Looking both up.'},
                   {'type':'tool_use','id':'toolu_01','name':'get_weather','input':{'city':'Paris'}},
                   {'type':'tool_use','id':'toolu_02','name':'get_weather','input':{'city':'Oslo'}}]},
                 {'role':'user','content':[
                   {'type':'tool_result','tool_use_id':'toolu_01','content':'18 C, sunny'},
                   {'type':'tool_result','tool_use_id':'toolu_02','content':[{'type':'text','text':'4 C, rain'}]},
                   {'type':'text','text':'Which is warmer?'}]}]
                """, body.get("messages"));
        assertJson("[{'type':'text','text':'You can look up weather.'}]", body.get("system"));
    }

    @Test
    void toolCallArgumentsMustBeAJsonObject() {
        String prefix = "{'messages':[{'role':'user','content':'Hi'},{'role':'assistant','tool_calls':[{'id':'t1',"
                + "'type':'function','function':{'name':'f','arguments':";
        assertRefused(
                prefix + "'{\\\"city\\\": '}}]}]}",
                "messages",
                "messages[1].tool_calls[0].function.arguments: \"{\"city\": \" (expected: a JSON object)");
        assertRefused(
                prefix + "'[1,2]'}}]}]}",
                "messages",
                "messages[1].tool_calls[0].function.arguments: \"[1,2]\" (expected: a JSON object)");
        JsonNode empty = translate(prefix + "''}}]}]}").body();
        assertJson(
                "{'type':'tool_use','id':'t1','name':'f','input':{}}",
                empty.get("messages").get(1).get("content").get(0));
    }

    @Test
    void imagePartsBecomeBase64OrUrlImageBlocks() {
        JsonNode body = translate("""
                {'messages':[{'role':'user','content':[
                  {'type':'text','text':'What is in these?'},
                  {'type':'image_url','image_url':{'url':'data:image/PNG;base64,iVBORw0KGgo=','detail':'high'}},
                  {'type':'image_url','image_url':{'url':'https://example.com/cat.jpg'}}]}]}
                """).body();
        assertJson("""
                [{'type':'text','text':'What is in these?'},
                 {'type':'image','source':{'type':'base64','media_type':'image/png','data':'iVBORw0KGgo='}},
                 {'type':'image','source':{'type':'url','url':'https://example.com/cat.jpg'}}]
                """, body.get("messages").get(0).get("content"));
    }

    @Test
    void imagesAnthropicCannotReadAreRefused() {
        assertRefused(
                "{'messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'data:image/bmp;base64,Qk0='}}]}]}",
                "messages",
                "messages[0].content[0].image_url.url: data:image/bmp;base64,…"
                        + " (expected: base64 data of image/jpeg, image/png, image/gif or image/webp)");
        assertRefused(
                "{'messages':[{'role':'user','content':[{'type':'image_url','image_url':{'url':'ftp://x/cat.png'}}]}]}",
                "messages",
                "messages[0].content[0].image_url.url: \"ftp://x/cat.png\" (expected: a data: URL or an http(s) URL)");
    }

    static final String JSON_SCHEMA_REQUEST = """
            {'messages':[{'role':'user','content':'Name a city.'}],
             'response_format':{'type':'json_schema','json_schema':{'name':'city','strict':true,
               'schema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}}}
            """;

    @Test
    void jsonSchemaBecomesAForcedToolRecordedForTheAnswer() {
        AnthropicRequest.Translation t = translate(JSON_SCHEMA_REQUEST);
        assertEquals("city", t.forcedTool());
        assertJson("""
                [{'name':'city','description':'Answer with JSON that fits this schema.',
                  'input_schema':{'type':'object','properties':{'name':{'type':'string'}},'required':['name']}}]
                """, t.body().get("tools"));
        assertJson("{'type':'tool','name':'city'}", t.body().get("tool_choice"));
    }

    @Test
    void jsonObjectBecomesAForcedFreeFormObjectTool() {
        AnthropicRequest.Translation t = translate(
                "{'messages':[{'role':'user','content':'JSON please'}],'response_format':{'type':'json_object'}}");
        assertEquals(AnthropicRequest.JSON_OBJECT_TOOL, t.forcedTool());
        assertJson(
                "[{'name':'json_object','description':'Answer with a JSON object.','input_schema':{'type':'object'}}]",
                t.body().get("tools"));
        assertJson("{'type':'tool','name':'json_object'}", t.body().get("tool_choice"));
        assertNull(translate("{'messages':[{'role':'user','content':'x'}],'response_format':{'type':'text'}}")
                .forcedTool());
    }

    @Test
    void responseFormatsAnthropicCannotHonourAreRefused() {
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'tools':" + WEATHER_TOOL
                        + ",'response_format':{'type':'json_object'}}",
                "response_format",
                "response_format: json_object together with tools (expected: one of them for Anthropic models)");
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'response_format':{'type':'json_schema',"
                        + "'json_schema':{'name':'list','schema':{'type':'array'}}}}",
                "response_format",
                "response_format.json_schema.schema: \"array\" (expected: a schema of type object for Anthropic models)");
    }

    @ParameterizedTest
    @CsvSource({"low, 1024", "medium, 4096", "high, 16384", "HIGH, 16384"})
    void reasoningEffortBecomesAThinkingBudget(String effort, int budget) {
        AnthropicRequest.Translation t = translate(
                "{'messages':[{'role':'user','content':'x'}],'max_tokens':32000,'reasoning_effort':'" + effort + "'}");
        assertEquals(budget, t.thinkingBudget());
        assertJson("{'type':'enabled','budget_tokens':" + budget + "}", t.body().get("thinking"));
        assertTrue(t.body().get("max_tokens").intValue() > budget);
    }

    @Test
    void theThinkingBudgetStaysUnderMaxTokens() {
        AnthropicRequest.Translation t = translate(
                "{'messages':[{'role':'user','content':'x'}],'max_completion_tokens':2000,'reasoning_effort':'high'}");
        assertEquals(1999, t.thinkingBudget());
        assertEquals(2000, t.body().get("max_tokens").intValue());
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'max_completion_tokens':1024,'reasoning_effort':'low'}",
                "max_completion_tokens",
                "max_completion_tokens: 1024 with reasoning_effort low (expected: > 1024, Anthropic's least thinking"
                        + " budget)");
        assertFalse(translate("{'messages':[{'role':'user','content':'x'}],'reasoning_effort':'minimal'}")
                .body()
                .has("thinking"));
    }

    @Test
    void thinkingRefusesWhatAnthropicForbidsWithIt() {
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'reasoning_effort':'low','temperature':0.5}",
                "temperature",
                "temperature: 0.5 with reasoning_effort (expected: 1 or none; Anthropic thinks only at temperature 1)");
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'reasoning_effort':'low','top_p':0.5}",
                "top_p",
                "top_p: 0.5 with reasoning_effort (expected: between 0.95 and 1 for Anthropic thinking)");
        ApiError forced = refused("{'messages':[{'role':'user','content':'x'}],'reasoning_effort':'low',"
                + "'response_format':{'type':'json_object'}}");
        assertEquals("reasoning_effort", forced.param());
        assertRefused(
                "{'messages':[{'role':'user','content':'x'}],'reasoning_effort':'extreme'}",
                "reasoning_effort",
                "reasoning_effort: \"extreme\" (expected: none, minimal, low, medium or high)");
    }

    @Test
    void aConversationOpeningWithTheAssistantGetsAUserTurnFirst() {
        JsonNode body = translate(
                        "{'messages':[{'role':'system','content':'S'},{'role':'assistant','content':'How can I help?'},"
                                + "{'role':'user','content':'Hi'},{'role':'user','content':'Anyone?'}]}")
                .body();
        assertJson("""
                [{'role':'user','content':[{'type':'text','text':'(start)'}]},
                 {'role':'assistant','content':[{'type':'text','text':'How can I help?'}]},
                 {'role':'user','content':[{'type':'text','text':'Hi'},{'type':'text','text':'Anyone?'}]}]
                """, body.get("messages"));
    }

    @Test
    void aFinalAssistantTurnLosesItsTrailingWhitespace() {
        JsonNode body = translate("{'messages':[{'role':'user','content':'Count'},"
                        + "{'role':'assistant','content':'One, two, \\n'}]}")
                .body();
        assertJson("{'type':'text','text':'One, two,'}", body.at("/messages/1/content/0"));
        JsonNode blank = translate(
                        "{'messages':[{'role':'user','content':'Count'}," + "{'role':'assistant','content':'  '}]}")
                .body();
        assertEquals(1, blank.get("messages").size());
        JsonNode earlier = translate(
                        "{'messages':[{'role':'assistant','content':'Hi \\n'}," + "{'role':'user','content':'Hello'}]}")
                .body();
        assertEquals("Hi \n", earlier.at("/messages/1/content/0/text").textValue());
    }

    @Test
    void headersCarryTheKeyTheVersionAndOnlyAllowedBetas() {
        Map<String, String> h = AnthropicRequest.headers(
                "sk-ant-1",
                AnthropicRequest.VERSION,
                " prompt-caching-2024-07-31, computer-use-2025-01-24 ,,prompt-caching-2024-07-31",
                Set.of("prompt-caching-2024-07-31", "interleaved-thinking-2025-05-14"));
        assertEquals(
                Map.of(
                        "x-api-key", "sk-ant-1",
                        "anthropic-version", "2023-06-01",
                        "anthropic-beta", "prompt-caching-2024-07-31"),
                h);
        assertEquals(
                Map.of("x-api-key", "k", "anthropic-version", "2023-06-01"),
                AnthropicRequest.headers("k", AnthropicRequest.VERSION, "computer-use-2025-01-24", Set.of()));
        assertEquals(
                Map.of("x-api-key", "k", "anthropic-version", "2023-06-01"),
                AnthropicRequest.headers("k", "2023-06-01", null, Set.of("x")));
    }

    @Test
    void theClientBodyIsNotModified() {
        JsonNode body = json(TOOL_ROUND_TRIP);
        JsonNode copy = body.deepCopy();
        AnthropicRequest.translate(body, MODEL, 100);
        assertEquals(copy, body);
    }

    private static final String[] ROLES = {"system", "user", "assistant", "tool"};

    /**
     * Any sequence of messages becomes strictly alternating turns opening with the user, with every
     * message's text in a turn of its role, in order within its kind, and nothing else added but the
     * opening turn.
     */
    @Test
    void anySequenceOfRolesBecomesAlternatingTurnsLosingNothing() {
        qt().withExamples(2_000)
                .forAll(lists().of(integers().between(0, 3)).ofSizeBetween(1, 14))
                .checkAssert(roles -> {
                    ArrayNode messages = JsonNodeFactory.instance.arrayNode();
                    List<String> userTexts = new ArrayList<>();
                    List<String> assistantTexts = new ArrayList<>();
                    List<String> systemTexts = new ArrayList<>();
                    for (int i = 0; i < roles.size(); i++) {
                        String role = ROLES[roles.get(i)];
                        String text = role + "-" + i;
                        ObjectNode m = messages.addObject().put("role", role);
                        switch (role) {
                            case "tool":
                                m.put("tool_call_id", "call_" + i).put("content", text);
                                userTexts.add(text);
                                break;
                            case "assistant":
                                m.put("content", text);
                                assistantTexts.add(text);
                                break;
                            case "user":
                                m.put("content", text);
                                userTexts.add(text);
                                break;
                            default:
                                m.put("content", text);
                                systemTexts.add(text);
                        }
                    }
                    ObjectNode request = JsonNodeFactory.instance.objectNode();
                    request.set("messages", messages);
                    if (userTexts.isEmpty() && assistantTexts.isEmpty()) {
                        assertThrows(ApiError.class, () -> AnthropicRequest.translate(request, MODEL, 10));
                        return;
                    }
                    JsonNode body =
                            AnthropicRequest.translate(request, MODEL, 10).body();

                    List<String> seenSystem = new ArrayList<>();
                    body.path("system")
                            .forEach(b -> seenSystem.add(b.get("text").textValue()));
                    assertEquals(systemTexts, seenSystem);

                    JsonNode turns = body.get("messages");
                    List<String> seenUser = new ArrayList<>();
                    List<String> seenAssistant = new ArrayList<>();
                    for (int t = 0; t < turns.size(); t++) {
                        JsonNode turn = turns.get(t);
                        assertEquals(
                                t % 2 == 0 ? "user" : "assistant",
                                turn.get("role").textValue(),
                                roles::toString);
                        assertFalse(turn.get("content").isEmpty());
                        boolean otherSeen = false;
                        for (JsonNode block : turn.get("content")) {
                            boolean result =
                                    "tool_result".equals(block.get("type").textValue());
                            assertFalse(result && otherSeen, "tool results first: " + turn);
                            otherSeen |= !result;
                            String text = result
                                    ? block.get("content").textValue()
                                    : block.get("text").textValue();
                            if (t == 0 && text.equals(AnthropicRequest.OPENING_USER_TEXT)) {
                                continue;
                            }
                            (t % 2 == 0 ? seenUser : seenAssistant).add(text);
                        }
                    }
                    assertEquals(assistantTexts, seenAssistant);
                    assertEquals(sortedByKind(userTexts), sortedByKind(seenUser));
                });
    }

    /** Tool results move ahead of text within a turn, so compare each kind's order on its own. */
    private static List<String> sortedByKind(List<String> texts) {
        List<String> out = new ArrayList<>();
        texts.stream().filter(s -> s.startsWith("tool-")).forEach(out::add);
        texts.stream().filter(s -> !s.startsWith("tool-")).forEach(out::add);
        return out;
    }
}
