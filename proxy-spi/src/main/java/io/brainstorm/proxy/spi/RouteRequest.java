package io.brainstorm.proxy.spi;

/**
 * What routing knows of a request, read once from its body.
 *
 * @param requestId            the gateway's id for the request ({@code X-BR-Request-Id})
 * @param tenant               the tenant the calling key belongs to
 * @param model                the model asked for, without the variant ({@code sim/alpha}), or {@code auto}
 * @param variant              the variant suffix that chose this strategy ({@code floor}, a plugin's name), or
 *                             {@code auto}
 * @param taskClass            kind and size of the request
 * @param stream               the answer is streamed
 * @param tools                the request declares tools
 * @param json                 the request asks for {@code response_format} json_object or json_schema
 * @param estimatedInputTokens prompt size estimate
 * @param maxTokens            {@code max_completion_tokens} or {@code max_tokens}; -1 when the request sets neither
 * @param user                 the request's OpenAI {@code user} field; empty when absent
 */
public record RouteRequest(String requestId, String tenant, String model, String variant, TaskClass taskClass,
                           boolean stream, boolean tools, boolean json, long estimatedInputTokens, long maxTokens,
                           String user) {

    public RouteRequest {
        if (estimatedInputTokens < 0) {
            throw new IllegalArgumentException("estimatedInputTokens: " + estimatedInputTokens + " (expected: >= 0)");
        }
        if (maxTokens < -1) {
            throw new IllegalArgumentException("maxTokens: " + maxTokens + " (expected: >= 0, or -1 for none)");
        }
        user = user == null ? "" : user;
    }
}
