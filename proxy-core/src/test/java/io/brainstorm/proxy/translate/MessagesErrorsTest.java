package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MessagesErrorsTest {

    @ParameterizedTest
    @CsvSource({
        "400, invalid_request_error",
        "401, authentication_error",
        "402, billing_error",
        "403, permission_error",
        "404, not_found_error",
        "405, invalid_request_error",
        "408, invalid_request_error",
        "413, request_too_large",
        "431, request_too_large",
        "429, rate_limit_error",
        "500, api_error",
        "502, api_error",
        "503, overloaded_error",
        "504, timeout_error",
        "529, overloaded_error"
    })
    void statusesMapToAnthropicsErrorTypes(int status, String type) {
        assertEquals(type, MessagesErrors.typeOf(status));
    }

    @Test
    void theBudgetRefusalIsABillingErrorThatKeepsTheGatewaysCode() throws IOException {
        MessagesErrors.AnthropicError e = MessagesErrors.of(
                ApiError.budgetExceeded("The key's daily budget of $5.00 is spent; it resets at 00:00 UTC."));
        assertEquals(402, e.status());
        assertEquals(
                json("{'type':'error','error':{'type':'billing_error','message':'budget_exceeded: The key\\u0027s daily"
                        + " budget of $5.00 is spent; it resets at 00:00 UTC.'}}"),
                Json.MAPPER.readTree(e.toJson()));
    }

    @Test
    void aBadRequestKeepsItsMessageAsIs() {
        MessagesErrors.AnthropicError e = MessagesErrors.of(
                ApiError.invalidRequest("max_tokens", "max_tokens: missing (expected: an integer > 0)"));
        assertEquals(400, e.status());
        assertEquals("invalid_request_error", e.type());
        assertEquals("max_tokens: missing (expected: an integer > 0)", e.message());
    }

    @Test
    void retryAfterIsCarried() {
        MessagesErrors.AnthropicError e = MessagesErrors.of(ApiError.rateLimited("Too many requests this minute.", 17));
        assertEquals(429, e.status());
        assertEquals("rate_limit_error", e.type());
        assertEquals("rate_limited: Too many requests this minute.", e.message());
        assertEquals(17, e.retryAfterSeconds());
    }

    @Test
    void anOpenAiErrorBodyIsReadForItsMessageAndCode() {
        MessagesErrors.AnthropicError e = MessagesErrors.of(
                503,
                "{\"error\":{\"message\":\"Every endpoint is cooling down.\",\"type\":\"api_error\",\"param\":null,"
                        + "\"code\":\"no_healthy_endpoint\"}}");
        assertEquals(503, e.status());
        assertEquals("overloaded_error", e.type());
        assertEquals("no_healthy_endpoint: Every endpoint is cooling down.", e.message());
    }

    @Test
    void aBodyThatIsNotJsonGivesTheStatus() {
        MessagesErrors.AnthropicError e = MessagesErrors.of(502, "<html>Bad gateway</html>");
        assertEquals("api_error", e.type());
        assertEquals("The gateway answered HTTP 502.", e.message());
    }
}
