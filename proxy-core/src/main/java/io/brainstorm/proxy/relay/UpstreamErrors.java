package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/** What a provider's error says: why its head fails an attempt, the code in its 4xx body. */
final class UpstreamErrors {

    private UpstreamErrors() {}

    /**
     * Why a response head fails the attempt over: 401/403 (the provider rejected the key), 402 from
     * Anthropic ({@code billing_error}: the account cannot pay, another endpoint may), 408, 429 and
     * 5xx, with the {@code Retry-After} it carries; null when it does not.
     */
    static @Nullable String failure(int status, HttpHeaders headers, boolean anthropic) {
        boolean keyRefused = status == 401 || status == 403 || anthropic && status == 402;
        if (keyRefused || status == 408 || status == 429 || status >= 500) {
            String retryAfter = headers.get(HttpHeaderNames.RETRY_AFTER);
            return "HTTP " + status
                    + (status == 402
                            ? " (the provider refused the provider key it was sent: billing)"
                            : keyRefused ? " (the provider rejected the provider key it was sent)" : "")
                    + (retryAfter != null ? ", retry-after " + retryAfter : "");
        }
        return null;
    }

    /**
     * Azure OpenAI's {@code retry-after-ms}: the wait in milliseconds, sent beside {@code retry-after}
     * and preferred to it when readable.
     */
    static final String RETRY_AFTER_MS = "retry-after-ms";

    /**
     * Why the answer's head fails the attempt over, or null when its answer is to be read: a
     * {@link #failure} status, or a 2xx whose content type does not fit the request.
     */
    static @Nullable Rejection rejection(HttpResponse head, boolean stream, boolean anthropic) {
        int status = head.status().code();
        String failure = failure(status, head.headers(), anthropic);
        if (failure != null) {
            long retryAfter = RetryAfter.milliseconds(head.headers().get(RETRY_AFTER_MS));
            if (retryAfter < 0) {
                retryAfter =
                        RetryAfter.millis(head.headers().get(HttpHeaderNames.RETRY_AFTER), System.currentTimeMillis());
            }
            return new Rejection(failure, false, status, retryAfter);
        }
        String wrong =
                status / 100 == 2 ? AnswerCheck.head(stream, head.headers().get(HttpHeaderNames.CONTENT_TYPE)) : null;
        return wrong == null ? null : new Rejection("the answer was " + wrong, true, status, -1);
    }

    /**
     * Why a head failed the attempt over.
     *
     * @param invalid          a 2xx with an answer of the wrong kind: the provider had the prompt
     * @param retryAfterMillis the wait its {@code Retry-After} asks for, or -1
     */
    record Rejection(String reason, boolean invalid, int status, long retryAfterMillis) {}

    /**
     * {@code error.code} (else {@code error.type}) of an OpenAI-shaped error body when it is a short
     * identifier ({@code [a-z0-9_.-]}); else {@code upstream_client_error}. Indexes untouched.
     */
    static String code(ByteBuf body) {
        try {
            JsonNode root = Json.read(body);
            JsonNode error = root == null ? null : root.get("error");
            if (error != null) {
                for (String field : new String[] {"code", "type"}) {
                    JsonNode v = error.get(field);
                    if (v != null && v.isTextual() && ApiError.isCode(v.textValue())) {
                        return v.textValue();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the status says enough
        }
        return "upstream_client_error";
    }

    /**
     * Azure OpenAI's refusal of a prompt by its content filter (400, {@code error.code:
     * "content_filter"}, with {@code type: null}, {@code status} and an {@code innererror} naming
     * the filtered categories) as an OpenAI-shaped error: {@code message}, {@code type:
     * "invalid_request_error"}, {@code param}, {@code code: "content_filter"}, and Azure's
     * {@code innererror} kept. Null when {@code body} is not such an error. Indexes untouched.
     */
    static @Nullable ByteBuf azureContentFilter(ByteBuf body, ByteBufAllocator alloc) {
        JsonNode error;
        try {
            JsonNode root = Json.read(body);
            error = root == null ? null : root.get("error");
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (error == null || !CONTENT_FILTER.equals(error.path("code").asText(null))) {
            return null;
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ObjectNode e = out.putObject("error");
        JsonNode message = error.get("message");
        e.put(
                "message",
                message != null && message.isTextual()
                        ? message.textValue()
                        : "The prompt was refused by the provider's content filter.");
        e.put("type", "invalid_request_error");
        JsonNode param = error.get("param");
        if (param != null && param.isTextual()) {
            e.put("param", param.textValue());
        } else {
            e.putNull("param");
        }
        e.put("code", CONTENT_FILTER);
        JsonNode inner = error.get("innererror");
        if (inner != null && inner.isObject()) {
            e.set("innererror", inner);
        }
        return ByteBufUtil.writeUtf8(alloc, out.toString());
    }

    /** The {@code code} of an Azure content-filter refusal, kept in the OpenAI-shaped error. */
    static final String CONTENT_FILTER = "content_filter";
}
