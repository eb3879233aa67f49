package io.brainstorm.proxy.route;

import java.util.List;

/**
 * What routing needs to know of a request, read once from its JSON.
 *
 * @param estimatedInputTokens prompt size estimate, meant to err high: a token per 3 ASCII bytes of the body
 *                             plus one per non-ASCII character
 * @param maxOutputTokens      {@code max_completion_tokens} or {@code max_tokens}, or -1 when absent
 * @param tools                the request declares tools
 * @param json                 the request asks for {@code response_format} json_object or json_schema
 * @param stream               the answer is streamed
 * @param embeddings           an embeddings request
 * @param fallbackModels       OpenRouter's {@code models}: models to fall back to, in order, after the asked one
 * @param provider             OpenRouter's {@code provider} preferences
 * @param user                 OpenAI's {@code user} field, or empty
 */
public record RequestFeatures(
        long estimatedInputTokens,
        long maxOutputTokens,
        boolean tools,
        boolean json,
        boolean stream,
        boolean embeddings,
        List<String> fallbackModels,
        ProviderPreferences provider,
        String user) {
    public RequestFeatures {
        fallbackModels = List.copyOf(fallbackModels);
        user = user == null ? "" : user;
    }

    /** Features without OpenRouter fields or a user. */
    public RequestFeatures(
            long estimatedInputTokens,
            long maxOutputTokens,
            boolean tools,
            boolean json,
            boolean stream,
            boolean embeddings) {
        this(
                estimatedInputTokens,
                maxOutputTokens,
                tools,
                json,
                stream,
                embeddings,
                List.of(),
                ProviderPreferences.NONE,
                "");
    }
}
