package io.brainstorm.proxy.api;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * An error the gateway answers in OpenAI's shape, {@code {"error":{"message","type","param","code"}}}
 * (docs/architecture.md §3). Thrown anywhere on the request path before the first response byte; the server
 * turns it into a response, never a stack trace.
 */
public final class ApiError extends RuntimeException {
    private final HttpResponseStatus status;
    private final String type;
    private final String code;
    private final @Nullable String param;
    private final long retryAfterSeconds;
    private final @Nullable String allow;

    private ApiError(
            HttpResponseStatus status,
            String type,
            String code,
            @Nullable String param,
            String message,
            long retryAfterSeconds,
            @Nullable String allow) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
        this.allow = allow;
    }

    public static ApiError invalidRequest(@Nullable String param, String message) {
        return new ApiError(
                HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "invalid_request", param, message, -1, null);
    }

    public static ApiError invalidApiKey(String message) {
        return new ApiError(
                HttpResponseStatus.UNAUTHORIZED, "authentication_error", "invalid_api_key", null, message, -1, null);
    }

    public static ApiError modelNotFound(String message) {
        return new ApiError(
                HttpResponseStatus.NOT_FOUND, "invalid_request_error", "model_not_found", "model", message, -1, null);
    }

    /** The key may not use the model it asked for. */
    public static ApiError modelNotAllowed(String message) {
        return new ApiError(
                HttpResponseStatus.FORBIDDEN, "permission_error", "model_not_allowed", "model", message, -1, null);
    }

    /** The caller is known but may not do this (admin API: a tenant admin creating or deleting tenants). */
    public static ApiError permissionDenied(String message) {
        return new ApiError(
                HttpResponseStatus.FORBIDDEN, "permission_error", "permission_error", null, message, -1, null);
    }

    /**
     * A dashboard session's change without its {@code X-CSRF-Token}, or from another origin (admin
     * API with the session cookie, docs/dashboard.md).
     */
    public static ApiError csrfFailed(String message) {
        return new ApiError(HttpResponseStatus.FORBIDDEN, "permission_error", "csrf_failed", null, message, -1, null);
    }

    /** The request clashes with what exists (admin API: a tenant that exists, a key from config). */
    public static ApiError conflict(String message) {
        return invalid(HttpResponseStatus.CONFLICT, "conflict", message);
    }

    public static ApiError notFound(String message) {
        return invalid(HttpResponseStatus.NOT_FOUND, "not_found", message);
    }

    /** @param allow the methods the path accepts, for the {@code Allow} header */
    public static ApiError methodNotAllowed(String message, String allow) {
        return new ApiError(
                HttpResponseStatus.METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "method_not_allowed",
                null,
                message,
                -1,
                allow);
    }

    public static ApiError expectationFailed(String message) {
        return invalid(HttpResponseStatus.EXPECTATION_FAILED, "invalid_request", message);
    }

    public static ApiError tooLarge(long limitBytes) {
        return invalid(
                HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "request_too_large",
                "Request body is larger than the gateway's limit of " + limitBytes + " bytes.");
    }

    public static ApiError headersTooLarge(long limitBytes) {
        return invalid(
                HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "request_too_large",
                "Request headers are larger than the gateway's limit of " + limitBytes + " bytes.");
    }

    /** Headers or body not received within their deadline; the server then closes the connection. */
    public static ApiError requestTimeout(String message) {
        return invalid(HttpResponseStatus.REQUEST_TIMEOUT, "request_timeout", message);
    }

    public static ApiError upstream(String message) {
        return apiError(HttpResponseStatus.BAD_GATEWAY, "upstream_error", message, -1);
    }

    /**
     * A 2xx answer that is not what it claims (not JSON, HTML, the wrong content type) and no
     * fallback answered.
     */
    public static ApiError upstreamInvalidResponse(String message) {
        return apiError(HttpResponseStatus.BAD_GATEWAY, "upstream_invalid_response", message, -1);
    }

    /** A fault of the gateway itself: logged with its stack trace, answered without it. */
    public static ApiError internal(String message) {
        return apiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal_error", message, -1);
    }

    public static ApiError upstreamTimeout(String message) {
        return apiError(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", message, -1);
    }

    /**
     * 503 {@code state_unavailable}: the store that keeps budgets and rate limits (a full map, Redis
     * unreachable) cannot decide, so a key with limits is not served rather than served unchecked.
     */
    public static ApiError stateUnavailable(String message, long retryAfterSeconds) {
        return apiError(HttpResponseStatus.SERVICE_UNAVAILABLE, "state_unavailable", message, retryAfterSeconds);
    }

    public static ApiError unavailable(String message, long retryAfterSeconds) {
        return apiError(HttpResponseStatus.SERVICE_UNAVAILABLE, "service_unavailable", message, retryAfterSeconds);
    }

    /** The key's daily budget cannot cover the request's worst case. */
    public static ApiError budgetExceeded(String message) {
        return new ApiError(
                HttpResponseStatus.PAYMENT_REQUIRED, "insufficient_quota", "budget_exceeded", null, message, -1, null);
    }

    /**
     * The key's daily budget has room for the request, but not while requests in flight hold their
     * reservations: 429 with a short {@code Retry-After}, which the OpenAI SDKs retry.
     */
    public static ApiError budgetBusy(String message, long retryAfterSeconds) {
        return rateLimit("budget_busy", message, retryAfterSeconds);
    }

    /** The key's requests or tokens per minute are used up: 429 with {@code Retry-After}. */
    public static ApiError rateLimited(String message, long retryAfterSeconds) {
        return rateLimit("rate_limited", message, retryAfterSeconds);
    }

    /** The caller's provider key cools down on every candidate endpoint: 503 with {@code Retry-After}. */
    public static ApiError noHealthyEndpoint(String message, long retryAfterSeconds) {
        return apiError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no_healthy_endpoint", message, retryAfterSeconds);
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }

    public @Nullable String param() {
        return param;
    }

    /** The {@code Allow} header of a 405, or null. */
    public @Nullable String allow() {
        return allow;
    }

    /** Seconds for a {@code Retry-After} header, or -1 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The error as OpenAI's JSON object. */
    public String toJson() {
        return json(getMessage(), type, code, param);
    }

    /** {@code {"error":{...}}} with every string escaped. */
    public static String json(@Nullable String message, String type, String code, @Nullable String param) {
        StringBuilder sb = new StringBuilder(96 + (message == null ? 0 : message.length()));
        sb.append("{\"error\":{\"message\":");
        quote(sb, message);
        sb.append(",\"type\":");
        quote(sb, type);
        sb.append(",\"param\":");
        quote(sb, param);
        sb.append(",\"code\":");
        quote(sb, code);
        sb.append("}}");
        return sb.toString();
    }

    static void quote(StringBuilder sb, @Nullable String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        sb.append('"');
    }

    public byte[] toJsonBytes() {
        return toJson().getBytes(StandardCharsets.UTF_8);
    }

    /** An {@code invalid_request_error}, with no parameter named and no {@code Retry-After}. */
    private static ApiError invalid(HttpResponseStatus status, String code, String message) {
        return new ApiError(status, "invalid_request_error", code, null, message, -1, null);
    }

    /** An {@code api_error}: the gateway or the provider failed, not the request. */
    private static ApiError apiError(HttpResponseStatus status, String code, String message, long retryAfterSeconds) {
        return new ApiError(status, "api_error", code, null, message, retryAfterSeconds, null);
    }

    /** A 429 {@code rate_limit_error} with {@code Retry-After}. */
    private static ApiError rateLimit(String code, String message, long retryAfterSeconds) {
        return new ApiError(
                HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limit_error", code, null, message, retryAfterSeconds, null);
    }

    /**
     * Whether {@code s} reads as an error code a client may match on: 1 to 64 of {@code [a-z0-9_.-]}
     * (a provider's {@code error.code} or {@code error.type} is kept when it does, else replaced).
     */
    public static boolean isCode(String s) {
        if (s.isEmpty() || s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-')) {
                return false;
            }
        }
        return true;
    }
}
