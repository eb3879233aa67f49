package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * An Anthropic error answer ({@code {"type":"error","error":{"type","message"}}} with its HTTP
 * status) read into what the relay needs: whether the attempt fails over, and else the OpenAI-shaped
 * error the client gets.
 *
 * <p><b>Calling it:</b> {@link #of(int, String, String)} on a non-2xx answer from Anthropic, with the
 * body and the {@code retry-after} header. When {@link UpstreamError#failover()} holds, treat it as
 * {@code relay/UpstreamErrors} treats an OpenAI provider's 401/403/408/429/5xx: try the next
 * endpoint, with {@link UpstreamError#failureReason()} as the reason the client sees if all fail
 * (and read {@code retry-after} with the relay's own parser for the credential hold); else answer
 * {@link UpstreamError#status()} with {@link UpstreamError#toJson()}. A stream's {@code error} event
 * carries the same {@code error} object: {@link #of(int, JsonNode, String)} with status 200 reads
 * it by its type alone.
 *
 * <p><b>Mapping</b> (Anthropic's {@code error.type} becomes the OpenAI {@code code}, as {@code
 * UpstreamErrors.code} takes an OpenAI provider's {@code code} else its {@code type}):
 *
 * <ul>
 *   <li>{@code overloaded_error} (529) and 5xx: failover; if it reaches the client, 503 for 529
 *       (OpenAI's SDKs do not know 529) and 502 otherwise, {@code api_error};
 *   <li>{@code rate_limit_error} (429): failover, with {@code retry-after}; else 429 {@code
 *       rate_limit_error};
 *   <li>408, 504 ({@code timeout_error}): failover; else 504 {@code api_error};
 *   <li>{@code authentication_error} (401), {@code permission_error} (403) and {@code billing_error}
 *       (402): the provider refused the gateway's key, not the client's: failover, and else 502 {@code
 *       api_error} whose message never repeats Anthropic's (it may quote the key);
 *   <li>{@code invalid_request_error} (400), {@code not_found_error} (404), {@code
 *       request_too_large} (413) and other 4xx: no failover (another endpoint would refuse the same
 *       request); the same status, {@code invalid_request_error}, Anthropic's message.
 * </ul>
 *
 * <p><b>Threading:</b> stateless.
 */
public final class AnthropicErrors {
    private static final int MAX_MESSAGE_CHARS = 1000;

    private AnthropicErrors() {}

    /**
     * What an Anthropic error means for the gateway.
     *
     * @param status            the status the client gets when this is the answer
     * @param type              OpenAI's {@code error.type}
     * @param code              OpenAI's {@code error.code}: Anthropic's error type
     * @param message           the message the client gets
     * @param failover          the attempt fails over (and counts for the breaker or the key's hold)
     * @param upstreamStatus    Anthropic's status
     * @param retryAfterSeconds the {@code retry-after} in seconds, or -1 (absent, or an HTTP date)
     */
    public record UpstreamError(
            int status,
            String type,
            String code,
            String message,
            boolean failover,
            int upstreamStatus,
            long retryAfterSeconds) {

        /** The error in OpenAI's shape, {@code {"error":{"message","type","param","code"}}}. */
        public String toJson() {
            return ApiError.json(message, type, code, null);
        }

        /**
         * Why the attempt failed, for the relay's list of failures: {@code HTTP 529
         * overloaded_error, retry-after 3}.
         */
        public String failureReason() {
            return "HTTP " + upstreamStatus + " " + code
                    + (upstreamStatus == 401 || upstreamStatus == 402 || upstreamStatus == 403
                            ? " (the provider rejected the provider key it was sent)"
                            : "")
                    + (retryAfterSeconds >= 0 ? ", retry-after " + retryAfterSeconds : "");
        }
    }

    /**
     * The error an Anthropic answer carries.
     *
     * @param body       the answer's body as text, or null; need not be JSON
     * @param retryAfter the {@code retry-after} header, or null
     */
    public static UpstreamError of(int status, @Nullable String body, @Nullable String retryAfter) {
        JsonNode root = null;
        if (body != null) {
            try {
                root = Json.MAPPER.readTree(body);
            } catch (IOException | RuntimeException e) {
                // not JSON: the status says enough
            }
        }
        return of(status, root, retryAfter);
    }

    /**
     * The error an Anthropic answer carries, from its parsed body.
     *
     * @param status     Anthropic's HTTP status; 200 for a stream's {@code error} event, read by its type
     * @param root       the parsed body (or the event's data), or null
     * @param retryAfter the {@code retry-after} header, or null
     */
    public static UpstreamError of(int status, @Nullable JsonNode root, @Nullable String retryAfter) {
        JsonNode error = root == null ? null : root.get("error");
        String anthropicType = error == null ? null : AnthropicRequest.text(error.get("type"));
        String anthropicMessage = error == null ? null : AnthropicRequest.text(error.get("message"));
        int effective = status / 100 == 2 ? statusOf(anthropicType) : status;
        String code = anthropicType != null && ApiError.isCode(anthropicType) ? anthropicType : fallbackCode(effective);
        long retry = seconds(retryAfter);

        if (effective == 401 || effective == 402 || effective == 403) {
            return new UpstreamError(
                    502,
                    "api_error",
                    code,
                    "The provider rejected the gateway's key for this model (HTTP " + effective + ").",
                    true,
                    effective,
                    retry);
        }
        String message = anthropicMessage != null && !anthropicMessage.isBlank()
                ? clip(anthropicMessage)
                : "The provider answered HTTP " + effective + ".";
        if (effective == 429) {
            return new UpstreamError(429, "rate_limit_error", code, message, true, effective, retry);
        }
        if (effective == 408 || effective == 504) {
            return new UpstreamError(504, "api_error", code, message, true, effective, retry);
        }
        if (effective >= 500) {
            return new UpstreamError(effective == 529 ? 503 : 502, "api_error", code, message, true, effective, retry);
        }
        return new UpstreamError(
                effective >= 400 ? effective : 502, "invalid_request_error", code, message, false, effective, retry);
    }

    /** The status Anthropic documents for an error type, for an error that came without one (a stream's). */
    private static int statusOf(@Nullable String type) {
        if (type == null) {
            return 500;
        }
        switch (type) {
            case "invalid_request_error":
                return 400;
            case "authentication_error":
                return 401;
            case "billing_error":
                return 402;
            case "permission_error":
                return 403;
            case "not_found_error":
                return 404;
            case "request_too_large":
                return 413;
            case "rate_limit_error":
                return 429;
            case "timeout_error":
                return 504;
            case "overloaded_error":
                return 529;
            default:
                return 500;
        }
    }

    private static String fallbackCode(int status) {
        return status >= 500 ? "upstream_error" : "upstream_client_error";
    }

    private static long seconds(@Nullable String retryAfter) {
        if (retryAfter == null) {
            return -1;
        }
        try {
            long s = Long.parseLong(retryAfter.trim());
            return s >= 0 ? s : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String clip(String s) {
        return s.length() <= MAX_MESSAGE_CHARS ? s : s.substring(0, MAX_MESSAGE_CHARS) + "…";
    }
}
