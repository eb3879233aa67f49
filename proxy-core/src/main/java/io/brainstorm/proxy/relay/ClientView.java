package io.brainstorm.proxy.relay;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.route.AzureTarget;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.Scorer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.math.BigDecimal;
import java.math.RoundingMode;
import org.jspecify.annotations.Nullable;

/**
 * The messages of an {@link Exchange}, in both directions: the request head sent upstream, and
 * what the client sees of the gateway's governance: the {@code X-BR-*} headers and trailers, the
 * {@code x_br} object of a stream's end, the stream's error event. The endpoint and the number of
 * fallbacks are read from {@link Attempts} when a message is made.
 *
 * <p><b>Ownership.</b> A body given to a method goes into the message it returns; the caller
 * passes that message on.
 *
 * <p><b>Threading.</b> Used on the request's event loop only.
 */
final class ClientView {
    private final String requestId;
    private final RoutePlan route;
    private final Ticket ticket;
    private final Attempts attempts;
    private final boolean clientTrailers;
    /** The Messages client, whose stream errors are Anthropic's events; null for an OpenAI client. */
    private final @Nullable MessagesClient messages;
    /** {@code X-BR-Efficiency} as sent: known at routing, the same in headers, trailers and {@code x_br}. */
    private final String efficiency;

    /** @param clientTrailers whether the client asked for trailers ({@code TE: trailers}) */
    ClientView(
            String requestId,
            RoutePlan route,
            Ticket ticket,
            Attempts attempts,
            boolean clientTrailers,
            @Nullable MessagesClient messages) {
        this.requestId = requestId;
        this.messages = messages;
        this.route = route;
        this.ticket = ticket;
        this.attempts = attempts;
        this.clientTrailers = clientTrailers;
        this.efficiency = decimal(route.efficiency());
    }

