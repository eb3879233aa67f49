package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.api.ParsedRequest;
import io.netty.channel.ChannelHandlerContext;
import org.jspecify.annotations.Nullable;

/**
 * What the state of an answer ({@link WholeAnswer}, {@link StreamedAnswer}) works with: its
 * {@link Exchange}, which it ends, and the request's helpers. One per request, made with the
 * exchange.
 *
 * @param scored whether the answer goes through the scorer (the request asked for structure)
 * @param record the request's completion record, which the answer's end fills
 * @param messages the Anthropic Messages client whose answers are in Anthropic's shape, or null
 *        for an OpenAI client
 */
record AnswerParts(
        Exchange exchange,
        ChannelHandlerContext client,
        String requestId,
        ParsedRequest request,
        Settlement settlement,
        boolean scored,
        Attempts attempts,
        ClientView view,
        Bill bill,
        Timeline timeline,
        CompletionRecord record,
        @Nullable MessagesClient messages) {}
