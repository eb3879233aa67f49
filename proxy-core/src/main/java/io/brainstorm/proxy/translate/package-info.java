/**
 * Translation between OpenAI's chat-completions wire format, which clients of the gateway speak,
 * and other providers' native formats. Pure functions and per-response state objects: no channels,
 * no configuration. Start at {@link io.brainstorm.proxy.translate.AnthropicStreamTranslator}, which
 * turns an Anthropic Messages stream into OpenAI {@code chat.completion.chunk} events, one event at
 * a time.
 */
package io.brainstorm.proxy.translate;
