package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AnthropicResponseTest {

    private static final long CREATED = 1_765_000_000L;
    private static final String CLIENT_MODEL = "anthropic/claude-sonnet-4-5";

    private static AnthropicResponse.Completion translate(String message, String forcedTool) {
        return AnthropicResponse.translate(json(message), CLIENT_MODEL, CREATED, forcedTool);
    }

    private static AnthropicResponse.Completion translate(String message) {
        return AnthropicResponse.translate(json(message), CLIENT_MODEL, CREATED, null);
    }

    @Test
    void textBlocksBecomeTheContentAndCacheCountsThePromptTokens() {
        AnthropicResponse.Completion c = translate("""
                {'id':'msg_01XFDUDYJgAACzvnptvVoYEL','type':'message','role':'assistant',
                 'model':'claude-sonnet-4-5-20250929',
                 'content':[{'type':'text','text':'Hello'},{'type':'text','text':', world'}],
                 'stop_reason':'end_turn','stop_sequence':null,
                 'usage':{'input_tokens':12,'cache_creation_input_tokens':100,'cache_read_input_tokens':2000,
                          'output_tokens':6}}
                """);
        assertJson("""
                {'id':'msg_01XFDUDYJgAACzvnptvVoYEL','object':'chat.completion','created':1765000000,
                 'model':'anthropic/claude-sonnet-4-5',
                 'choices':[{'index':0,'message':{'role':'assistant','content':'Hello, world'},
                             'logprobs':null,'finish_reason':'stop'}],
                 'usage':{'prompt_tokens':2112,'completion_tokens':6,'total_tokens':2118,
                          'prompt_tokens_details':{'cached_tokens':2000}}}
                """, c.body());
        assertEquals(new AnthropicResponse.Usage(12, 6, 100, 0, 2000), c.usage());
    }

    @Test
    void theOneHourCacheWriteIsKeptForCost() {
        AnthropicResponse.Usage u = AnthropicResponse.Usage.of(json("""
                {'input_tokens':5,'cache_creation_input_tokens':300,'cache_read_input_tokens':0,'output_tokens':1,
                 'cache_creation':{'ephemeral_5m_input_tokens':100,'ephemeral_1h_input_tokens':200}}
                """));
        assertEquals(new AnthropicResponse.Usage(5, 1, 300, 200, 0), u);
        assertEquals(305, u.promptTokens());
    }

    @Test
    void toSettleSplitsTheCacheWritesByLifetime() {
        AnthropicResponse.Usage u = AnthropicResponse.Usage.of(json("""
                {'input_tokens':5,'cache_creation_input_tokens':300,'cache_read_input_tokens':40,'output_tokens':7,
                 'cache_creation':{'ephemeral_5m_input_tokens':100,'ephemeral_1h_input_tokens':200}}
                """));
        // prompt = 5 + 300 + 40; cached = the 40 read; writes: 100 for five minutes, 200 for an hour
        assertEquals(new io.brainstorm.proxy.settle.Usage(345, 7, 40, 0, 100, 200), u.toSettle());
    }

    @Test
    void withoutABreakdownEveryCacheWriteIsAFiveMinuteOne() {
        AnthropicResponse.Usage u = AnthropicResponse.Usage.of(json("""
                {'input_tokens':5,'cache_creation_input_tokens':300,'cache_read_input_tokens':40,'output_tokens':7}
                """));
        assertEquals(new io.brainstorm.proxy.settle.Usage(345, 7, 40, 0, 300, 0), u.toSettle());
    }

    @Test
    void unreadableCountsAreZeroAndABreakdownLargerThanItsTotalWins() {
        AnthropicResponse.Usage u = AnthropicResponse.Usage.of(json("""
                {'input_tokens':-5,'cache_creation_input_tokens':'300','cache_read_input_tokens':null,'output_tokens':7,
                 'cache_creation':{'ephemeral_5m_input_tokens':100,'ephemeral_1h_input_tokens':200}}
                """));
        assertEquals(new AnthropicResponse.Usage(0, 7, 300, 200, 0), u);
        assertEquals(new io.brainstorm.proxy.settle.Usage(300, 7, 0, 0, 100, 200), u.toSettle());
    }

    /** The answer half of the tool round trip in {@link AnthropicRequestTest#TOOL_ROUND_TRIP}. */
    @Test
    void toolUseBecomesToolCallsAfterAThinkingBlock() {
        AnthropicResponse.Completion c = translate("""
                {'id':'msg_02','type':'message','role':'assistant','model':'claude-sonnet-4-5-20250929',
                 'content':[
                   {'type':'thinking','thinking':'Two cities, two calls.','signature':'EqQBCgIYAhIM'},
                   {'type':'redacted_thinking','data':'EmwKAhgBEgy'},
                   {'type':'text','text':'Checking both.'},
                   {'type':'tool_use','id':'toolu_01','name':'get_weather','input':{'city':'Paris'}},
                   {'type':'tool_use','id':'toolu_02','name':'get_weather','input':{'city':'Oslo','unit':'C'}}],
                 'stop_reason':'tool_use','stop_sequence':null,
                 'usage':{'input_tokens':400,'output_tokens':90}}
                """);
        assertJson("""
                {'role':'assistant','content':'Checking both.','reasoning_content':'Two cities, two calls.',
                 'tool_calls':[
                   {'id':'toolu_01','type':'function',
                    'function':{'name':'get_weather','arguments':'{\\"city\\":\\"Paris\\"}'}},
                   {'id':'toolu_02','type':'function',
                    'function':{'name':'get_weather','arguments':'{\\"city\\":\\"Oslo\\",\\"unit\\":\\"C\\"}'}}]}
                """, c.body().at("/choices/0/message"));
        assertEquals("tool_calls", c.body().at("/choices/0/finish_reason").textValue());
        assertJson(
                "{'prompt_tokens':400,'completion_tokens':90,'total_tokens':490,'prompt_tokens_details':{'cached_tokens':0}}",
                c.body().get("usage"));
    }

    @Test
    void aToolRoundTripComesBackAsTheCallsTheClientWillAnswer() throws Exception {
        AnthropicRequest.Translation request = AnthropicRequest.translate(
                json(AnthropicRequestTest.TOOL_ROUND_TRIP), "claude-sonnet-4-5-20250929", 1024);
        JsonNode sentUse = request.body().at("/messages/1/content/1");
        // Anthropic answers with a call like the one the client sent back, and the client reads it
        // as the same OpenAI call: id, name and arguments survive both directions.
        String answer = "{'id':'msg_03','type':'message','role':'assistant','content':["
                + Json.write(sentUse).replace('"', '\'')
                + "],'stop_reason':'tool_use','usage':{'input_tokens':1,'output_tokens':1}}";
        JsonNode call = translate(answer, request.forcedTool()).body().at("/choices/0/message/tool_calls/0");
        JsonNode original = json(AnthropicRequestTest.TOOL_ROUND_TRIP).at("/messages/2/tool_calls/0");
        assertEquals(original.get("id"), call.get("id"));
        assertEquals(original.at("/function/name"), call.at("/function/name"));
        assertEquals(
                Json.MAPPER.readTree(original.at("/function/arguments").textValue()),
                Json.MAPPER.readTree(call.at("/function/arguments").textValue()));
        assertNull(translate(answer).body().at("/choices/0/message/content").textValue());
    }

    @Test
    void theForcedJsonSchemaToolComesBackAsContent() {
        AnthropicRequest.Translation request =
                AnthropicRequest.translate(json(AnthropicRequestTest.JSON_SCHEMA_REQUEST), "claude", 1024);
        AnthropicResponse.Completion c = translate("""
                {'id':'msg_04','type':'message','role':'assistant','content':[
                   {'type':'text','text':'Here it is:'},
                   {'type':'tool_use','id':'toolu_09','name':'city','input':{'name':'Lyon'}}],
                 'stop_reason':'tool_use','usage':{'input_tokens':30,'output_tokens':8}}
                """, request.forcedTool());
        assertJson("""
                {'index':0,'message':{'role':'assistant','content':'{\\"name\\":\\"Lyon\\"}'},
                 'logprobs':null,'finish_reason':'stop'}
                """, c.body().at("/choices/0"));
    }

    @Test
    void aForcedToolCutShortStillSaysLength() {
        AnthropicResponse.Completion c = translate("""
                {'id':'msg_05','type':'message','role':'assistant','content':[
                   {'type':'tool_use','id':'toolu_09','name':'json_object','input':{}}],
                 'stop_reason':'max_tokens','usage':{'input_tokens':30,'output_tokens':8}}
                """, AnthropicRequest.JSON_OBJECT_TOOL);
        assertEquals("length", c.body().at("/choices/0/finish_reason").textValue());
        assertEquals("{}", c.body().at("/choices/0/message/content").textValue());
    }

    @ParameterizedTest
    @CsvSource({
        "end_turn, stop",
        "stop_sequence, stop",
        "pause_turn, stop",
        "max_tokens, length",
        "tool_use, tool_calls",
        "refusal, content_filter"
    })
    void stopReasonsMapToFinishReasons(String stopReason, String finishReason) {
        AnthropicResponse.Completion c = translate("{'id':'m','type':'message','content':[{'type':'text','text':'x'}],"
                + "'stop_reason':'" + stopReason + "','usage':{'input_tokens':1,'output_tokens':1}}");
        assertEquals(finishReason, c.body().at("/choices/0/finish_reason").textValue());
    }

    @Test
    void aBodyThatIsNotAMessageIsAnInvalidUpstreamAnswer() {
        ApiError e = assertThrows(ApiError.class, () -> translate("{'type':'error','error':{'type':'api_error'}}"));
        assertEquals(502, e.status().code());
        assertEquals("upstream_invalid_response", e.code());
    }
}
