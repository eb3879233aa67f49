package io.brainstorm.proxy.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's OpenAI-shaped errors ({@link ApiError}, or {@code {"error":{"message","type",
 * "param","code"}}} with its status) said in Anthropic's shape, {@code
 * {"type":"error","error":{"type","message"}}}, for a {@code /v1/messages} client. The mirror of
 * {@link AnthropicErrors}.
 *
 * <p><b>Calling it:</b> wherever a {@code /v1/messages} request would get an OpenAI error body,
 * write {@link AnthropicError#toJson()} with {@link AnthropicError#status()} instead (and {@code
 * Retry-After} from {@link AnthropicError#retryAfterSeconds()} as for chat completions). For a
 * stream that breaks after its head left, {@link MessagesStream#error(String, String)} gives the
 * {@code error} event with the same type and message.
 *
 * <p><b>Mapping</b> by status, after Anthropic's errors reference; the status itself is kept:
 *
 * <ul>
 *   <li>400 and the other 4xx not named here (405, 408, 409, 417) {@code invalid_request_error}
 *       (Anthropic uses it for "other 4XX status codes"); 401 {@code authentication_error}; 403
 *       {@code permission_error}; 404 {@code not_found_error}; 413 and 431 {@code
 *       request_too_large}; 429 {@code rate_limit_error};
 *   <li>402, the gateway's budget refusal ({@code budget_exceeded}): {@code billing_error}, the
 *       type Anthropic gives its own 402, which the SDKs do not retry, as a spent budget should not
 *       be retried;
 *   <li>503 ({@code service_unavailable}, {@code no_healthy_endpoint}): {@code overloaded_error},
 *       Anthropic's word for "cannot serve now, retry later" (its SDKs retry every 5xx); 529 the
 *       same;
 *   <li>504 ({@code upstream_timeout}): {@code timeout_error}, Anthropic's type for 504;
 *   <li>500, 502 and any other status: {@code api_error}.
 * </ul>
 *
 * <p>The message keeps the gateway's {@code code} in front when it says more than the type (such
 * as {@code budget_exceeded: ...}, {@code model_not_allowed: ...}, {@code upstream_error: ...}), so
 * a user can look it up in the gateway's docs (docs/architecture.md §3).
 *
 * <p><b>Threading:</b> stateless.
 */
public final class MessagesErrors {
    private MessagesErrors() {}

    /**
     * An error as a {@code /v1/messages} client gets it.
     *
     * @param status            the HTTP status, the gateway's own
     * @param type              Anthropic's {@code error.type}
     * @param message           the message, with the gateway's code in front when it says more
     * @param retryAfterSeconds seconds for a {@code Retry-After} header, or -1 for none
     */
    public record AnthropicError(int status, String type, String message, long retryAfterSeconds) {
        /** {@code {"type":"error","error":{"type","message"}}}. */
        public String toJson() {
            return Json.write(toTree());
        }

        /** The same as a tree, for a stream's {@code error} event. */
        public ObjectNode toTree() {
            ObjectNode root = Json.MAPPER.createObjectNode();
            root.put("type", "error");
            root.putObject("error").put("type", type).put("message", message);
            return root;
        }
    }

    /** The Anthropic error for one of the gateway's own. */
    public static AnthropicError of(ApiError error) {
        int status = error.status().code();
        String message = error.getMessage();
        return new AnthropicError(
                status,
                typeOf(status),
                withCode(error.code(), message == null ? "" : message, status),
                error.retryAfterSeconds());
    }

    /**
     * The Anthropic error for an OpenAI-shaped error body (the gateway's, or an OpenAI-type
     * upstream's as the relay passes it on).
     *
     * @param body the body as text, or null; need not be JSON
     */
    public static AnthropicError of(int status, @Nullable String body) {
        String message = null;
        String code = null;
        if (body != null) {
            try {
                JsonNode error = Json.MAPPER.readTree(body).path("error");
                message = AnthropicRequest.text(error.get("message"));
                code = AnthropicRequest.text(error.get("code"));
            } catch (IOException | RuntimeException e) {
                // not JSON: the status says enough
            }
        }
        if (message == null || message.isBlank()) {
            message = "The gateway answered HTTP " + status + ".";
        }
        return new AnthropicError(status, typeOf(status), withCode(code, message, status), -1);
    }

    /** Anthropic's {@code error.type} for an HTTP status; see the class doc. */
    public static String typeOf(int status) {
        return switch (status) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413, 431 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503, 529 -> "overloaded_error";
            case 504 -> "timeout_error";
            default -> status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
        };
    }

    /** The message with the gateway's code in front, unless the code adds nothing to the type. */
    private static String withCode(@Nullable String code, String message, int status) {
        if (code == null
                || code.isEmpty()
                || code.equals("invalid_request")
                || code.equals(typeOf(status))
                || message.startsWith(code + ":")) {
            return message;
        }
        return code + ": " + message;
    }
}
