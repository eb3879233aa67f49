package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MessagesRequestTest {

    private static MessagesRequest.Translation translate(String anthropic) {
        return MessagesRequest.translate(json(anthropic));
    }

    private static void assertRefused(String anthropic, String param, String message) {
        ApiError e = assertThrows(ApiError.class, () -> translate(anthropic));
        assertEquals(400, e.status().code());
        assertEquals("invalid_request_error", e.type());
        assertEquals(param, e.param());
        assertEquals(message, e.getMessage());
    }

    @Test
    void systemBlocksBecomeOneFirstSystemMessageAndTheModelIsKept() {
        MessagesRequest.Translation t = translate("""
                {'model':'openai/gpt-4o:fast','max_tokens':1024,
                 'system':[{'type':'text','text':'You are Claude Code.','cache_control':{'type':'ephemeral'}},
                           {'type':'text','text':'Be brief.'}],
                 'messages':[{'role':'user','content':'Hello'}]}
                """);
        assertJson("""
                {'model':'openai/gpt-4o:fast','max_tokens':1024,
                 'messages':[{'role':'system','content':'You are Claude Code.\\n\\nBe brief.'},
                             {'role':'user','content':'Hello'}]}
                """, t.openAi());
        assertFalse(t.stream());
        assertEquals("openai/gpt-4o:fast", t.clientModel());
        assertEquals(1024, t.maxTokens());
        assertNull(t.reasoningEffort());
    }

    @Test
    void aStringSystemPromptIsTheSystemMessage() {
        assertJson(
                """
                {'model':'m','max_tokens':5,
                 'messages':[{'role':'system','content':'Be brief.'},{'role':'user','content':'Hi'}]}
                """,
                translate(
                                "{'model':'m','max_tokens':5,'system':'Be brief.','messages':[{'role':'user','content':'Hi'}]}")
                        .openAi());
    }

    @Test
    void oneTextBlockIsAPlainStringAndMixedContentIsParts() {
        MessagesRequest.Translation t = translate("""
                {'model':'m','max_tokens':100,'messages':[
                  {'role':'user','content':[{'type':'text','text':'What is this?'}]},
                  {'role':'assistant','content':[{'type':'text','text':'Send it.'}]},
                  {'role':'user','content':[
                    {'type':'image','source':{'type':'base64','media_type':'image/png','data':'iVBORw0KGgo='}},
                    {'type':'image','source':{'type':'url','url':'https://example.com/cat.jpg'}},
                    {'type':'text','text':'Here.'}]}]}
                """);
        assertJson("""
                {'model':'m','max_tokens':100,'messages':[
                  {'role':'user','content':'What is this?'},
                  {'role':'assistant','content':'Send it.'},
                  {'role':'user','content':[
                    {'type':'image_url','image_url':{'url':'data:image/png;base64,iVBORw0KGgo='}},
                    {'type':'image_url','image_url':{'url':'https://example.com/cat.jpg'}},
                    {'type':'text','text':'Here.'}]}]}
                """, t.openAi());
    }

    @Test
    void aToolRoundTripBecomesToolCallsAndToolMessages() {
        MessagesRequest.Translation t = translate("""
                {'model':'openai/gpt-4o','max_tokens':4096,
                 'tools':[{'name':'get_weather','description':'Weather for a city.',
                           'input_schema':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']}},
                          {'type':'custom','name':'get_time','input_schema':{'type':'object'}}],
                 'tool_choice':{'type':'auto','disable_parallel_tool_use':true},
                 'messages':[
                  {'role':'user','content':'Weather and time in Paris?'},
                  {'role':'assistant','content':[
                    {'type':'thinking','thinking':'Two tools.','signature':'EqQBCgIYAh'},
                    {'type':'text','text':'Checking.'},
                    {'type':'tool_use','id':'toolu_01','name':'get_weather','input':{'city':'Paris'}},
                    {'type':'tool_use','id':'toolu_02','name':'get_time','input':{}}]},
                  {'role':'user','content':[
                    {'type':'tool_result','tool_use_id':'toolu_01','content':'18°C, cloudy'},
                    {'type':'tool_result','tool_use_id':'toolu_02','is_error':true,
                     'content':[{'type':'text','text':'clock offline'},{'type':'text','text':'retry later'}]},
                    {'type':'text','text':'And tomorrow?'}]}]}
                """);
        assertJson("""
                {'model':'openai/gpt-4o','max_tokens':4096,'messages':[
                  {'role':'user','content':'Weather and time in Paris?'},
                  {'role':'assistant','content':'Checking.','tool_calls':[
                    {'id':'toolu_01','type':'function','function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},
                    {'id':'toolu_02','type':'function','function':{'name':'get_time','arguments':'{}'}}]},
                  {'role':'tool','tool_call_id':'toolu_01','content':'18°C, cloudy'},
                  {'role':'tool','tool_call_id':'toolu_02','content':'[tool error] clock offline\\nretry later'},
                  {'role':'user','content':'And tomorrow?'}],
                 'tools':[
                  {'type':'function','function':{'name':'get_weather','description':'Weather for a city.',
                    'parameters':{'type':'object','properties':{'city':{'type':'string'}},'required':['city']}}},
                  {'type':'function','function':{'name':'get_time','parameters':{'type':'object'}}}],
                 'tool_choice':'auto','parallel_tool_calls':false}
                """.replace("\\'", "\\\""), t.openAi());
    }

    @Test
    void imagesInAToolResultMoveToTheUserMessageAfterTheToolMessage() {
        MessagesRequest.Translation t = translate("""
                {'model':'m','max_tokens':100,'messages':[
                  {'role':'user','content':'Read shot.png'},
                  {'role':'assistant','content':[{'type':'tool_use','id':'toolu_9','name':'Read','input':{'path':'shot.png'}}]},
                  {'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_9','content':[
                    {'type':'image','source':{'type':'base64','media_type':'image/png','data':'AAAA'}}]}]}]}
                """);
        assertJson("""
                {'model':'m','max_tokens':100,'messages':[
                  {'role':'user','content':'Read shot.png'},
                  {'role':'assistant','content':null,'tool_calls':[
                    {'id':'toolu_9','type':'function','function':{'name':'Read','arguments':'{\\"path\\":\\"shot.png\\"}'}}]},
                  {'role':'tool','tool_call_id':'toolu_9','content':''},
                  {'role':'user','content':[
                    {'type':'text','text':'Images returned by tool call toolu_9:'},
                    {'type':'image_url','image_url':{'url':'data:image/png;base64,AAAA'}}]}]}
                """, t.openAi());
    }

    @Test
    void samplingStopUserAndStreamAreCarried() {
        MessagesRequest.Translation t = translate("""
                {'model':'m','max_tokens':300,'stop_sequences':['END','###'],'temperature':0.2,'top_p':0.9,'top_k':40,
                 'metadata':{'user_id':'user_abc_session_1'},'stream':true,'service_tier':'auto',
                 'messages':[{'role':'user','content':'Hi'}]}
                """);
        assertJson("""
                {'model':'m','max_tokens':300,'messages':[{'role':'user','content':'Hi'}],
                 'stop':['END','###'],'temperature':0.2,'top_p':0.9,'user':'user_abc_session_1',
                 'stream':true,'stream_options':{'include_usage':true}}
                """, t.openAi());
        assertTrue(t.stream());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            value = {
                "{'type':'any'} | 'required'",
                "{'type':'none'} | 'none'",
                "{'type':'tool','name':'get_weather'} | {'type':'function','function':{'name':'get_weather'}}",
            })
    void toolChoiceMaps(String anthropic, String openAi) {
        MessagesRequest.Translation t = translate("{'model':'m','max_tokens':9,'tool_choice':" + anthropic
                + ",'tools':[{'name':'get_weather','input_schema':{'type':'object'}}],"
                + "'messages':[{'role':'user','content':'Hi'}]}");
        assertEquals(json(openAi), t.openAi().get("tool_choice"));
        assertFalse(t.openAi().has("parallel_tool_calls"));
    }

    @Test
    void aToolChoiceWithoutToolsIsDropped() {
        MessagesRequest.Translation t = translate(
                "{'model':'m','max_tokens':9,"
                        + "'tool_choice':{'type':'auto','disable_parallel_tool_use':true},'messages':[{'role':'user','content':'Hi'}]}");
        assertFalse(t.openAi().has("tool_choice"));
        assertFalse(t.openAi().has("parallel_tool_calls"));
    }

    @ParameterizedTest
    @CsvSource({"1024, low", "4095, low", "4096, medium", "16383, medium", "16384, high", "64000, high"})
    void thinkingBudgetsBecomeTheEffortAnthropicRequestWouldGiveThemBack(int budget, String effort) {
        MessagesRequest.Translation t = translate("{'model':'m','max_tokens':80000,'thinking':{'type':'enabled',"
                + "'budget_tokens':" + budget + "},'messages':[{'role':'user','content':'Hi'}]}");
        assertEquals(effort, t.openAi().get("reasoning_effort").asText());
        assertEquals(effort, t.reasoningEffort());
    }

    @Test
    void disabledAndAdaptiveThinkingSendNoEffort() {
        for (String type : new String[] {"disabled", "adaptive"}) {
            MessagesRequest.Translation t = translate("{'model':'m','max_tokens':9,'thinking':{'type':'" + type
                    + "'},'messages':[{'role':'user','content':'Hi'}]}");
            assertFalse(t.openAi().has("reasoning_effort"), type);
        }
    }

    @Test
    void anAssistantTurnOfThinkingOnlyIsLeftOut() {
        assertJson("""
                {'model':'m','max_tokens':9,'messages':[{'role':'user','content':'Hi'},{'role':'user','content':'Again'}]}
                """, translate("""
                {'model':'m','max_tokens':9,'messages':[{'role':'user','content':'Hi'},
                  {'role':'assistant','content':[{'type':'redacted_thinking','data':'xyz'}]},
                  {'role':'user','content':'Again'}]}
                """).openAi());
    }

    @Test
    void refusalsNameTheFieldAndWhatWasExpected() {
        assertRefused(
                "{'model':'m','messages':[{'role':'user','content':'Hi'}]}",
                "max_tokens",
                "max_tokens: missing (expected: an integer > 0; it is required)");
        assertRefused(
                "{'model':'m','max_tokens':0,'messages':[{'role':'user','content':'Hi'}]}",
                "max_tokens",
                "max_tokens: 0 (expected: an integer > 0; it is required)");
        assertRefused(
                "{'model':'m','max_tokens':9,'messages':[]}",
                "messages",
                "messages: [] (expected: a non-empty list of messages)");
        assertRefused(
                "{'model':'m','max_tokens':9,'messages':[{'role':'user','content':'Hi'},{'role':'assistant','content':'x'},"
                        + "{'role':'user','content':[{'type':'document','source':{'type':'text','data':'x'}}]}]}",
                "messages",
                "messages[2].content[0].type: \"document\" (expected: text, image or tool_result for OpenAI-type models)");
        assertRefused(
                "{'model':'m','max_tokens':9,'messages':[{'role':'system','content':'Hi'}]}",
                "messages",
                "messages[0].role: \"system\" (expected: user or assistant)");
        assertRefused(
                "{'model':'m','max_tokens':9,'tools':[{'type':'web_search_20250305','name':'web_search'}],"
                        + "'messages':[{'role':'user','content':'Hi'}]}",
                "tools",
                "tools[0]: \"web_search_20250305\" (web_search) is an Anthropic server tool (expected: custom tools"
                        + " only; OpenAI-type models cannot run Anthropic's server tools)");
        assertRefused(
                "{'model':'m','max_tokens':9,'thinking':{'type':'enabled','budget_tokens':500},"
                        + "'messages':[{'role':'user','content':'Hi'}]}",
                "thinking",
                "thinking.budget_tokens: 500 (expected: an integer >= 1024)");
        assertRefused(
                "{'model':'m','max_tokens':9,'tool_choice':{'type':'sometimes'},'messages':[{'role':'user','content':'Hi'}]}",
                "tool_choice",
                "tool_choice.type: \"sometimes\" (expected: auto, any, tool or none)");
        assertRefused(
                "{'model':'m','max_tokens':9,'temperature':1.5,'messages':[{'role':'user','content':'Hi'}]}",
                "temperature",
                "temperature: 1.5 (expected: a number from 0 to 1)");
        assertRefused(
                "{'model':'m','max_tokens':9,'messages':[{'role':'user','content':[{'type':'tool_result'}]}]}",
                "messages",
                "messages[0].content[0].tool_use_id: missing (expected: the id of a tool_use)");
    }

    @Test
    void theTranslationIsABodyTheGatewaysOpenAiPathRoutes() {
        MessagesRequest.Translation t = translate("""
                {'model':'openai/gpt-4o','max_tokens':2048,'stream':true,'metadata':{'user_id':'u1'},
                 'tools':[{'name':'Bash','input_schema':{'type':'object','properties':{'command':{'type':'string'}}}}],
                 'messages':[{'role':'user','content':'List files'}]}
                """);
        ByteBuf body = Unpooled.copiedBuffer(Json.write(t.openAi()), StandardCharsets.UTF_8);
        try {
            ParsedRequest parsed = ParsedRequest.parse(ParsedRequest.Kind.CHAT, body);
            assertEquals("openai/gpt-4o", parsed.model());
            assertTrue(parsed.stream());
            assertTrue(parsed.clientWantsUsage());
            assertEquals(2048, parsed.features().maxOutputTokens());
            assertTrue(parsed.features().tools());
            assertEquals("u1", parsed.features().user());
            assertEquals("tools", parsed.format());
        } finally {
            body.release();
        }
    }

    @Test
    void theClientsTreeIsNotChanged() {
        String body =
                "{'model':'m','max_tokens':9,'system':'S','messages':[{'role':'assistant','content':[{'type':'tool_use',"
                        + "'id':'t','name':'n','input':{'a':1}}]}]}";
        var tree = json(body);
        MessagesRequest.translate(tree);
        assertEquals(json(body), tree);
    }
}
