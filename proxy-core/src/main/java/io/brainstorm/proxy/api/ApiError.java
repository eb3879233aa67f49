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
            long retryAfterSeconds) {
        this(status, type, code, param, message, retryAfterSeconds, null);
    }

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
                HttpResponseStatus.BAD_REQUEST, "invalid_request_error", "invalid_request", param, message, -1);
    }

    public static ApiError invalidApiKey(String message) {
        return new ApiError(
                HttpResponseStatus.UNAUTHORIZED, "authentication_error", "invalid_api_key", null, message, -1);
    }

    public static ApiError modelNotFound(String message) {
        return new ApiError(
                HttpResponseStatus.NOT_FOUND, "invalid_request_error", "model_not_found", "model", message, -1);
    }

    /** The key may not use the model it asked for. */
    public static ApiError modelNotAllowed(String message) {
        return new ApiError(
                HttpResponseStatus.FORBIDDEN, "permission_error", "model_not_allowed", "model", message, -1);
    }

    /** The caller is known but may not do this (admin API: a tenant admin creating or deleting tenants). */
    public static ApiError permissionDenied(String message) {
        return new ApiError(HttpResponseStatus.FORBIDDEN, "permission_error", "permission_error", null, message, -1);
    }

    /**
     * A dashboard session's change without its {@code X-CSRF-Token}, or from another origin (admin
     * API with the session cookie, docs/dashboard.md).
     */
    public static ApiError csrfFailed(String message) {
        return new ApiError(HttpResponseStatus.FORBIDDEN, "permission_error", "csrf_failed", null, message, -1);
    }

    /** The request clashes with what exists (admin API: a tenant that exists, a key from config). */
    public static ApiError conflict(String message) {
        return new ApiError(HttpResponseStatus.CONFLICT, "invalid_request_error", "conflict", null, message, -1);
    }

    public static ApiError notFound(String message) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, "invalid_request_error", "not_found", null, message, -1);
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
        return new ApiError(
                HttpResponseStatus.EXPECTATION_FAILED, "invalid_request_error", "invalid_request", null, message, -1);
    }

    public static ApiError tooLarge(long limitBytes) {
        return new ApiError(
                HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "invalid_request_error",
                "request_too_large",
                null,
                "Request body is larger than the gateway's limit of " + limitBytes + " bytes.",
                -1);
    }

    public static ApiError headersTooLarge(long limitBytes) {
        return new ApiError(
                HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "invalid_request_error",
                "request_too_large",
                null,
                "Request headers are larger than the gateway's limit of " + limitBytes + " bytes.",
                -1);
    }

    /** Headers or body not received within their deadline; the server then closes the connection. */
    public static ApiError requestTimeout(String message) {
        return new ApiError(
                HttpResponseStatus.REQUEST_TIMEOUT, "invalid_request_error", "request_timeout", null, message, -1);
    }

    public static ApiError upstream(String message) {
        return new ApiError(HttpResponseStatus.BAD_GATEWAY, "api_error", "upstream_error", null, message, -1);
    }

    /**
     * A 2xx answer that is not what it claims (not JSON, HTML, the wrong content type) and no
     * fallback answered.
     */
    public static ApiError upstreamInvalidResponse(String message) {
        return new ApiError(
                HttpResponseStatus.BAD_GATEWAY, "api_error", "upstream_invalid_response", null, message, -1);
    }

    /** A fault of the gateway itself: logged with its stack trace, answered without it. */
    public static ApiError internal(String message) {
        return new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "api_error", "internal_error", null, message, -1);
    }

    public static ApiError upstreamTimeout(String message) {
        return new ApiError(HttpResponseStatus.GATEWAY_TIMEOUT, "api_error", "upstream_timeout", null, message, -1);
    }

    public static ApiError unavailable(String message, long retryAfterSeconds) {
        return new ApiError(
                HttpResponseStatus.SERVICE_UNAVAILABLE,
                "api_error",
                "service_unavailable",
                null,
                message,
                retryAfterSeconds);
    }

    /** The key's daily budget cannot cover the request's worst case. */
    public static ApiError budgetExceeded(String message) {
        return new ApiError(
                HttpResponseStatus.PAYMENT_REQUIRED, "insufficient_quota", "budget_exceeded", null, message, -1);
    }

    /**
     * The key's daily budget has room for the request, but not while requests in flight hold their
     * reservations: 429 with a short {@code Retry-After}, which the OpenAI SDKs retry.
     */
    public static ApiError budgetBusy(String message, long retryAfterSeconds) {
        return new ApiError(
                HttpResponseStatus.TOO_MANY_REQUESTS,
                "rate_limit_error",
                "budget_busy",
                null,
                message,
                retryAfterSeconds);
    }

    /** The key's requests or tokens per minute are used up: 429 with {@code Retry-After}. */
    public static ApiError rateLimited(String message, long retryAfterSeconds) {
        return new ApiError(
                HttpResponseStatus.TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limited",
                null,
                message,
                retryAfterSeconds);
    }

    /** The caller's provider key cools down on every candidate endpoint: 503 with {@code Retry-After}. */
    public static ApiError noHealthyEndpoint(String message, long retryAfterSeconds) {
        return new ApiError(
                HttpResponseStatus.SERVICE_UNAVAILABLE,
                "api_error",
                "no_healthy_endpoint",
                null,
                message,
                retryAfterSeconds);
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
}
