package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What differs in Azure OpenAI's errors: the content-filter 400 and {@code retry-after-ms}. */
class AzureErrorsTest {

    private static ByteBuf utf8(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void aContentFilterRefusalBecomesOpenAiShapedKeepingItsCategories() throws Exception {
        ByteBuf body = utf8("{\"error\":{\"message\":\"The response was filtered\",\"type\":null,\"param\":\"prompt\","
                + "\"code\":\"content_filter\",\"status\":400,\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
                + "\"content_filter_result\":{\"violence\":{\"filtered\":true,\"severity\":\"medium\"}}}}}");
        ByteBuf out = UpstreamErrors.azureContentFilter(body, ByteBufAllocator.DEFAULT);
        assertNotNull(out);
        JsonNode e = Json.read(out).get("error");
        assertEquals("The response was filtered", e.get("message").asText());
        assertEquals("invalid_request_error", e.get("type").asText());
        assertEquals("prompt", e.get("param").asText());
        assertEquals("content_filter", e.get("code").asText());
        assertEquals(
                true,
                e.at("/innererror/content_filter_result/violence/filtered").asBoolean());
        assertNull(e.get("status"));
        assertEquals("content_filter", UpstreamErrors.code(out));
        assertEquals(0, body.readerIndex(), "indexes untouched");
        out.release();
        body.release();
    }

    @Test
    void otherErrorsAreLeftAsTheyAre() {
        for (String s : new String[] {
            "{\"error\":{\"code\":\"context_length_exceeded\",\"message\":\"too long\"}}", "not json", "{}", "[1]"
        }) {
            ByteBuf body = utf8(s);
            assertNull(UpstreamErrors.azureContentFilter(body, ByteBufAllocator.DEFAULT), s);
            body.release();
        }
    }

    @Test
    void retryAfterMsIsPreferredToRetryAfter() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS);
        head.headers().set("retry-after", "2").set("retry-after-ms", "1500");
        assertEquals(1500, UpstreamErrors.rejection(head, false, false).retryAfterMillis());
        head.headers().set("retry-after-ms", "soon");
        assertEquals(2000, UpstreamErrors.rejection(head, false, false).retryAfterMillis(), "unreadable: retry-after");
        head.headers().remove("retry-after");
        assertEquals(-1, UpstreamErrors.rejection(head, false, false).retryAfterMillis());
    }

    @Test
    void millisecondsReadsOnlyNonNegativeIntegers() {
        assertEquals(0, RetryAfter.milliseconds("0"));
        assertEquals(250, RetryAfter.milliseconds(" 250 "));
        assertEquals(-1, RetryAfter.milliseconds(null));
        assertEquals(-1, RetryAfter.milliseconds("-5"));
        assertEquals(-1, RetryAfter.milliseconds("1.5"));
        assertEquals(-1, RetryAfter.milliseconds("99999999999999999999"));
    }
}
