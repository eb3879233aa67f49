/**
 * Translation between OpenAI's chat-completions wire format, which clients of the gateway speak,
 * and other providers' native formats: pure functions on Jackson trees and per-response state
 * objects; no channel, no buffer, no I/O, no configuration. For Anthropic's Messages API:
 * {@link io.brainstorm.proxy.translate.AnthropicRequest} (an OpenAI request to an Anthropic
 * {@code /v1/messages} body and headers), {@link io.brainstorm.proxy.translate.AnthropicResponse}
 * (an Anthropic message to an OpenAI {@code chat.completion}, with the raw usage whose
 * {@link io.brainstorm.proxy.translate.AnthropicResponse.Usage#toSettle()} is what to charge, for a
 * whole answer and a stream alike),
 * {@link io.brainstorm.proxy.translate.AnthropicStreamTranslator} (an Anthropic Messages stream to
 * OpenAI {@code chat.completion.chunk} events, one event at a time) and
 * {@link io.brainstorm.proxy.translate.AnthropicErrors} (an Anthropic error to OpenAI's error shape
 * and a failover verdict).
 *
 * <p>The other way, for clients of the gateway's {@code POST /v1/messages} routed to an OpenAI-type
 * model: {@link io.brainstorm.proxy.translate.MessagesRequest} (an Anthropic Messages body to an
 * OpenAI chat-completions body), {@link io.brainstorm.proxy.translate.MessagesResponse} (a {@code
 * chat.completion} to an Anthropic message), {@link io.brainstorm.proxy.translate.MessagesStream}
 * (OpenAI chunks to Anthropic SSE events, one chunk at a time), {@link
 * io.brainstorm.proxy.translate.MessagesErrors} (the gateway's errors in Anthropic's shape) and
 * {@link io.brainstorm.proxy.translate.MessagesTokenCount} ({@code count_tokens}, estimated).
 */
package io.brainstorm.proxy.translate;
