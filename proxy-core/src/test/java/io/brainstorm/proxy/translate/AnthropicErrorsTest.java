package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AnthropicErrorsTest {

    private static String error(String type, String message) {
        return "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message
                + "\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}";
    }

    @Test
    void overloadedFailsOverAndReachesTheClientAs503() {
        AnthropicErrors.UpstreamError e = AnthropicErrors.of(529, error("overloaded_error", "Overloaded"), "3");
        assertTrue(e.failover());
        assertEquals(503, e.status());
        assertEquals(3, e.retryAfterSeconds());
        assertEquals("HTTP 529 overloaded_error, retry-after 3", e.failureReason());
        assertEquals(
                json("{'error':{'message':'Overloaded','type':'api_error','param':null,'code':'overloaded_error'}}"),
                json(e.toJson()));
    }

    @Test
    void rateLimitedFailsOverWithItsRetryAfter() {
        AnthropicErrors.UpstreamError e = AnthropicErrors.of(
                429,
                error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
                "17");
        assertTrue(e.failover());
        assertEquals(429, e.status());
        assertEquals("rate_limit_error", e.type());
        assertEquals("rate_limit_error", e.code());
        assertEquals(17, e.retryAfterSeconds());
        assertEquals("Number of request tokens has exceeded your per-minute rate limit", e.message());
    }

    @Test
    void anInvalidRequestIsTheClientsAndDoesNotFailOver() {
        AnthropicErrors.UpstreamError e = AnthropicErrors.of(
                400, error("invalid_request_error", "messages: text content blocks must be non-empty"), null);
        assertFalse(e.failover());
        assertEquals(400, e.status());
        assertEquals(-1, e.retryAfterSeconds());
        assertEquals(
                json("{'error':{'message':'messages: text content blocks must be non-empty',"
                        + "'type':'invalid_request_error','param':null,'code':'invalid_request_error'}}"),
                json(e.toJson()));
        AnthropicErrors.UpstreamError notFound = AnthropicErrors.of(404, error("not_found_error", "model: x"), null);
        assertFalse(notFound.failover());
        assertEquals(404, notFound.status());
        assertEquals("not_found_error", notFound.code());
    }

    @Test
    void aRefusedProviderKeyFailsOverWithoutQuotingAnthropic() {
        for (int status : new int[] {401, 402, 403}) {
            AnthropicErrors.UpstreamError e =
                    AnthropicErrors.of(status, error("authentication_error", "invalid x-api-key sk-ant-abc"), null);
            assertTrue(e.failover(), "status " + status);
            assertEquals(502, e.status());
            assertEquals("api_error", e.type());
            assertFalse(e.toJson().contains("sk-ant"), e.toJson());
            assertEquals(
                    "HTTP " + status + " authentication_error (the provider rejected the provider key it was sent)",
                    e.failureReason());
        }
    }

    @Test
    void serverErrorsAndTimeoutsFailOver() {
        AnthropicErrors.UpstreamError api = AnthropicErrors.of(500, error("api_error", "Internal server error"), null);
        assertTrue(api.failover());
        assertEquals(502, api.status());
        AnthropicErrors.UpstreamError timeout =
                AnthropicErrors.of(504, error("timeout_error", "Request timeout"), null);
        assertTrue(timeout.failover());
        assertEquals(504, timeout.status());
    }

    @Test
    void aBodyThatIsNotJsonStillGivesAnError() {
        AnthropicErrors.UpstreamError e = AnthropicErrors.of(502, "<html>Bad gateway</html>", "soon");
        assertTrue(e.failover());
        assertEquals("upstream_error", e.code());
        assertEquals("The provider answered HTTP 502.", e.message());
        assertEquals(-1, e.retryAfterSeconds());
        AnthropicErrors.UpstreamError client = AnthropicErrors.of(422, (String) null, null);
        assertFalse(client.failover());
        assertEquals("upstream_client_error", client.code());
    }

    @Test
    void aStreamErrorEventIsReadByItsType() {
        AnthropicErrors.UpstreamError e = AnthropicErrors.of(200, json(error("overloaded_error", "Overloaded")), null);
        assertEquals(529, e.upstreamStatus());
        assertEquals(503, e.status());
        assertEquals("overloaded_error", e.code());
        AnthropicErrors.UpstreamError bad = AnthropicErrors.of(200, json(error("invalid_request_error", "bad")), null);
        assertEquals(400, bad.status());
        assertFalse(bad.failover());
    }
}
