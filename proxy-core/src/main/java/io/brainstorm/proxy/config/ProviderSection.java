package io.brainstorm.proxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@code providers} section of {@code brainstorm.yaml} for {@link ConfigLoader}: one
 * {@link ProviderConfig} per provider account, with its base URL, tenant, timeouts, models and CA
 * file checked, for {@code type: anthropic} its {@link AnthropicConfig}, and for {@code type: azure} its {@link AzureConfig} (URL form, {@code api_version},
 * {@code deployments}, {@code bearer_token_env}); {@link #withDeployments} then adds each Azure
 * deployment to the catalog as {@code <name>/<deployment>}. Errors name the field path, as
 * everywhere in the loader; the API key (or Entra ID token) is never part of a message, nor is a
 * base URL that carries user info.
 */
final class ProviderSection {
    private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
    static final String AZURE = "azure";
    static final String ANTHROPIC = "anthropic";
    private static final Pattern ANTHROPIC_VERSION = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    private static final Pattern ANTHROPIC_BETA = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
    private static final String V1_PATH = "/openai/v1";
    private static final Pattern API_VERSION =
            Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?|v1|latest|preview");
    private static final Pattern DEPLOYMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private ProviderSection() {}

    /**
     * @param env where {@code bearer_token_env} variables are read
     */
    static List<ProviderConfig> read(YamlNode list, @Nullable Path baseDir, Catalog catalog, Map<String, String> env)
            throws ConfigException {
        List<ProviderConfig> out = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (YamlNode p : list.elements()) {
            p.expectMapping(
                    "a mapping describing one provider account",
                    "name",
                    "type",
                    "base_url",
                    "api_key",
                    "tenant",
                    "timeouts",
                    "models",
                    "ca_file",
                    "api_version",
                    "deployments",
                    "bearer_token_env",
                    "anthropic_version",
                    "anthropic_beta");
            YamlNode nameNode = p.field("name");
            String name = nameNode.requiredText();
            if (!PROVIDER_NAME.matcher(name).matches()) {
                throw nameNode.error("lower-case letters, digits and '-', starting with a letter or digit");
            }
            if (name.equals(Catalog.SIM_PROVIDER)) {
                throw nameNode.error("a name other than sim, which is the built-in simulated provider");
            }
            String first = names.putIfAbsent(name, nameNode.path());
            if (first != null) {
                throw nameNode.error("a unique provider name; " + first + " has it already");
            }
            YamlNode typeNode = p.field("type");
            String type = typeNode.text("openai");
            if (!type.equals("openai") && !type.equals(AZURE) && !type.equals(ANTHROPIC)) {
                throw typeNode.error("openai (any OpenAI-compatible API), azure (Azure OpenAI) or anthropic"
                        + " (Anthropic's Messages API)");
            }
            boolean azure = type.equals(AZURE);
            if (!type.equals(ANTHROPIC)) {
                for (String only : new String[] {"anthropic_version", "anthropic_beta"}) {
                    if (p.field(only).isSet()) {
                        throw p.field(only).fail("only for type: anthropic (this provider is type: " + type + ")");
                    }
                }
            }
            if (!azure) {
                for (String only : new String[] {"api_version", "deployments", "bearer_token_env"}) {
                    if (p.field(only).isSet()) {
                        throw p.field(only).fail("only for type: azure (this provider is type: " + type + ")");
                    }
                }
            } else if (p.field("models").isSet()) {
                throw p.field("models")
                        .fail("not for type: azure (name the catalog models it serves in deployments:"
                                + " {catalog-model-id: deployment-name})");
            }
            URI baseUrl = baseUrl(p.field("base_url"));
            String apiKey = p.field("api_key").secret().text("");
            AzureConfig azureConfig = null;
            if (azure) {
                azureConfig = azure(
                        p, name, baseUrl, catalog, p.field("bearer_token_env").isSet());
                YamlNode tokenEnv = p.field("bearer_token_env");
                if (tokenEnv.isSet()) {
                    if (!apiKey.isEmpty()) {
                        throw tokenEnv.fail("set together with api_key (expected: one of them)");
                    }
                    String var = tokenEnv.requiredText();
                    String token = env.get(var);
                    if (token == null || token.isEmpty()) {
                        throw tokenEnv.fail(YamlNode.quote(var)
                                + " is unset or empty (expected: an environment variable holding a"
                                + " Microsoft Entra ID token)");
                    }
                    apiKey = token;
                }
            }
            YamlNode tenantNode = p.field("tenant");
            String tenant = tenantNode.text(ConfigLoader.DEFAULT_TENANT);
            if (!ConfigLoader.TENANT_ID.matcher(tenant).matches()) {
                throw tenantNode.error("a tenant id: lower-case letters, digits, '-' and '_'");
            }
            Timeouts timeouts = timeouts(p.field("timeouts"));
            List<String> models = new ArrayList<>();
            for (YamlNode model : p.field("models").elements()) {
                String id = model.requiredText();
                ModelSpec spec =
                        catalog.find(id).orElseThrow(() -> model.error("a model id or alias from the catalog"));
                if (spec.simulated()) {
                    throw model.error("a real model; sim models are served by the built-in sim provider");
                }
                models.add(spec.id());
            }
            Path caFile = null;
            YamlNode caNode = p.field("ca_file");
            if (caNode.isSet()) {
                String file = caNode.requiredText();
                caFile = baseDir == null ? Path.of(file) : baseDir.resolve(file);
                if (!Files.isRegularFile(caFile) || !Files.isReadable(caFile)) {
                    throw caNode.error("a readable PEM file (relative paths start at the config file's folder)");
                }
            }
            AnthropicConfig anthropicConfig = type.equals(ANTHROPIC) ? anthropic(p) : null;
            out.add(new ProviderConfig(
                    name, type, baseUrl, apiKey, tenant, timeouts, models, caFile, azureConfig, anthropicConfig));
        }
        return out;
    }

    /** The {@code type: anthropic} settings: {@code anthropic_version}, {@code anthropic_beta}. */
    private static AnthropicConfig anthropic(YamlNode p) throws ConfigException {
        YamlNode versionNode = p.field("anthropic_version");
        String version = versionNode.text(AnthropicConfig.DEFAULT_VERSION);
        if (!ANTHROPIC_VERSION.matcher(version).matches()) {
            throw versionNode.error("an anthropic-version date such as " + AnthropicConfig.DEFAULT_VERSION);
        }
        Set<String> betas = new LinkedHashSet<>();
        for (YamlNode beta : p.field("anthropic_beta").elements()) {
            String name = beta.requiredText();
            if (!ANTHROPIC_BETA.matcher(name).matches()) {
                throw beta.error("a beta name such as prompt-caching-2024-07-31: lower-case letters, digits and '-'");
            }
            betas.add(name);
        }
        return new AnthropicConfig(version, betas);
    }

    /**
     * The {@code type: azure} settings: the URL form read from {@code base_url}'s path (ending in
     * {@code /openai/v1}: the v1 form; any other path not containing {@code /openai}: the
     * deployment form), {@code api_version} (required for the deployment form), {@code deployments}.
     */
    private static AzureConfig azure(YamlNode p, String name, URI baseUrl, Catalog catalog, boolean entraToken)
            throws ConfigException {
        String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
        boolean v1 = path.endsWith(V1_PATH);
        if (!v1 && (path + "/").contains("/openai/")) {
            throw p.field("base_url")
                    .error("https://{resource}.openai.azure.com (deployment form) or"
                            + " https://{resource}.openai.azure.com/openai/v1 (v1 form)");
        }
        YamlNode versionNode = p.field("api_version");
        String apiVersion = versionNode.optionalText();
        if (apiVersion != null && !API_VERSION.matcher(apiVersion).matches()) {
            throw versionNode.error("an api-version such as 2024-10-21 or 2025-04-01-preview");
        }
        if (!v1 && apiVersion == null) {
            throw versionNode.error("an api-version such as 2024-10-21, required when base_url has no /openai/v1"
                    + " (the deployment form)");
        }
        YamlNode deploymentsNode = p.field("deployments");
        Map<String, String> deployments = new LinkedHashMap<>();
        Map<String, String> seen = new HashMap<>();
        if (deploymentsNode.isSet()) {
            if (!deploymentsNode.json().isObject()) {
                throw deploymentsNode.error("a mapping {catalog-model-id: deployment-name}");
            }
            for (Iterator<String> ids = deploymentsNode.json().fieldNames(); ids.hasNext(); ) {
                String id = ids.next();
                YamlNode entry = deploymentsNode.field(id);
                String deployment = entry.requiredText();
                if (!DEPLOYMENT.matcher(deployment).matches()) {
                    throw entry.error("a deployment name: letters, digits, '-', '_' and '.', at most 64");
                }
                ModelSpec spec = catalog.find(id)
                        .orElseThrow(() -> entry.fail(
                                "key " + YamlNode.quote(id) + " (expected: a model id or alias from the catalog)"));
                if (spec.simulated()) {
                    throw entry.fail("key " + YamlNode.quote(id)
                            + " (expected: a real model; sim models are served by the built-in sim provider)");
                }
                String first = seen.putIfAbsent(deployment, entry.path());
                if (first != null) {
                    throw entry.error("a deployment named once; " + first + " has it already");
                }
                String ownId = name + "/" + deployment;
                if (catalog.find(ownId).isPresent()) {
                    throw entry.error("a deployment whose model id " + ownId + " is not in the catalog already");
                }
                if (deployments.putIfAbsent(spec.id(), deployment) != null) {
                    throw entry.fail("key " + YamlNode.quote(id) + " (expected: each catalog model once; " + spec.id()
                            + " is mapped already)");
                }
            }
        }
        return new AzureConfig(v1, apiVersion, deployments, entraToken);
    }

    /**
     * {@code catalog} with one model per deployment of the {@code type: azure} providers:
     * {@code <provider>/<deployment>}, its upstream name the deployment, its price, limits and
     * capabilities those of the catalog model it is mapped from (no aliases).
     */
    static Catalog withDeployments(Catalog catalog, List<ProviderConfig> providers) {
        List<ModelSpec> models = new ArrayList<>(catalog.models());
        boolean added = false;
        for (ProviderConfig p : providers) {
            AzureConfig azure = p.azure();
            if (azure == null) {
                continue;
            }
            for (Map.Entry<String, String> d : azure.deployments().entrySet()) {
                ModelSpec of = catalog.find(d.getKey()).orElseThrow();
                models.add(new ModelSpec(
                        p.name() + "/" + d.getValue(),
                        p.name(),
                        d.getValue(),
                        List.of(),
                        of.contextLength(),
                        of.maxOutputTokens(),
                        of.price(),
                        of.capabilities(),
                        false,
                        List.of(),
                        of.created()));
                added = true;
            }
        }
        return added ? Catalog.of(models) : catalog;
    }

    private static URI baseUrl(YamlNode node) throws ConfigException {
        String expected = "an http or https URL";
        String text = node.requiredText().trim();
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw node.error(expected);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw node.error(expected);
        }
        if (uri.getRawUserInfo() != null) {
            // the user info may be a credential, so the URL is not repeated
            throw node.fail("(hidden: contains user info) (expected: " + expected
                    + " without credentials; put the key in api_key)");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw node.error(expected + " without query or fragment");
        }
        // upstream paths are appended as base + "/chat/completions"
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return URI.create(text);
    }

    private static Timeouts timeouts(YamlNode t) throws ConfigException {
        t.expectKeys("connect_ms", "first_byte_ms", "idle_ms", "total_ms", "pool_idle_ms");
        Timeouts d = Timeouts.DEFAULT;
        return new Timeouts(
                millis(t.field("connect_ms"), d.connect()),
                millis(t.field("first_byte_ms"), d.firstByte()),
                millis(t.field("idle_ms"), d.idle()),
                millis(t.field("total_ms"), d.total()),
                millis(t.field("pool_idle_ms"), d.poolIdle()));
    }

    private static Duration millis(YamlNode node, Duration fallback) throws ConfigException {
        return Duration.ofMillis(node.integer(fallback.toMillis(), 1, Integer.MAX_VALUE));
    }
}
