package io.brainstorm.proxy.relay;

import static io.brainstorm.proxy.relay.AnswerCheck.Kind.CHAT;
import static io.brainstorm.proxy.relay.AnswerCheck.Kind.EMBEDDINGS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Usage;
import io.brainstorm.proxy.settle.UsageParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class AnswerCheckTest {
    private static final JsonFactory JSON = Json.MAPPER.getFactory();
    private static final String CHAT_ANSWER = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"{\\"a\\": [1, {\\"b\\": 2}]}"},\
            "finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":6,"total_tokens":16}}""";
    private static final String EMBEDDINGS_ANSWER = """
            {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093,1e-3]}],\
            "model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}""";

    /** Checks {@code text} as a body, in three buffer components, and that the buffer is untouched. */
    private static String check(String text, AnswerCheck.Kind kind) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        CompositeByteBuf body = Unpooled.compositeBuffer();
        int a = bytes.length / 3;
        int b = 2 * bytes.length / 3;
        body.addComponent(true, Unpooled.wrappedBuffer(bytes, 0, a));
        body.addComponent(true, Unpooled.wrappedBuffer(bytes, a, b - a));
        body.addComponent(true, Unpooled.wrappedBuffer(bytes, b, bytes.length - b));
        try {
            String reason = AnswerCheck.body(body, kind, JSON);
            assertEquals(0, body.readerIndex(), "the answer is still to be relayed from its start");
            assertEquals(bytes.length, body.readableBytes());
            assertEquals(1, body.refCnt());
            return reason;
        } finally {
            body.release();
        }
    }

    @Test
    void aChatCompletionPasses() {
        assertNull(check(CHAT_ANSWER, CHAT));
        assertNull(check("  \n" + CHAT_ANSWER + "\n ", CHAT), "whitespace around the object is fine");
        assertNull(check("{\"choices\":[]}", CHAT), "an empty choices array is the scorer's business");
    }

    @Test
    void anEmbeddingsAnswerPasses() {
        assertNull(check(EMBEDDINGS_ANSWER, EMBEDDINGS));
    }

    @Test
    void anAnswerOfTheWrongKindFails() {
        assertEquals("not an embeddings answer (no \"data\" array)", check(CHAT_ANSWER, EMBEDDINGS));
        assertEquals("not a chat completion (no \"choices\" array)", check(EMBEDDINGS_ANSWER, CHAT));
        assertEquals(
                "not a chat completion (no \"choices\" array)",
                check("{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}", CHAT),
                "an error object under a 200 is not an answer");
        assertEquals("not a chat completion (no \"choices\" array)", check("{\"choices\":null}", CHAT));
        assertEquals(
                "not a chat completion (no \"choices\" array)",
                check("{\"x\":{\"choices\":[]}}", CHAT),
                "only the top level counts");
        assertEquals(
                "not a chat completion (no \"choices\" array)",
                check("{\"choices\":[],\"choices\":null}", CHAT),
                "a repeated key: the last one counts, as for the client's JSON reader");
        assertNull(check("{\"choices\":null,\"choices\":[]}", CHAT));
    }

    @Test
    void aTruncatedAnswerFails() {
        assertEquals(
                "not JSON (cut off: the body ends after 12 bytes, inside the object)", check("{\"choices\":[", CHAT));
        // every proper prefix of a good answer is cut off somewhere
        for (int n = 1; n < CHAT_ANSWER.length(); n++) {
            String reason = check(CHAT_ANSWER.substring(0, n), CHAT);
            assertNotNull(reason, "accepted the first " + n + " characters");
            assertTrue(reason.startsWith("not JSON ("), n + ": " + reason);
        }
    }

    @Test
    void anEmptyBodyFails() {
        assertEquals("empty (no body)", check("", CHAT));
        assertEquals("empty (only whitespace)", check(" \r\n ", CHAT));
    }

    @Test
    void anHtmlPageFailsWithoutBeingQuoted() {
        String page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare secret-id-42</body></html>";
        String reason = check(page, CHAT);
        assertEquals("not JSON (invalid at byte 0 of " + page.length() + ")", reason);
        String late = check("{\"choices\":[], oops secret-id-42}", CHAT);
        assertNotNull(late);
        assertFalse(late.contains("oops") || late.contains("secret"), late);
    }

    @Test
    void aJsonArrayOrScalarFails() {
        assertEquals("not a chat completion (a JSON array, not an object)", check("[" + CHAT_ANSWER + "]", CHAT));
        assertEquals("not a chat completion (a JSON string, not an object)", check("\"choices\"", CHAT));
        assertEquals("not an embeddings answer (a JSON null, not an object)", check("null", EMBEDDINGS));
    }

    @Test
    void dataAfterTheObjectFails() {
        String reason = check(CHAT_ANSWER + CHAT_ANSWER, CHAT);
        assertEquals(
                "not JSON (data after the object, at byte " + CHAT_ANSWER.length() + " of " + 2 * CHAT_ANSWER.length()
                        + ")",
                reason);
    }

    @Test
    void aWholeAnswerNeedsAJsonContentType() {
        assertNull(AnswerCheck.head(false, "application/json"));
        assertNull(AnswerCheck.head(false, "application/json; charset=utf-8"));
        assertNull(AnswerCheck.head(false, "Application/JSON;charset=ISO-8859-1"), "any charset, any case");
        assertNull(AnswerCheck.head(false, " application/json ;"));
        assertEquals("not JSON (content-type text/html)", AnswerCheck.head(false, "text/html; charset=utf-8"));
        assertEquals("not JSON (content-type text/plain)", AnswerCheck.head(false, "text/plain"));
        assertEquals("not JSON (content-type text/event-stream)", AnswerCheck.head(false, "text/event-stream"));
        assertEquals("not JSON (content-type application/json-seq)", AnswerCheck.head(false, "application/json-seq"));
        assertEquals("not JSON (no content-type)", AnswerCheck.head(false, null));
        assertEquals("not JSON (no content-type)", AnswerCheck.head(false, ""));
    }

    @Test
    void aStreamNeedsAnEventStreamContentType() {
        assertNull(AnswerCheck.head(true, "text/event-stream"));
        assertNull(AnswerCheck.head(true, "text/event-stream; charset=utf-8"));
        assertNull(AnswerCheck.head(true, "Text/Event-Stream"));
        assertEquals("not an event stream (content-type application/json)", AnswerCheck.head(true, "application/json"));
        assertEquals("not an event stream (content-type text/html)", AnswerCheck.head(true, "text/html"));
        assertEquals("not an event stream (no content-type)", AnswerCheck.head(true, null));
    }

    @Test
    void anOddContentTypeIsShownShortAndPrintable() {
        String reason = AnswerCheck.head(false, "x/" + "y".repeat(200));
        assertTrue(reason.length() < 100, reason);
        assertEquals("not JSON (content-type text/ht?ml)", AnswerCheck.head(false, "text/ht\u0007ml"));
    }

    @Test
    void aBufferWithAReaderIndexIsCheckedFromIt() {
        ByteBuf buf = Unpooled.copiedBuffer("garbage" + CHAT_ANSWER, StandardCharsets.UTF_8);
        try {
            buf.skipBytes("garbage".length());
            assertNull(AnswerCheck.body(buf, CHAT, JSON));
            assertEquals("garbage".length(), buf.readerIndex());
        } finally {
            buf.release();
        }
    }

    @Test
    void theSamePassReadsTheTopLevelUsage() {
        assertEquals(new Usage(10, 6, 0, 0), usageOf(CHAT_ANSWER));
        assertEquals(new Usage(8, 0, 0, 0), usageOf(EMBEDDINGS_ANSWER.replace("\"data\"", "\"choices\"")));
        assertEquals(
                new Usage(12, 5, 4, 2),
                usageOf("{\"usage\":{\"prompt_tokens\":1},\"choices\":[{\"usage\":{\"prompt_tokens\":99}}],"
                        + "\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":4,\"x\":[1]},\"prompt_tokens\":12,"
                        + "\"extra\":{\"a\":1},\"completion_tokens\":5,"
                        + "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}"),
                "the last top-level usage counts; one inside a choice does not");
        assertEquals(
                new Usage(0, 3, 0, 0),
                usageOf("{\"choices\":[],\"usage\":{\"prompt_tokens\":\"7\",\"completion_tokens\":3,"
                        + "\"prompt_tokens_details\":null}}"),
                "a count that is not a number is 0, as in the tree reading");
        assertNull(usageOf("{\"choices\":[],\"usage\":null}"));
        assertNull(usageOf("{\"choices\":[]}"));
        ByteBuf broken =
                Unpooled.copiedBuffer("{\"choices\":[],\"usage\":{\"prompt_tokens\":1}", StandardCharsets.UTF_8);
        try {
            AnswerCheck.Checked c = AnswerCheck.check(broken, CHAT, JSON);
            assertNotNull(c.wrong());
            assertNull(c.usage(), "a broken answer has no usage");
        } finally {
            broken.release();
        }
    }

    private static @Nullable Usage usageOf(String answer) {
        ByteBuf buf = Unpooled.copiedBuffer(answer, StandardCharsets.UTF_8);
        try {
            AnswerCheck.Checked c = AnswerCheck.check(buf, CHAT, JSON);
            assertNull(c.wrong(), answer);
            assertEquals(UsageParser.fromAnswer(buf, Json.MAPPER), c.usage(), "the same as reading usage alone");
            return c.usage();
        } finally {
            buf.release();
        }
    }
}
