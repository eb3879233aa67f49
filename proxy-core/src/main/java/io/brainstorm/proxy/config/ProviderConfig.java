package io.brainstorm.proxy.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One upstream provider account from {@code brainstorm.yaml}.
 *
 * @param name     the account's name; models {@code <name>/…} are served by it, and it is the
 *                 endpoint id shown in {@code X-BR-Endpoint}
 * @param type     wire protocol: {@code openai} (any OpenAI-compatible API), {@code azure}
 *                 (Azure OpenAI: the OpenAI wire format, Azure's addressing and key header) or
 *                 {@code anthropic} (Anthropic's Messages API, translated)
 * @param baseUrl  e.g. {@code https://api.openai.com/v1}
 * @param apiKey   the provider key of {@code tenant}, empty when not configured (tenants then
 *                 bring their own through the admin API). A secret: never logged; {@link #toString()} hides it.
 * @param tenant   the tenant {@code apiKey} belongs to ({@code default} unless named)
 * @param timeouts upstream timeouts
 * @param models   extra catalog models (of other providers' names) this account also serves
 * @param caFile   extra trusted CA certificates in PEM (for private endpoints), or null
 * @param azure    the {@code type: azure} settings; null for every other type
 * @param anthropic the {@code type: anthropic} settings; null for every other type
 */
public record ProviderConfig(
        String name,
        String type,
        URI baseUrl,
        @Nullable String apiKey,
        @Nullable String tenant,
        Timeouts timeouts,
        List<String> models,
        @Nullable Path caFile,
        @Nullable AzureConfig azure,
        @Nullable AnthropicConfig anthropic) {

    public ProviderConfig {
        models = List.copyOf(models);
    }

    /** An account of type {@code openai}. */
    public ProviderConfig(
            String name,
            String type,
            URI baseUrl,
            @Nullable String apiKey,
            @Nullable String tenant,
            Timeouts timeouts,
            List<String> models,
            @Nullable Path caFile) {
        this(name, type, baseUrl, apiKey, tenant, timeouts, models, caFile, null, null);
    }

    public boolean hasKey() {
        return apiKey != null && !apiKey.isEmpty();
    }

    @Override
    public String toString() {
        return "ProviderConfig[name=" + name + ", type=" + type + ", baseUrl=" + baseUrl
                + ", apiKey=" + (hasKey() ? "(set)" : "(none)") + ", tenant=" + tenant + ", timeouts=" + timeouts
                + ", models=" + models + ", caFile=" + caFile + (azure == null ? "" : ", azure=" + azure)
                + (anthropic == null ? "" : ", anthropic=" + anthropic) + "]";
    }
}
