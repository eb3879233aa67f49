package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.assertJson;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.api.ApiError;
import org.junit.jupiter.api.Test;

class MessagesTokenCountTest {

    @Test
    void countsSystemMessagesToolsAndImagesWithTheGatewaysEstimate() {
        // 'Be brief.\n' + 'Hi there\n' = 19 ASCII bytes: (19 + 2) / 3 = 7
        assertEquals(
                7,
                MessagesTokenCount.estimate(
                        json("{'model':'m','system':'Be brief.','messages':[{'role':'user','content':'Hi there'}]}")));
        long withImage = MessagesTokenCount.estimate(json("""
                {'model':'m','system':'Be brief.','messages':[{'role':'user','content':[
                  {'type':'text','text':'Hi there'},
                  {'type':'image','source':{'type':'base64','media_type':'image/png','data':'AAAAAAAAAAAAAAAAAAAAAAAAAAAA'}}]}]}
                """));
        assertEquals(7 + MessagesTokenCount.IMAGE_TOKENS, withImage, "the image counts a fixed amount, not its bytes");
    }

    @Test
    void toolDefinitionsToolCallsAndResultsCountThinkingDoesNot() {
        String base = "{'model':'m','messages':[{'role':'user','content':'Hi'}]}";
        long plain = MessagesTokenCount.estimate(json(base));
        long withTools = MessagesTokenCount.estimate(json("{'model':'m','messages':[{'role':'user','content':'Hi'}],"
                + "'tools':[{'name':'get_weather','description':'Weather for a city.',"
                + "'input_schema':{'type':'object','properties':{'city':{'type':'string'}}}}]}"));
        assertTrue(withTools > plain + 10, withTools + " vs " + plain);
        long withThinking = MessagesTokenCount.estimate(json("{'model':'m','messages':[{'role':'user','content':'Hi'},"
                + "{'role':'assistant','content':[{'type':'thinking','thinking':'a long chain of thought here',"
                + "'signature':'x'}]}]}"));
        assertEquals(plain, withThinking);
        long withRoundTrip = MessagesTokenCount.estimate(
                json(
                        "{'model':'m','messages':[{'role':'user','content':'Hi'},"
                                + "{'role':'assistant','content':[{'type':'tool_use','id':'t','name':'get_weather','input':{'city':'Paris'}}]},"
                                + "{'role':'user','content':[{'type':'tool_result','tool_use_id':'t','content':'18 degrees and cloudy'}]}]}"));
        assertTrue(withRoundTrip > plain + 10, withRoundTrip + " vs " + plain);
    }

    @Test
    void theAnswerIsInputTokens() {
        // 'Hi\n': (3 + 2) / 3 = 1
        assertJson(
                "{'input_tokens':1}",
                MessagesTokenCount.answer(json("{'model':'m','messages':[{'role':'user','content':'Hi'}]}")));
    }

    @Test
    void messagesAreRequired() {
        ApiError e = assertThrows(ApiError.class, () -> MessagesTokenCount.estimate(json("{'model':'m'}")));
        assertEquals("messages: missing (expected: a list of messages)", e.getMessage());
    }
}