    /**
     * The request to the current endpoint, carrying {@code body} to {@code path} under its base
     * path ({@link Endpoint#requestTarget}); the key goes in {@code Authorization: Bearer}, in
     * {@code api-key} at an Azure account without an Entra ID token, or with Anthropic's headers
     * when {@code anthropic} is the attempt's translation.
     */
    FullHttpRequest upstreamRequest(ByteBuf body, String path, boolean stream, @Nullable AnthropicAttempt anthropic) {
        Endpoint endpoint = attempts.endpoint();
        FullHttpRequest req =
                new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, endpoint.requestTarget(path), body);
        HttpHeaders h = req.headers();
        h.set(HttpHeaderNames.HOST, endpoint.origin().authority());
        AzureTarget azure = endpoint.azure();
        if (anthropic != null) {
            anthropic.headers(h, attempts.upstreamKey());
        } else if (azure != null && !azure.entraToken()) {
            h.set(AzureTarget.API_KEY_HEADER, attempts.upstreamKey());
        } else {
            h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + attempts.upstreamKey());
        }
        h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        h.set(HttpHeaderNames.ACCEPT, stream ? "text/event-stream" : "application/json");
        h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        h.set(HttpHeaderNames.USER_AGENT, "brainstorm-proxy");
        return req;
    }

    /** The head of a streamed answer: {@code 200}, SSE, chunked, the governance headers. */
    HttpResponse streamHead() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpHeaders h = head.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setTransferEncodingChunked(head, true);
        governanceHeaders(h);
        if (clientTrailers) {
            h.set(HttpHeaderNames.TRAILER, Headers.TRAILER_FIELDS);
        }
        return head;
    }

    /** A whole answer: the upstream's status and body, with the governance and cost headers. */
    FullHttpResponse answer(
            HttpResponseStatus status, ByteBuf body, String contentType, long costNano, boolean estimated) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        HttpHeaders h = response.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        governanceHeaders(h);
        h.set(Headers.ACTUAL_COST, Cost.formatUsd(costNano));
        if (estimated) {
            h.set(Headers.COST_ESTIMATED, "true");
        }
        return response;
    }

    /** The end of a complete stream: its trailers when the client asked for them. */
    LastHttpContent streamEnd(long costNano, boolean estimated, Scorer.Result verdict) {
        LastHttpContent last = new DefaultLastHttpContent();
        if (clientTrailers) {
            last.trailingHeaders()
                    .set(Headers.ACTUAL_COST, Cost.formatUsd(costNano))
                    .set(Headers.EFFICIENCY, efficiency)
                    .set(Headers.FALLBACKS, attempts.fallbacks())
                    .set(Headers.COST_ESTIMATED, estimated);
            if (verdict.score() >= 0) {
                last.trailingHeaders().set(Headers.SCORE, decimal(verdict.score()));
            }
            if (ticket.budgeted()) {
                last.trailingHeaders().set(Headers.BUDGET_REMAINING, Cost.formatUsd(ticket.remainingNano()));
            }
        }
        return last;
    }

    /**
     * The stream's last event after a failure once its head left (docs/architecture.md §3): an {@code error}
     * object, {@code finish_reason: "error"}, and {@code x_br} with the estimated cost.
     */
    ByteBuf errorEvent(ByteBufAllocator alloc, String message, String code, long costNano) {
        if (messages != null) {
            // a Messages client: Anthropic's error event, and no message_stop after it
            return MessagesEvents.errorEvent(alloc, "api_error", code + ": " + message, xbr(costNano, true, null));
        }
        ObjectNode event = Json.MAPPER.createObjectNode();
        event.put("id", requestId);
        event.put("object", "chat.completion.chunk");
        event.put("created", System.currentTimeMillis() / 1000);
        event.put("model", attempts.endpoint().model().id());
        ObjectNode error = event.putObject("error");
        error.put("message", message).put("type", "api_error").putNull("param").put("code", code);
        ObjectNode choice = event.putArray("choices").addObject();
        choice.put("index", 0).putObject("delta");
        choice.put("finish_reason", "error");
        event.set("x_br", xbr(costNano, true, null));
        return SseEvents.dataEvent(alloc, event.toString());
    }

    /** The {@code x_br} object of a stream's end: what the headers say, with the cost and score once known. */
    ObjectNode xbr(long costNano, boolean estimated, Scorer.@Nullable Result verdict) {
        Endpoint endpoint = attempts.endpoint();
        ObjectNode x = Json.MAPPER.createObjectNode();
        x.put("request_id", requestId);
        x.put("selected_model", endpoint.model().id());
        x.put("endpoint", endpoint.id());
        x.put("strategy", route.strategy());
        x.putRawValue("actual_cost", usd(costNano));
        x.putRawValue("efficiency", new RawValue(efficiency));
        x.put("fallbacks", attempts.fallbacks());
        if (ticket.budgeted() && ticket.ended()) {
            x.putRawValue("budget_remaining", usd(ticket.remainingNano()));
        }
        if (estimated) {
            x.put("cost_estimated", true);
        }
        if (verdict != null && verdict.score() >= 0) {
            x.putRawValue("score", new RawValue(decimal(verdict.score())));
        }
        if (endpoint.simulated()) {
            x.put("simulated", true);
        }
        return x;
    }

    private void governanceHeaders(HttpHeaders h) {
        Endpoint endpoint = attempts.endpoint();
        h.set(Headers.REQUEST_ID, requestId);
        h.set(Headers.SELECTED_MODEL, endpoint.model().id());
        h.set(Headers.ENDPOINT, endpoint.id());
        h.set(Headers.STRATEGY, route.strategy());
        h.set(Headers.EFFICIENCY, efficiency);
        h.set(Headers.FALLBACKS, attempts.fallbacks());
        if (ticket.budgeted()) {
            // a stream's headers leave before its cost is known: what is left with its worst case held
            h.set(Headers.BUDGET_REMAINING, Cost.formatUsd(ticket.remainingNano()));
        }
        if (endpoint.simulated()) {
            h.set(Headers.SIMULATED, "true");
        }
    }

    /** A USD amount as a plain JSON number ({@code 0.0000461}, never {@code 4.61E-5}). */
    private static RawValue usd(long nano) {
        return new RawValue(Cost.formatUsd(nano));
    }

    /** A score or an efficiency as sent: at most four decimals, no trailing zeros, never an exponent. */
    static String decimal(double value) {
        return BigDecimal.valueOf(value)
                .setScale(4, RoundingMode.HALF_UP)
                .stripTrailingZeros()
                .toPlainString();
    }
}
