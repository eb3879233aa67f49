package io.brainstorm.proxy.route;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Where and how requests to one model at an Azure OpenAI account go (docs/providers.md, "azure").
 * The body is OpenAI's; only the request target and the key header differ.
 *
 * <ul>
 *   <li>Deployment form ({@code v1Form} false): {@code <basePath>/openai/deployments/<deployment><path>?api-version=<v>}.
 *   <li>v1 form: {@code <basePath><path>}, the base path ending in {@code /openai/v1}, with
 *       {@code ?api-version=<v>} only when one is configured; the deployment goes in the body's
 *       {@code model} ({@link Endpoint#upstreamModel()}).
 * </ul>
 *
 * @param deployment the Azure deployment name
 * @param apiVersion the {@code api-version} query value, or null (v1 form only)
 * @param v1Form     which URL form the account's {@code base_url} has
 * @param entraToken true: the key is sent as {@code Authorization: Bearer} (a Microsoft Entra ID
 *                   token); false: as the {@code api-key} header
 */
public record AzureTarget(String deployment, @Nullable String apiVersion, boolean v1Form, boolean entraToken) {

    /** The header an Azure key goes in when it is not an Entra ID token. */
    public static final String API_KEY_HEADER = "api-key";

    /** The request target for {@code path} ({@code /chat/completions}, {@code /embeddings}) under {@code basePath}. */
    public String target(String basePath, String path) {
        StringBuilder t = new StringBuilder(basePath.length() + path.length() + 64).append(basePath);
        if (!v1Form) {
            t.append("/openai/deployments/").append(encode(deployment));
        }
        t.append(path);
        if (apiVersion != null) {
            t.append("?api-version=").append(encode(apiVersion));
        }
        return t.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
