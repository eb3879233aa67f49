package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.settle.Usage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MessagesResponseTest {
    private static final String REQUEST_ID = "req_0123456789ABCDEFGHIJabcd";

    @Test
    void aTextAnswerBecomesATextBlockWithCacheAwareUsage() {
        MessagesResponse.Message m = MessagesResponse.translate(json("""
                {'id':'chatcmpl-1','object':'chat.completion','created':1,'model':'gpt-4o-2024-08-06',
                 'choices':[{'index':0,'message':{'role':'assistant','content':'Hello!','refusal':null},
                             'finish_reason':'stop','logprobs':null}],
                 'usage':{'prompt_tokens':1200,'completion_tokens':40,'total_tokens':1240,
                          'prompt_tokens_details':{'cached_tokens':1024}}}
                """), REQUEST_ID, "openai/gpt-4o");
        assertJson("""
                {'id':'msg_0123456789ABCDEFGHIJabcd','type':'message','role':'assistant','model':'openai/gpt-4o',
                 'content':[{'type':'text','text':'Hello!'}],'stop_reason':'end_turn','stop_sequence':null,
                 'usage':{'input_tokens':176,'cache_creation_input_tokens':0,'cache_read_input_tokens':1024,
                          'output_tokens':40}}
                """, m.body());
        assertEquals(new Usage(1200, 40, 1024, 0), m.usage());
    }

    @Test
    void reasoningThenTextThenToolCallsBecomeThinkingTextAndToolUseBlocks() {
        MessagesResponse.Message m = MessagesResponse.translate(json("""
                {'choices':[{'index':0,'finish_reason':'tool_calls','message':{'role':'assistant',
                   'reasoning_content':'Need both.','content':'Checking.',
                   'tool_calls':[
                     {'id':'call_a','type':'function','function':{'name':'get_weather','arguments':'{\\"city\\":\\"Paris\\"}'}},
                     {'id':'call_b','type':'function','function':{'name':'get_time','arguments':''}}]}}],
                 'usage':{'prompt_tokens':50,'completion_tokens':30,'completion_tokens_details':{'reasoning_tokens':12}}}
                """), REQUEST_ID, "deepseek/deepseek-reasoner");
        assertJson("""
                {'id':'msg_0123456789ABCDEFGHIJabcd','type':'message','role':'assistant','model':'deepseek/deepseek-reasoner',
                 'content':[{'type':'thinking','thinking':'Need both.','signature':''},
                            {'type':'text','text':'Checking.'},
                            {'type':'tool_use','id':'call_a','name':'get_weather','input':{'city':'Paris'}},
                            {'type':'tool_use','id':'call_b','name':'get_time','input':{}}],
                 'stop_reason':'tool_use','stop_sequence':null,
                 'usage':{'input_tokens':50,'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':30}}
                """, m.body());
    }

    @Test
    void argumentsThatAreNotAnObjectGiveAnEmptyInputAndAMissingIdIsMade() {
        MessagesResponse.Message m = MessagesResponse.translate(json("""
                {'choices':[{'finish_reason':'length','message':{'role':'assistant','content':null,
                   'tool_calls':[{'type':'function','function':{'name':'write','arguments':'{\\"text\\": \\"cut mid'}},
                                 {'id':'','type':'function','function':{'name':'list','arguments':'[1,2]'}}]}}]}
                """), REQUEST_ID, "m");
        assertJson("""
                [{'type':'tool_use','id':'toolu_0123456789ABCDEFGHIJabcd_0','name':'write','input':{}},
                 {'type':'tool_use','id':'toolu_0123456789ABCDEFGHIJabcd_1','name':'list','input':{}}]
                """, m.body().get("content"));
        assertEquals("max_tokens", m.body().get("stop_reason").asText());
        assertEquals(Usage.ZERO, m.usage());
        assertJson(
                "{'input_tokens':0,'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':0}",
                m.body().get("usage"));
    }

    @Test
    void aRefusalIsTheText() {
        MessagesResponse.Message m = MessagesResponse.translate(json("""
                {'choices':[{'finish_reason':'content_filter','message':{'role':'assistant','content':null,
                   'refusal':'I cannot help with that.'}}]}
                """), REQUEST_ID, "m");
        assertJson(
                "[{'type':'text','text':'I cannot help with that.'}]", m.body().get("content"));
        assertEquals("refusal", m.body().get("stop_reason").asText());
    }

    @ParameterizedTest
    @CsvSource({
        "stop, end_turn",
        "length, max_tokens",
        "tool_calls, tool_use",
        "function_call, tool_use",
        "content_filter, refusal",
        "something_new, end_turn"
    })
    void finishReasonsMapToStopReasons(String finish, String stop) {
        assertEquals(stop, MessagesResponse.stopReason(finish));
    }

    @Test
    void noFinishReasonIsEndTurn() {
        assertEquals("end_turn", MessagesResponse.stopReason(null));
    }

    @Test
    void aBodyWithoutAMessageIsAnInvalidUpstreamAnswer() {
        ApiError e = assertThrows(
                ApiError.class, () -> MessagesResponse.translate(json("{'object':'list','data':[]}"), REQUEST_ID, "m"));
        assertEquals(502, e.status().code());
        assertEquals("upstream_invalid_response", e.code());
    }
}
