package io.brainstorm.proxy.config;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a {@code type: azure} provider account adds to {@link ProviderConfig} (docs/providers.md,
 * "azure"): which of Azure OpenAI's two URL forms its {@code base_url} has, the {@code api-version}
 * query, the catalog models its deployments serve, and how its key is sent.
 *
 * @param v1Form      true when {@code base_url} ends in {@code /openai/v1}: requests go to
 *                    {@code <base>/chat/completions} with the deployment name as the body's
 *                    {@code model}; false (deployment form): requests go to
 *                    {@code <base>/openai/deployments/<deployment>/chat/completions}
 * @param apiVersion  the {@code api-version} query value; required for the deployment form,
 *                    optional (null: no query) for the v1 form
 * @param deployments catalog model id → Azure deployment name, in file order; each deployment is
 *                    also routable as {@code <provider name>/<deployment>}, priced as its catalog model
 * @param entraToken  true: the key is a Microsoft Entra ID token ({@code bearer_token_env}), sent
 *                    as {@code Authorization: Bearer}; false: an Azure key, sent as {@code api-key}
 */
public record AzureConfig(
        boolean v1Form, @Nullable String apiVersion, Map<String, String> deployments, boolean entraToken) {

    public AzureConfig {
        deployments = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(deployments));
    }

    /**
     * The deployment serving {@code model} at account {@code provider}: the model's upstream name
     * for a {@code <provider>/<deployment>} model, else its {@link #deployments} entry, else null.
     */
    public @Nullable String deploymentOf(ModelSpec model, String provider) {
        if (model.provider().equals(provider)) {
            return model.upstreamName();
        }
        return deployments.get(model.id());
    }
}
