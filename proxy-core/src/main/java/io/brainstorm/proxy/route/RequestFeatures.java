package io.brainstorm.proxy.route;

/**
 * What routing needs to know of a request, read once from its JSON.
 *
 * @param estimatedInputTokens prompt size estimate (UTF-8 bytes of the body ÷ 4, rounded up)
 * @param maxOutputTokens      {@code max_completion_tokens} or {@code max_tokens}, or -1 when absent
 * @param tools                the request declares tools
 * @param json                 the request asks for {@code response_format} json_object or json_schema
 * @param stream               the answer is streamed
 * @param embeddings           an embeddings request
 */
public record RequestFeatures(long estimatedInputTokens, long maxOutputTokens, boolean tools, boolean json,
                              boolean stream, boolean embeddings) {
}
