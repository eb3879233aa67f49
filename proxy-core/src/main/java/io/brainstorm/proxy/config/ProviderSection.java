package io.brainstorm.proxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@code providers} section of {@code brainstorm.yaml} for {@link ConfigLoader}: one
 * {@link ProviderConfig} per provider account, with its base URL, tenant, timeouts, models and CA
 * file checked. Errors name the field path, as everywhere in the loader; the API key is never part
 * of a message, nor is a base URL that carries user info.
 */
final class ProviderSection {
    private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");

    private ProviderSection() {}

    static List<ProviderConfig> read(YamlNode list, @Nullable Path baseDir, Catalog catalog) throws ConfigException {
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
                    "ca_file");
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
            if (!type.equals("openai")) {
                throw typeNode.error("openai (any OpenAI-compatible API; azure-openai and anthropic come later)");
            }
            URI baseUrl = baseUrl(p.field("base_url"));
            String apiKey = p.field("api_key").secret().text("");
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
            out.add(new ProviderConfig(name, type, baseUrl, apiKey, tenant, timeouts, models, caFile));
        }
        return out;
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
