package io.brainstorm.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final String SECRET = "sk-proj-Very5ecretValue";
    private static final String HASH = "a".repeat(64);

    @TempDir
    Path dir;

    private GatewayConfig load(String yaml, Map<String, String> env) throws ConfigException {
        return ConfigLoader.load(yaml, dir, env);
    }

    private String message(String yaml, Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> load(yaml, env)).getMessage();
    }

    private String message(String yaml) {
        return message(yaml, Map.of());
    }

    @Test
    void emptyConfigGetsEveryDefault() throws ConfigException {
        GatewayConfig config = load("", Map.of());
        assertEquals(
                new ServerConfig(
                        "127.0.0.1",
                        8080,
                        4_194_304,
                        16_384,
                        10_000,
                        Duration.ofSeconds(300),
                        Duration.ofSeconds(30),
                        Duration.ofSeconds(30),
                        Duration.ofSeconds(60),
                        Duration.ofSeconds(10)),
                config.server());
        assertEquals(new SimConfig(true, 42, 0, false, true), config.sim());
        assertEquals(Path.of("./state"), config.stateDir());
        assertSame(Catalog.builtIn(), config.catalog());
        assertTrue(config.providers().isEmpty());
        assertTrue(config.keys().isEmpty());
    }

    @Test
    void providerDefaults() throws ConfigException {
        ProviderConfig p = load("providers:\n  - {name: openai, base_url: \"https://api.openai.com/v1/\"}\n", Map.of())
                .providers()
                .get(0);
        assertEquals(
                new ProviderConfig(
                        "openai",
                        "openai",
                        URI.create("https://api.openai.com/v1"),
                        "",
                        "default",
                        Timeouts.DEFAULT,
                        List.of(),
                        null),
                p);
        assertFalse(p.hasKey());
    }

    @Test
    void shippedConfigLoads() throws ConfigException {
        GatewayConfig config =
                ConfigLoader.load(Path.of("..", "conf", "brainstorm.yaml"), Map.of("OPENAI_API_KEY", SECRET));
        assertEquals(
                List.of("openai", "anthropic", "groq", "deepseek", "mistral", "google"),
                config.providers().stream().map(ProviderConfig::name).toList());
        assertEquals(SECRET, config.providers().get(0).apiKey());
        assertEquals("", config.providers().get(1).apiKey());
        assertEquals(
                new AnthropicConfig(AnthropicConfig.DEFAULT_VERSION, java.util.Set.of()),
                config.providers().get(1).anthropic());
        assertEquals(Duration.ofMinutes(5), config.providers().get(0).timeouts().firstByte());
        assertEquals(
                Duration.ofSeconds(10), config.providers().get(0).timeouts().connect());
        assertEquals(Catalog.builtIn().models(), config.catalog().models());
        assertEquals(8080, config.server().port());
    }

    @Test
    void substitutesVariablesAndDefaults() throws ConfigException {
        GatewayConfig config = load(
                "server:\n  host: ${HOST}\n  port: ${PORT:-9000}\n"
                        + "state_dir: ${STATE:-/var/lib/br}/x\n"
                        + "sim: {enabled: \"${SIM:-false}\"}\n"
                        + "providers:\n  - name: p\n    base_url: http://${UP_HOST}:8000/v1\n    api_key: \"$${literal}${KEY}\"\n",
                Map.of("HOST", "0.0.0.0", "UP_HOST", "10.0.0.5", "KEY", SECRET, "STATE", ""));
        assertEquals("0.0.0.0", config.server().host());
        assertEquals(9000, config.server().port());
        assertEquals(Path.of("/var/lib/br/x"), config.stateDir(), "an empty variable takes the default");
        assertFalse(config.sim().enabled());
        assertEquals(
                URI.create("http://10.0.0.5:8000/v1"), config.providers().get(0).baseUrl());
        assertEquals("${literal}" + SECRET, config.providers().get(0).apiKey());
    }

    @Test
    void unsetVariableNamesFieldAndVariable() {
        String msg =
                message("providers:\n  - name: openai\n    base_url: https://x/v1\n    api_key: ${OPENAI_API_KEY}\n");
        assertTrue(msg.startsWith("providers[0].api_key: ${OPENAI_API_KEY} is not set (expected: "), msg);
        assertTrue(msg.contains("OPENAI_API_KEY set"), msg);
    }

    @Test
    void unclosedVariableIsAnErrorWithoutTheText() {
        String msg = message(
                "providers:\n  - name: openai\n    base_url: https://x/v1\n    api_key: \"" + SECRET + "${X\"\n");
        assertTrue(msg.startsWith("providers[0].api_key: unclosed"), msg);
        assertFalse(msg.contains(SECRET), msg);
    }

    @Test
    void clientDeadlinesAreReadAndMustBePositive() throws ConfigException {
        ServerConfig s = load(
                        "server:\n  header_timeout_seconds: 5\n  body_timeout_seconds: 7\n"
                                + "  h2_settings_timeout_seconds: 2\n",
                        Map.of())
                .server();
        assertEquals(Duration.ofSeconds(5), s.headerTimeout());
        assertEquals(Duration.ofSeconds(7), s.bodyTimeout());
        assertEquals(Duration.ofSeconds(2), s.h2SettingsTimeout());
        String msg = message("server:\n  body_timeout_seconds: 0\n");
        assertTrue(msg.startsWith("server.body_timeout_seconds: "), msg);
    }

    @Test
    void unknownKeyNamesItsPath() {
        assertEquals(
                "server.prot: unknown key (expected: one of host, port, max_body_bytes, max_header_bytes, "
                        + "max_connections, idle_timeout_seconds, shutdown_grace_seconds, header_timeout_seconds, "
                        + "body_timeout_seconds, h2_settings_timeout_seconds)",
                message("server:\n  prot: 80\n"));
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://x\", apikey: k}\n")
                .startsWith("providers[0].apikey: unknown key"));
        assertTrue(message("strategy: fast\n").startsWith("strategy: unknown key"));
    }

    @Test
    void badPort() {
        assertEquals("server.port: 70000 (expected: an integer in 0..65535)", message("server: {port: 70000}\n"));
        assertEquals("server.port: \"http\" (expected: an integer in 0..65535)", message("server: {port: http}\n"));
        assertEquals("sim.port: -1 (expected: an integer in 0..65535)", message("sim: {port: -1}\n"));
        assertEquals("server.max_body_bytes: 0 (expected: an integer >= 1)", message("server: {max_body_bytes: 0}\n"));
    }

    @Test
    void badBaseUrl() {
        assertEquals(
                "providers[1].base_url: \"ftp://x\" (expected: an http or https URL)",
                message("providers:\n  - {name: a, base_url: \"http://a\"}\n  - {name: b, base_url: \"ftp://x\"}\n"));
        String msg = message("providers:\n  - {name: a, base_url: \"https://user:" + SECRET + "@x/v1\"}\n");
        assertFalse(msg.contains(SECRET), msg);
    }

    @Test
    void providerNamesAndTypes() {
        assertTrue(
                message("providers:\n  - {name: a, base_url: \"http://a\"}\n  - {name: a, base_url: \"http://b\"}\n")
                        .startsWith(
                                "providers[1].name: \"a\" (expected: a unique provider name; providers[0].name has it already)"));
        assertTrue(message("providers:\n  - {name: Open_AI, base_url: \"http://a\"}\n")
                .startsWith("providers[0].name: \"Open_AI\""));
        assertTrue(message("providers:\n  - {name: sim, base_url: \"http://a\"}\n")
                .startsWith("providers[0].name: \"sim\""));
        assertTrue(message("providers:\n  - {name: a, type: gemini, base_url: \"http://a\"}\n")
                .startsWith("providers[0].type: \"gemini\" (expected: openai (any OpenAI-compatible API), azure"
                        + " (Azure OpenAI) or anthropic"));
    }

    @Test
    void anthropicProvidersHaveAVersionAndAnAllowListOfBetas() throws Exception {
        ProviderConfig p = load(
                        "providers:\n  - {name: anthropic, type: anthropic, base_url: \"https://api.anthropic.com\","
                                + " anthropic_beta: [prompt-caching-2024-07-31]}\n",
                        Map.of())
                .providers()
                .get(0);
        assertEquals(new AnthropicConfig("2023-06-01", java.util.Set.of("prompt-caching-2024-07-31")), p.anthropic());
        assertEquals(null, p.azure());
        assertTrue(message("providers:\n  - {name: a, type: anthropic, base_url: \"http://a\","
                        + " anthropic_version: latest}\n")
                .startsWith("providers[0].anthropic_version: \"latest\" (expected: an anthropic-version date"));
        assertTrue(message("providers:\n  - {name: a, type: anthropic, base_url: \"http://a\","
                        + " anthropic_beta: [\"Bad Beta\"]}\n")
                .startsWith("providers[0].anthropic_beta[0]: \"Bad Beta\" (expected: a beta name"));
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", anthropic_version: \"2023-06-01\"}\n")
                .contains("only for type: anthropic (this provider is type: openai)"));
    }

    @Test
    void providerModelsAndTimeoutsAndCaFile() throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        ProviderConfig p = load(
                        "providers:\n  - name: router\n    base_url: https://r/v1\n"
                                + "    models: [gpt-4o, groq/llama-3.1-8b-instant]\n    timeouts: {first_byte_ms: 1500}\n"
                                + "    ca_file: ca.pem\n",
                        Map.of())
                .providers()
                .get(0);
        assertEquals(List.of("openai/gpt-4o", "groq/llama-3.1-8b-instant"), p.models());
        assertEquals(
                new Timeouts(
                        Duration.ofSeconds(10),
                        Duration.ofMillis(1500),
                        Duration.ofSeconds(60),
                        Duration.ofMinutes(10)),
                p.timeouts());
        assertEquals(dir.resolve("ca.pem"), p.caFile());
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", models: [nope/x]}\n")
                .startsWith("providers[0].models[0]: \"nope/x\" (expected: a model id or alias from the catalog)"));
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", ca_file: missing.pem}\n")
                .startsWith("providers[0].ca_file: \"missing.pem\""));
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", timeouts: {idle_ms: 0}}\n")
                .startsWith("providers[0].timeouts.idle_ms: 0 (expected: an integer >= 1)"));
    }

    @Test
    void poolIdleLifetimeIsBelowCommonKeepAlivesUnlessSet() throws Exception {
        ProviderConfig dflt = load("providers:\n  - {name: a, base_url: \"http://a\"}\n", Map.of())
                .providers()
                .get(0);
        assertEquals(Duration.ofSeconds(4), dflt.timeouts().poolIdle());
        ProviderConfig set = load(
                        "providers:\n  - {name: a, base_url: \"http://a\", timeouts: {pool_idle_ms: 1500}}\n", Map.of())
                .providers()
                .get(0);
        assertEquals(Duration.ofMillis(1500), set.timeouts().poolIdle());
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", timeouts: {pool_idle_ms: 0}}\n")
                .startsWith("providers[0].timeouts.pool_idle_ms: 0 (expected: an integer >= 1)"));
    }

    @Test
    void catalogIsRelativeToTheConfigFile() throws Exception {
        Files.writeString(
                dir.resolve("mine.yaml"),
                "models:\n  - id: local/m\n    context_length: 10\n"
                        + "    max_output_tokens: 5\n    price: {input: 0, output: 0}\n");
        Path config = dir.resolve("brainstorm.yaml");
        Files.writeString(config, "catalog: mine.yaml\n");
        GatewayConfig loaded = ConfigLoader.load(config, Map.of());
        assertEquals(
                List.of("local/m"),
                loaded.catalog().models().stream().map(ModelSpec::id).toList());
        String msg = message("catalog: other.yaml\n");
        assertTrue(msg.contains("other.yaml: not found"), msg);
    }

    @Test
    void fileErrorsNameTheFile() throws Exception {
        Path config = dir.resolve("brainstorm.yaml");
        Files.writeString(config, "server: {port: 99999}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(config, Map.of()));
        assertEquals(config + ": server.port: 99999 (expected: an integer in 0..65535)", e.getMessage());
    }

    @Test
    void keys() throws ConfigException {
        List<KeyConfig> keys = load(
                        "keys:\n  - {name: ci, sha256: " + HASH + "}\n" + "  - {name: team, sha256: " + "b".repeat(64)
                                + ", tenant: acme}\n",
                        Map.of())
                .keys();
        assertEquals(
                List.of(new KeyConfig("ci", HASH, "default"), new KeyConfig("team", "b".repeat(64), "acme")), keys);
        assertTrue(
                message("keys:\n  - {name: ci, sha256: " + HASH + "}\n  - {name: ci, sha256: " + "b".repeat(64) + "}\n")
                        .startsWith("keys[1].name: \"ci\" (expected: a unique key name"));
        assertTrue(message("keys:\n  - {name: ci, sha256: " + HASH.toUpperCase() + "}\n")
                .startsWith("keys[0].sha256: (hidden) (expected: 64 lower-case hex digits"));
    }

    @Test
    void secretsNeverAppearInMessages() {
        String provider = "providers:\n  - name: openai\n    base_url: https://x/v1\n    api_key: " + SECRET + "\n";
        List<String> broken = List.of(
                provider + "    timeout: 5\n",
                provider + "  - {name: openai, base_url: \"https://y\"}\n",
                provider.replace("api_key: " + SECRET, "api_key: [" + SECRET + "]"),
                provider.replace("api_key: " + SECRET, "api_key: {k: " + SECRET + "}"),
                provider + "    api_key: again\n",
                provider.replace("https://x/v1", "ftp://x"),
                provider + "keys:\n  - {name: ci, sha256: " + SECRET + "}\n",
                provider.replace(SECRET, SECRET + ": : ["),
                "providers:\n  - name: openai\n    base_url: https://x/v1\n    api_key: ${K:-" + SECRET
                        + "}${MISSING}\n");
        for (String yaml : broken) {
            String msg = message(yaml, Map.of("K", SECRET));
            assertFalse(msg.contains(SECRET), msg);
            assertFalse(msg.contains("Very5ecret"), msg);
        }
    }

    @Test
    void providerToStringHidesTheKey() throws ConfigException {
        ProviderConfig p = load(
                        "providers:\n  - {name: a, base_url: \"http://a\", api_key: \"${KEY}\"}\n",
                        Map.of("KEY", SECRET))
                .providers()
                .get(0);
        assertEquals(SECRET, p.apiKey());
        assertFalse(p.toString().contains(SECRET), p.toString());
        assertFalse(
                load("providers:\n  - {name: a, base_url: \"http://a\", api_key: \"${KEY}\"}\n", Map.of("KEY", SECRET))
                        .toString()
                        .contains(SECRET));
        assertNull(p.caFile());
    }

    @Test
    void routingDefaultsAndSettings() throws ConfigException {
        RoutingConfig d = load("", Map.of()).routing();
        assertEquals(RoutingConfig.DEFAULTS, d);
        assertEquals(Path.of("./ext"), d.pluginsDir());
        RoutingConfig r = load("""
                routing:
                  plugins_dir: /opt/br/ext
                  max_attempts: 2
                  seed: 99
                  learning: {discount: 0.99, feedback_weight: 3}
                  circuit: {window_seconds: 10, min_requests: 5, failure_rate: 0.25, open_seconds: 2,
                            max_open_seconds: 20, half_open_probes: 2, max_cool_down_seconds: 60}
                  latency_window_seconds: 30
                  strategies:
                    smart: {cost_weight: 0.4, latency_weight: 0}
                    sticky: {fallback: cheapest}
                """, Map.of()).routing();
        assertEquals(Path.of("/opt/br/ext"), r.pluginsDir());
        assertEquals(2, r.maxAttempts());
        assertEquals(99L, r.seed());
        assertEquals(0.99, r.learning().discount());
        assertEquals(3.0, r.learning().feedbackWeight());
        assertEquals(RoutingConfig.Learning.DEFAULTS.tenantCap(), r.learning().tenantCap(), "unset: the default");
        RoutingConfig.Learning l = load("""
                routing:
                  learning:
                    shared_weight: 0
                    tenant_cap: 50
                    reexplore: 0.05
                    change_detection: {shift: 0.1, threshold: off, min_answers: 30}
                """, Map.of()).routing().learning();
        assertEquals(new RoutingConfig.Learning(1, 2, 0, 50, 0.1, Double.POSITIVE_INFINITY, 30, 0.05), l);
        assertEquals(
                new RoutingConfig.Circuit(
                        java.time.Duration.ofSeconds(10),
                        5,
                        0.25,
                        java.time.Duration.ofSeconds(2),
                        java.time.Duration.ofSeconds(20),
                        2,
                        java.time.Duration.ofSeconds(60)),
                r.circuit());
        assertEquals(java.time.Duration.ofSeconds(30), r.latencyWindow());
        assertEquals(
                Map.of("cost_weight", "0.4", "latency_weight", "0"),
                r.strategies().get("smart"));
        assertEquals(Map.of("fallback", "cheapest"), r.strategies().get("sticky"));
    }

    /** The learning defaults are written twice (config may not use route): they must agree. */
    @Test
    void learningDefaultsAreTheSameInConfigAndInTheModel() throws ConfigException {
        assertEquals(
                io.brainstorm.proxy.route.LearningSettings.DEFAULTS,
                io.brainstorm.proxy.server.GatewayServer.learningSettings(load("", Map.of())));
    }

    @Test
    void badRoutingSettingsNameTheField() {
        String[][] cases = {
            {"routing:\n  learning: {discount: 1.5}\n", "routing.learning.discount"},
            {"routing:\n  learning: {discount: 0}\n", "routing.learning.discount"},
            {"routing:\n  circuit: {failure_rate: 0}\n", "routing.circuit.failure_rate"},
            {"routing:\n  circuit: {open_seconds: 30, max_open_seconds: 10}\n", "routing.circuit.max_open_seconds"},
            {"routing:\n  max_attempts: 0\n", "routing.max_attempts"},
            {"routing:\n  strategies: {smart: 3}\n", "routing.strategies.smart"},
            {"routing:\n  strategies: {smart: {cost_weight: [1]}}\n", "routing.strategies.smart.cost_weight"},
            {"routing:\n  circuit: {windw_seconds: 3}\n", "windw_seconds"},
            {"routing:\n  learning: {reexplore: 1}\n", "routing.learning.reexplore"},
            {"routing:\n  learning: {tenant_cap: 0}\n", "routing.learning.tenant_cap"},
            {"routing:\n  learning: {shared_weight: -1}\n", "routing.learning.shared_weight"},
            {"routing:\n  learning: {change_detection: {shift: 1}}\n", "routing.learning.change_detection.shift"},
            {
                "routing:\n  learning: {change_detection: {threshold: never}}\n",
                "routing.learning.change_detection.threshold"
            },
            {"routing:\n  learning: {change_detection: {window: 3}}\n", "window"},
        };
        for (String[] c : cases) {
            ConfigException e = assertThrows(ConfigException.class, () -> load(c[0], Map.of()), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void adminListenerProviderTenantsAndKeyModelsAndZones() throws ConfigException {
        GatewayConfig c = load("""
                admin: {port: 9444}
                providers:
                  - {name: openai, base_url: "https://api.openai.com/v1", api_key: k, tenant: acme}
                keys:
                  - {name: ci, sha256: %s, models: ["sim/*", openai/gpt-4o], time_zone: Asia/Tokyo}
                """.formatted("a".repeat(64)), Map.of());
        assertEquals(new io.brainstorm.proxy.config.AdminConfig(true, "127.0.0.1", 9444), c.admin());
        assertEquals("acme", c.providers().get(0).tenant());
        assertEquals(List.of("sim/*", "openai/gpt-4o"), c.keys().get(0).allowedModels());
        assertEquals(java.time.ZoneId.of("Asia/Tokyo"), c.keys().get(0).zone());
        assertEquals(
                io.brainstorm.proxy.config.AdminConfig.DEFAULTS,
                load("{}", Map.of()).admin());
        assertTrue(message("keys:\n  - {name: a, sha256: " + "a".repeat(64) + ", time_zone: Mars/Base}\n")
                .startsWith("keys[0].time_zone: \"Mars/Base\""));
        assertTrue(message("providers:\n  - {name: a, base_url: \"http://a\", tenant: \"Big Co\"}\n")
                .startsWith("providers[0].tenant:"));
        assertTrue(message("admin: {port: 70000}\n").startsWith("admin.port:"));
    }

    @Test
    void scoringAndAuditSections() throws ConfigException {
        GatewayConfig d = load("{}", Map.of());
        assertEquals(ScoringConfig.DEFAULTS, d.scoring());
        assertEquals(AuditConfig.DEFAULTS, d.audit());
        assertEquals(Path.of("state/audit"), d.audit().dir(Path.of("state")));
        assertEquals(Path.of("state/audit.key"), d.audit().keyFile(Path.of("state")));

        GatewayConfig c = load("""
                scoring: {enabled: false, max_capture_bytes: 4096, max_schema_bytes: 1024, threads: 2}
                audit: {dir: logs/audit, key_file: secrets/audit.key, fsync: interval, fsync_interval_ms: 250,
                        batch_records: 64, queue_records: 1024, record_content: true}
                """, Map.of());
        assertEquals(new ScoringConfig(false, 4096, 1024, 2), c.scoring());
        assertEquals(
                new AuditConfig(
                        true,
                        dir.resolve("logs/audit"),
                        dir.resolve("secrets/audit.key"),
                        AuditConfig.Fsync.INTERVAL,
                        java.time.Duration.ofMillis(250),
                        64,
                        1024,
                        true),
                c.audit());

        assertTrue(message("audit: {fsync: sometimes}\n").startsWith("audit.fsync:"));
        assertTrue(message("scoring: {threads: 0}\n").startsWith("scoring.threads:"));
        assertTrue(message("scoring: {max_bytes: 10}\n").contains("max_bytes"));
    }
}
