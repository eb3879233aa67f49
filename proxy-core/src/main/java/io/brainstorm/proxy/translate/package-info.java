/**
 * Translation between OpenAI's chat-completions wire format and other providers' formats, as pure
 * functions on Jackson trees: no channel, no buffer, no I/O. Starting points for Anthropic's Messages
 * API: {@link io.brainstorm.proxy.translate.AnthropicRequest} (an OpenAI request to an Anthropic
 * {@code /v1/messages} body and headers), {@link io.brainstorm.proxy.translate.AnthropicResponse}
 * (an Anthropic message to an OpenAI {@code chat.completion}, with the raw usage for cost) and
 * {@link io.brainstorm.proxy.translate.AnthropicErrors} (an Anthropic error to OpenAI's error shape and
 * a failover verdict).
 */
package io.brainstorm.proxy.translate;
