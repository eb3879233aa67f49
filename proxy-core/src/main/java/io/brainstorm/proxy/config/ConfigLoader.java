package io.brainstorm.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads {@code brainstorm.yaml} into a validated {@link GatewayConfig}.
 *
 * <p><b>Steps.</b> The YAML is parsed into a tree; {@code ${VAR}} and {@code ${VAR:-default}} are
 * substituted in every string value from the given environment (the default applies when the
 * variable is unset or empty, as in a shell; <code>$${</code> writes a literal <code>${</code>; values are not
 * substituted again); then every section is validated into the records, with a default for
 * everything not written. Unknown keys are errors, so a typo never silently falls back to a default.
 *
 * <p><b>Paths.</b> {@code catalog} and {@code providers[].ca_file} are relative to the config file's
 * folder; {@code state_dir} is relative to the process's working directory (kept as written). Without
 * a {@code catalog} key the built-in catalog is used.
 *
 * <p><b>Errors.</b> A {@link ConfigException} names the field path and what was expected:
 * {@code providers[1].base_url: "ftp://x" (expected: an http or https URL)}. Provider API keys and key
 * hashes are never part of a message.
 */
public final class ConfigLoader {

    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8080;
    static final int DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
    static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
    static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    static final long DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
    static final long DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;
    static final String DEFAULT_STATE_DIR = "./state";
    static final long DEFAULT_SIM_SEED = 42;
    static final String DEFAULT_TENANT = "default";

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern NO_SPACE = Pattern.compile("\\S+");
    static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    private ConfigLoader() {}

    /**
     * Loads a config file; relative {@code catalog} and {@code ca_file} paths resolve against its folder.
     *
     * @param env the environment for {@code ${VAR}} substitution, usually {@code System.getenv()}
     */
    public static GatewayConfig load(Path configFile, Map<String, String> env) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(configFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(configFile + ": not found (expected: a brainstorm.yaml config file)", e);
        } catch (IOException e) {
            throw new ConfigException(configFile + ": unreadable (" + e.getMessage() + ")", e);
        }
        Path baseDir = configFile.toAbsolutePath().getParent();
        return parse(yaml, baseDir, env, configFile + ": ");
    }

    /**
     * Loads config text, as if from a file in {@code baseDir}. Error messages start with the field path.
     *
     * @param env the environment for {@code ${VAR}} substitution
     */
    public static GatewayConfig load(String yaml, @Nullable Path baseDir, Map<String, String> env)
            throws ConfigException {
        return parse(yaml, baseDir, env, "");
    }

    private static GatewayConfig parse(String yaml, @Nullable Path baseDir, Map<String, String> env, String prefix)
            throws ConfigException {
        JsonNode tree = YamlNode.parse(yaml, prefix);
        tree = EnvSubstitution.substitute(tree, "", env, prefix);
        YamlNode root = YamlNode.root(tree, prefix);
        root.expectKeys(
                "server",
                "admin",
                "state_dir",
                "state_store",
                "redis",
                "catalog",
                "sim",
                "providers",
                "keys",
                "routing",
                "scoring",
                "audit");

        ServerConfig server = server(root.field("server"));
        Path stateDir = Path.of(root.field("state_dir").text(DEFAULT_STATE_DIR));
        Catalog catalog = catalog(root.field("catalog"), baseDir);
        SimConfig sim = sim(root.field("sim"));
        List<ProviderConfig> providers = ProviderSection.read(root.field("providers"), baseDir, catalog, env);
        catalog = ProviderSection.withDeployments(catalog, providers);
        List<KeyConfig> keys = keys(root.field("keys"));
        RoutingConfig routing = routing(root.field("routing"));
        StateStoreConfig store = store(root.field("state_store"), root.field("redis"), providers);
        return new GatewayConfig(
                server,
                admin(root.field("admin")),
                sim,
                providers,
                keys,
                catalog,
                stateDir,
                routing,
                store,
                scoring(root.field("scoring")),
                audit(root.field("audit"), baseDir));
    }

    /**
     * {@code state_store} and, with {@code redis}, the {@code redis:} section; a {@code redis:} section
     * without {@code state_store: redis} is an error, so it is never silently ignored.
     */
    private static StateStoreConfig store(YamlNode storeNode, YamlNode r, List<ProviderConfig> providers)
            throws ConfigException {
        String store = storeNode.text("files");
        switch (store) {
            case "files", "memory" -> {
                if (r.isSet()) {
                    throw r.error("no redis section unless state_store: redis");
                }
                return store.equals("files") ? StateStoreConfig.FILES : StateStoreConfig.MEMORY;
            }
            case "redis" -> {
                // the rest of this method
            }
            default ->
                throw storeNode.error(
                        "files (Chronicle Map files in state_dir, shared by the processes of a host), memory, or redis"
                                + " (shared by every gateway on the same Redis; see docs/scale-out.md)");
        }
        if (!r.isSet()) {
            throw r.error("a redis section with at least url: redis://host:6379/0, since state_store is redis");
        }
        r.expectKeys(
                "url",
                "password",
                "username",
                "key_prefix",
                "timeout_ms",
                "connect_timeout_ms",
                "startup_wait_seconds",
                "on_unavailable",
                "hold_ttl_seconds");
        YamlNode urlNode = r.field("url").secret();
        String url = urlNode.requiredText();
        if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
            throw urlNode.error("redis://host:port/db, or rediss:// for TLS");
        }
        YamlNode prefixNode = r.field("key_prefix");
        String prefix = prefixNode.text(RedisConfig.DEFAULT_PREFIX);
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0 || prefix.length() > 64) {
            throw prefixNode.error(
                    "at most 64 characters without { or } (they would change the Redis Cluster hash tags)");
        }
        YamlNode mode = r.field("on_unavailable");
        String onUnavailable = mode.text("closed");
        if (!onUnavailable.equals("closed") && !onUnavailable.equals("open")) {
            throw mode.error("closed (keys with a budget or rate limit get 503 state_unavailable while Redis is"
                    + " unreachable) or open (they are served without their limits meanwhile)");
        }
        long holdTtl = r.field("hold_ttl_seconds").integer(0, 0, 7L * 24 * 3600);
        String password = r.field("password").secret().optionalText();
        return StateStoreConfig.redis(new RedisConfig(
                url,
                password == null || password.isEmpty() ? null : password,
                r.field("username").optionalText(),
                prefix,
                java.time.Duration.ofMillis(
                        r.field("timeout_ms").integer(RedisConfig.DEFAULT_TIMEOUT.toMillis(), 5, 10_000)),
                java.time.Duration.ofMillis(r.field("connect_timeout_ms")
                        .integer(RedisConfig.DEFAULT_CONNECT_TIMEOUT.toMillis(), 10, 60_000)),
                java.time.Duration.ofSeconds(
                        r.field("startup_wait_seconds").integer(RedisConfig.DEFAULT_STARTUP_WAIT.toSeconds(), 0, 3600)),
                onUnavailable.equals("open"),
                holdTtl == 0 ? holdTtl(providers) : java.time.Duration.ofSeconds(holdTtl)));
    }

    /** The longest total timeout of any provider, plus a minute: no request holds its budget longer. */
    private static java.time.Duration holdTtl(List<ProviderConfig> providers) {
        java.time.Duration longest = io.brainstorm.proxy.config.Timeouts.DEFAULT.total();
        for (ProviderConfig p : providers) {
            if (p.timeouts().total().compareTo(longest) > 0) {
                longest = p.timeouts().total();
            }
        }
        return longest.plusMinutes(1);
    }

    private static ScoringConfig scoring(YamlNode s) throws ConfigException {
        s.expectKeys("enabled", "max_capture_bytes", "max_schema_bytes", "threads");
        ScoringConfig d = ScoringConfig.DEFAULTS;
        return new ScoringConfig(
                s.field("enabled").bool(d.enabled()),
                (int) s.field("max_capture_bytes").integer(d.maxCaptureBytes(), 1024, 256L * 1024 * 1024),
                (int) s.field("max_schema_bytes").integer(d.maxSchemaBytes(), 256, 16L * 1024 * 1024),
                (int) s.field("threads").integer(d.threads(), 1, 64));
    }

    private static AuditConfig audit(YamlNode a, @Nullable Path baseDir) throws ConfigException {
        a.expectKeys(
                "enabled",
                "dir",
                "key_file",
                "fsync",
                "fsync_interval_ms",
                "batch_records",
                "queue_records",
                "record_content");
        AuditConfig d = AuditConfig.DEFAULTS;
        String dir = a.field("dir").optionalText();
        String keyFile = a.field("key_file").optionalText();
        YamlNode fsyncNode = a.field("fsync");
        String fsync = fsyncNode.text("batch");
        AuditConfig.Fsync policy = switch (fsync) {
            case "batch" -> AuditConfig.Fsync.BATCH;
            case "interval" -> AuditConfig.Fsync.INTERVAL;
            case "none" -> AuditConfig.Fsync.NONE;
            default -> throw fsyncNode.error("batch (force each written batch to disk), interval or none");
        };
        return new AuditConfig(
                a.field("enabled").bool(d.enabled()),
                resolve(baseDir, dir),
                resolve(baseDir, keyFile),
                policy,
                Duration.ofMillis(
                        a.field("fsync_interval_ms").integer(d.fsyncInterval().toMillis(), 1, 3_600_000)),
                (int) a.field("batch_records").integer(d.batchRecords(), 1, 1_000_000),
                (int) a.field("queue_records").integer(d.queueRecords(), 16, 100_000_000),
                a.field("record_content").bool(d.recordContent()));
    }

    private static @Nullable Path resolve(@Nullable Path baseDir, @Nullable String file) {
        return file == null ? null : baseDir == null ? Path.of(file) : baseDir.resolve(file);
    }

    private static AdminConfig admin(YamlNode a) throws ConfigException {
        a.expectKeys("enabled", "host", "port");
        AdminConfig d = AdminConfig.DEFAULTS;
        String host = a.field("host").text(d.host());
        if (host.isBlank()) {
            throw a.field("host").error("an address to bind, e.g. 127.0.0.1");
        }
        return new AdminConfig(a.field("enabled").bool(d.enabled()), host, (int)
                a.field("port").integer(d.port(), 0, 65535));
    }

    private static RoutingConfig routing(YamlNode r) throws ConfigException {
        r.expectKeys(
                "plugins_dir", "max_attempts", "seed", "learning", "circuit", "latency_window_seconds", "strategies");
        RoutingConfig d = RoutingConfig.DEFAULTS;
        YamlNode learning = r.field("learning");
        learning.expectKeys(
                "discount", "feedback_weight", "shared_weight", "tenant_cap", "reexplore", "change_detection");
        YamlNode change = learning.field("change_detection");
        change.expectKeys("shift", "threshold", "min_answers");
        YamlNode c = r.field("circuit");
        c.expectKeys(
                "window_seconds",
                "min_requests",
                "failure_rate",
                "open_seconds",
                "max_open_seconds",
                "half_open_probes",
                "max_cool_down_seconds");
        RoutingConfig.Circuit dc = d.circuit();
        Duration openBase = seconds(c.field("open_seconds"), dc.openBase());
        YamlNode maxOpenNode = c.field("max_open_seconds");
        Duration openMax = seconds(maxOpenNode, dc.openMax().compareTo(openBase) < 0 ? openBase : dc.openMax());
        if (openMax.compareTo(openBase) < 0) {
            throw maxOpenNode.error("at least open_seconds (" + openBase.toSeconds() + ")");
        }
        RoutingConfig.Circuit circuit = new RoutingConfig.Circuit(
                seconds(c.field("window_seconds"), dc.window()),
                (int) c.field("min_requests").integer(dc.minRequests(), 1, 1_000_000),
                fraction(c.field("failure_rate"), dc.failureRate()),
                openBase,
                openMax,
                (int) c.field("half_open_probes").integer(dc.halfOpenProbes(), 1, 1000),
                seconds(c.field("max_cool_down_seconds"), dc.maxCoolDown()));
        YamlNode seedNode = r.field("seed");
        Long seed = seedNode.isSet() ? seedNode.integer(0, Long.MIN_VALUE, Long.MAX_VALUE) : null;
        RoutingConfig.Learning dl = d.learning();
        YamlNode discountNode = learning.field("discount");
        double discount = decimal(discountNode, dl.discount());
        if (!(discount > 0 && discount <= 1)) {
            throw discountNode.error("a number in (0, 1]; 1 forgets nothing (the change detector handles changes),"
                    + " 0.995 forgets an answer's weight by half in about 140 answers");
        }
        double feedbackWeight = bounded(learning.field("feedback_weight"), dl.feedbackWeight(), 0, 100);
        double sharedWeight = bounded(learning.field("shared_weight"), dl.sharedWeight(), 0, 1_000_000);
        double tenantCap = bounded(learning.field("tenant_cap"), dl.tenantCap(), 1, 1_000_000_000);
        YamlNode reexploreNode = learning.field("reexplore");
        double reexplore = decimal(reexploreNode, dl.reexplore());
        if (!(reexplore >= 0 && reexplore < 1)) {
            throw reexploreNode.error("a share in [0, 1), such as 0.02");
        }
        YamlNode shiftNode = change.field("shift");
        double shift = decimal(shiftNode, dl.shift());
        if (!(shift > 0 && shift < 1)) {
            throw shiftNode.error("a quality change in (0, 1), such as 0.2");
        }
        YamlNode thresholdNode = change.field("threshold");
        // off (YAML reads a bare off as false): never fire
        boolean off = thresholdNode.isSet()
                && (thresholdNode.json().asText().equals("off")
                        || (thresholdNode.json().isBoolean()
                                && !thresholdNode.json().asBoolean()));
        double threshold = off ? Double.POSITIVE_INFINITY : bounded(thresholdNode, dl.threshold(), 0.1, 1000);
        double minEvidence = bounded(change.field("min_answers"), dl.minEvidence(), 0, 1_000_000);
        RoutingConfig.Learning learnt = new RoutingConfig.Learning(
                discount, feedbackWeight, sharedWeight, tenantCap, shift, threshold, minEvidence, reexplore);
        Map<String, Map<String, String>> strategies = new java.util.TreeMap<>();
        YamlNode s = r.field("strategies");
        if (s.isSet()) {
            if (!s.json().isObject()) {
                throw s.error("a mapping of strategy name to its settings");
            }
            for (Map.Entry<String, JsonNode> e : s.json().properties()) {
                YamlNode settingsNode = s.field(e.getKey());
                if (!e.getValue().isObject()) {
                    throw settingsNode.error("a mapping of setting name to value");
                }
                Map<String, String> settings = new java.util.TreeMap<>();
                for (Map.Entry<String, JsonNode> setting : e.getValue().properties()) {
                    if (!setting.getValue().isValueNode() || setting.getValue().isNull()) {
                        throw settingsNode.field(setting.getKey()).error("a number, text or true/false");
                    }
                    settings.put(setting.getKey(), setting.getValue().asText());
                }
                strategies.put(e.getKey(), settings);
            }
        }
        return new RoutingConfig(
                Path.of(r.field("plugins_dir")
                        .text(Objects.requireNonNull(d.pluginsDir(), "DEFAULTS.pluginsDir")
                                .toString())),
                (int) r.field("max_attempts").integer(d.maxAttempts(), 1, 10),
                seed,
                learnt,
                circuit,
                seconds(r.field("latency_window_seconds"), d.latencyWindow()),
                strategies);
    }

    private static Duration seconds(YamlNode node, Duration fallback) throws ConfigException {
        return Duration.ofSeconds(node.integer(fallback.toSeconds(), 1, 86_400));
    }

    private static double decimal(YamlNode node, double fallback) throws ConfigException {
        return node.isSet() ? node.requiredDecimal("a number").doubleValue() : fallback;
    }

    private static double bounded(YamlNode node, double fallback, double min, double max) throws ConfigException {
        double v = decimal(node, fallback);
        if (!(v >= min && v <= max)) {
            throw node.error("a number from " + plain(min) + " to " + plain(max));
        }
        return v;
    }

    private static String plain(double x) {
        return x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
    }

    private static double fraction(YamlNode node, double fallback) throws ConfigException {
        double v = decimal(node, fallback);
        if (!(v > 0 && v <= 1)) {
            throw node.error("a number in (0, 1]");
        }
        return v;
    }

    private static ServerConfig server(YamlNode s) throws ConfigException {
        s.expectKeys(
                "host",
                "port",
                "max_body_bytes",
                "max_header_bytes",
                "max_connections",
                "idle_timeout_seconds",
                "shutdown_grace_seconds",
                "header_timeout_seconds",
                "body_timeout_seconds",
                "h2_settings_timeout_seconds");
        String host = s.field("host").text(DEFAULT_HOST);
        if (host.isBlank()) {
            throw s.field("host").error("an address to bind, e.g. 127.0.0.1 or 0.0.0.0");
        }
        return new ServerConfig(
                host,
                (int) s.field("port").integer(DEFAULT_PORT, 0, 65535),
                (int) s.field("max_body_bytes").integer(DEFAULT_MAX_BODY_BYTES, 1, Integer.MAX_VALUE),
                (int) s.field("max_header_bytes").integer(DEFAULT_MAX_HEADER_BYTES, 1, Integer.MAX_VALUE),
                (int) s.field("max_connections").integer(DEFAULT_MAX_CONNECTIONS, 1, Integer.MAX_VALUE),
                Duration.ofSeconds(
                        s.field("idle_timeout_seconds").integer(DEFAULT_IDLE_TIMEOUT_SECONDS, 1, Integer.MAX_VALUE)),
                Duration.ofSeconds(s.field("shutdown_grace_seconds")
                        .integer(DEFAULT_SHUTDOWN_GRACE_SECONDS, 0, Integer.MAX_VALUE)),
                Duration.ofSeconds(s.field("header_timeout_seconds")
                        .integer(ServerConfig.DEFAULT_HEADER_TIMEOUT.toSeconds(), 1, Integer.MAX_VALUE)),
                Duration.ofSeconds(s.field("body_timeout_seconds")
                        .integer(ServerConfig.DEFAULT_BODY_TIMEOUT.toSeconds(), 1, Integer.MAX_VALUE)),
                Duration.ofSeconds(s.field("h2_settings_timeout_seconds")
                        .integer(ServerConfig.DEFAULT_H2_SETTINGS_TIMEOUT.toSeconds(), 1, Integer.MAX_VALUE)));
    }

    private static Catalog catalog(YamlNode c, @Nullable Path baseDir) throws ConfigException {
        if (!c.isSet()) {
            return Catalog.builtIn();
        }
        String file = c.requiredText();
        return Catalog.load(baseDir == null ? Path.of(file) : baseDir.resolve(file));
    }

    private static SimConfig sim(YamlNode s) throws ConfigException {
        s.expectKeys("enabled", "seed", "port", "zero_delay", "random_faults");
        return new SimConfig(
                s.field("enabled").bool(true),
                s.field("seed").integer(DEFAULT_SIM_SEED, Long.MIN_VALUE, Long.MAX_VALUE),
                (int) s.field("port").integer(0, 0, 65535),
                s.field("zero_delay").bool(false),
                s.field("random_faults").bool(true));
    }

    private static List<KeyConfig> keys(YamlNode list) throws ConfigException {
        List<KeyConfig> out = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Set<String> hashes = new HashSet<>();
        for (YamlNode k : list.elements()) {
            k.expectMapping(
                    "a mapping {name, sha256, tenant, daily_budget_usd, rpm, tpm, models, time_zone}",
                    "name",
                    "sha256",
                    "tenant",
                    "daily_budget_usd",
                    "rpm",
                    "tpm",
                    "models",
                    "time_zone");
            YamlNode nameNode = k.field("name");
            String name = nameNode.requiredText();
            String first = names.putIfAbsent(name, nameNode.path());
            if (first != null) {
                throw nameNode.error("a unique key name; " + first + " has it already");
            }
            // hidden: a full br_live_ key pasted here by mistake must not reach a log
            YamlNode hashNode = k.field("sha256").secret();
            String sha256 = hashNode.requiredText();
            if (!SHA256_HEX.matcher(sha256).matches()) {
                throw hashNode.error("64 lower-case hex digits, the SHA-256 of the key, not the key itself");
            }
            if (!hashes.add(sha256)) {
                throw hashNode.error("a key listed once");
            }
            YamlNode tenantNode = k.field("tenant");
            String tenant = tenantNode.text(DEFAULT_TENANT);
            if (!TENANT_ID.matcher(tenant).matches()) {
                throw tenantNode.error("a tenant id: lower-case letters, digits, '-' and '_'");
            }
            long budget = Long.MAX_VALUE;
            YamlNode budgetNode = k.field("daily_budget_usd");
            if (budgetNode.isSet()) {
                java.math.BigDecimal usd = budgetNode.requiredDecimal("USD per day, e.g. 5 or 0.25");
                if (usd.signum() < 0
                        || usd.scale() > 9
                        || usd.compareTo(java.math.BigDecimal.valueOf(1_000_000_000)) > 0) {
                    throw budgetNode.error("USD per day from 0 to 1000000000, at most 9 decimals");
                }
                budget = usd.movePointRight(9).longValueExact();
            }
            List<String> models = k.field("models")
                    .textsMatching(NO_SPACE, "a model id such as sim/alpha, or provider/* for all of a provider's");
            java.time.ZoneId zone = java.time.ZoneOffset.UTC;
            YamlNode zoneNode = k.field("time_zone");
            if (zoneNode.isSet()) {
                try {
                    zone = java.time.ZoneId.of(zoneNode.requiredText());
                } catch (java.time.DateTimeException e) {
                    throw zoneNode.error("a time zone id such as UTC or Europe/Berlin");
                }
            }
            out.add(new KeyConfig(
                    name,
                    sha256,
                    tenant,
                    budget,
                    (int) k.field("rpm").integer(0, 0, 10_000_000),
                    k.field("tpm").integer(0, 0, Long.MAX_VALUE / 4),
                    models,
                    zone));
        }
        return out;
    }
}
