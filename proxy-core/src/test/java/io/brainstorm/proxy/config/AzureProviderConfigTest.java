package io.brainstorm.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code type: azure} provider settings in {@code brainstorm.yaml}, and the errors that name their field. */
class AzureProviderConfigTest {
    private static final String SECRET = "azkey-" + "S".repeat(26);

    private static GatewayConfig load(String provider, Map<String, String> env) throws ConfigException {
        return ConfigLoader.load("providers:\n" + provider, Path.of("."), env);
    }

    private static String message(String provider, Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> load(provider, env)).getMessage();
    }

    private static String message(String provider) {
        return message(provider, Map.of());
    }

    @Test
    void theDeploymentFormNeedsAnApiVersionAndSaysSo() {
        String m = message("  - {name: azure, type: azure, base_url: \"https://r.openai.azure.com\"}\n");
        assertTrue(m.startsWith("providers[0].api_version: missing (expected: an api-version such as 2024-10-21,"), m);
        assertTrue(m.contains("deployment form"), m);
    }

    @Test
    void theFormIsReadFromTheBaseUrlsPath() throws ConfigException {
        ProviderConfig d = load(
                        "  - name: azure\n    type: azure\n    base_url: https://r.openai.azure.com/\n"
                                + "    api_version: 2024-10-21\n    api_key: " + SECRET + "\n"
                                + "    deployments: {openai/gpt-4o: my-gpt4o, gpt-4o-mini: mini}\n",
                        Map.of())
                .providers()
                .get(0);
        AzureConfig a = d.azure();
        assertFalse(a.v1Form());
        assertEquals("2024-10-21", a.apiVersion());
        assertEquals(Map.of("openai/gpt-4o", "my-gpt4o", "openai/gpt-4o-mini", "mini"), a.deployments());
        assertFalse(a.entraToken());
        assertEquals(SECRET, d.apiKey());
        assertFalse(d.toString().contains(SECRET), d.toString());

        AzureConfig v1 = load(
                        "  - {name: azure, type: azure, base_url: \"https://r.openai.azure.com/openai/v1/\"}\n",
                        Map.of())
                .providers()
                .get(0)
                .azure();
        assertTrue(v1.v1Form());
        assertNull(v1.apiVersion(), "optional in the v1 form");
    }

    @Test
    void eachDeploymentIsACatalogModelPricedAsTheModelItIsMappedFrom() throws ConfigException {
        GatewayConfig c = load(
                "  - name: azure-eu\n    type: azure\n    base_url: https://r.openai.azure.com\n"
                        + "    api_version: 2024-10-21\n    deployments: {openai/gpt-4o: my-gpt4o}\n",
                Map.of());
        ModelSpec own = c.catalog().find("azure-eu/my-gpt4o").orElseThrow();
        ModelSpec of = c.catalog().find("openai/gpt-4o").orElseThrow();
        assertEquals("azure-eu", own.provider());
        assertEquals("my-gpt4o", own.upstreamName());
        assertEquals(of.price(), own.price());
        assertEquals(of.capabilities(), own.capabilities());
        assertEquals(of.contextLength(), own.contextLength());
        assertTrue(own.aliases().isEmpty(), "gpt-4o still means openai/gpt-4o");
    }

    @Test
    void anEntraTokenIsReadFromTheNamedVariable() throws ConfigException {
        String p = "  - {name: azure, type: azure, base_url: \"https://r.openai.azure.com/openai/v1\","
                + " bearer_token_env: AZ_TOKEN}\n";
        ProviderConfig c =
                load(p, Map.of("AZ_TOKEN", "eyJ0eXAi.token")).providers().get(0);
        assertEquals("eyJ0eXAi.token", c.apiKey());
        assertTrue(c.azure().entraToken());
        assertEquals(
                "providers[0].bearer_token_env: \"AZ_TOKEN\" is unset or empty (expected: an environment variable"
                        + " holding a Microsoft Entra ID token)",
                message(p));
        assertTrue(message("  - {name: azure, type: azure, base_url: \"https://r.openai.azure.com/openai/v1\","
                        + " api_key: k, bearer_token_env: AZ_TOKEN}\n")
                .startsWith("providers[0].bearer_token_env: set together with api_key"));
    }

    @Test
    void mistakesNameTheirField() {
        String[][] cases = {
            {
                "  - {name: azure, type: azure, base_url: \"https://r.openai.azure.com/openai/deployments/x\","
                        + " api_version: 2024-10-21}\n",
                "providers[0].base_url: \"https://r.openai.azure.com/openai/deployments/x\" (expected:"
                        + " https://{resource}.openai.azure.com (deployment form) or"
            },
            {
                "  - {name: azure, type: azure, base_url: \"https://r\", api_version: yesterday}\n",
                "providers[0].api_version: \"yesterday\" (expected: an api-version such as"
            },
            {
                "  - {name: azure, type: azure, base_url: \"https://r\", api_version: 2024-10-21,"
                        + " deployments: {openai/gpt-5-turbo-x: d}}\n",
                "providers[0].deployments.openai/gpt-5-turbo-x: key \"openai/gpt-5-turbo-x\" (expected: a model id"
            },
            {
                "  - {name: azure, type: azure, base_url: \"https://r\", api_version: 2024-10-21,"
                        + " deployments: {gpt-4o: \"a b\"}}\n",
                "providers[0].deployments.gpt-4o: \"a b\" (expected: a deployment name"
            },
            {
                "  - {name: azure, type: azure, base_url: \"https://r\", api_version: 2024-10-21,"
                        + " deployments: {gpt-4o: d, gpt-4o-mini: d}}\n",
                "providers[0].deployments.gpt-4o-mini: \"d\" (expected: a deployment named once; providers[0].deployments.gpt-4o has it already)"
            },
            {
                "  - {name: azure, type: azure, base_url: \"https://r\", api_version: 2024-10-21, models: [gpt-4o]}\n",
                "providers[0].models: not for type: azure"
            },
            {
                "  - {name: o, base_url: \"https://r\", api_version: 2024-10-21}\n",
                "providers[0].api_version: only for type: azure"
            },
            {
                "  - {name: o, type: azure-openai, base_url: \"https://r\"}\n",
                "providers[0].type: \"azure-openai\" (expected: openai"
            },
        };
        for (String[] c : cases) {
            String m = message(c[0]);
            assertTrue(m.startsWith(c[1]), c[0] + " -> " + m);
        }
    }
}
