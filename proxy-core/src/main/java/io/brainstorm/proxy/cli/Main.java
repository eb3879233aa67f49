package io.brainstorm.proxy.cli;

import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyAccess;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.auth.Secrets;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ConfigException;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.RoutingConfig;
import io.brainstorm.proxy.config.ServerConfig;
import io.brainstorm.proxy.config.SimConfig;
import io.brainstorm.proxy.config.StateStoreConfig;
import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.server.GatewayServer;
import io.brainstorm.proxy.server.StartupWarmup;
import io.brainstorm.proxy.sim.SimServer;
import io.brainstorm.proxy.state.redis.RedisLink;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * {@code brainstorm-proxy [serve] [--config FILE] [--port N] [--state-dir DIR] [--plugins-dir DIR]},
 * {@code version},
 * {@code help}, {@code sim} (the simulated provider alone, for benchmarks), the admin API's
 * commands {@code tenants}, {@code keys}, {@code providers} ({@link AdminCommands}), and
 * {@code audit verify} ({@link AuditCommand}).
 */
public final class Main {
    static final String USAGE = """
            Usage: brainstorm-proxy [command] [options]

            Commands:
              serve                 run the gateway (default)
              sim                   run only the simulated OpenAI-compatible provider (for benchmarks)
              selftest [--train S]  start a private gateway on a free port, send it a chat, a stream,
                                    an embedding and a model list through the sim provider, and stop;
                                    --train S: then S seconds of such requests (the launcher's
                                    training run for its CDS archive or AOT cache)
              tenants ...           tenants, through the admin API (below)
              keys ...              gateway keys: budgets, rate limits, allowed models
              providers ...         a tenant's provider keys (bring your own key)
              audit verify ...      check the audit trail's HMAC chain (below)
              version               print the version
              help                  print this help

            Options for serve:
              --config FILE         gateway config (default: conf/brainstorm.yaml of the installation)
              --port N              client port (default: from config, 8080)
              --admin-port N        admin API port, loopback (default: $BR_ADMIN_PORT, else from config, 8081)
              --state-dir DIR       state directory (default: $BR_STATE_DIR, else ./state)
              --plugins-dir DIR     routing strategy plugin jars (default: $BR_PLUGINS_DIR, else
                                    routing.plugins_dir of the config, ./ext)
              --threads N           event loop threads (default: one per CPU the process may use)

            Options for sim:
              --port N              port (default 9090)
              --seed N              seed of its random choices (default 42)
              --zero-delay          answer at once, no simulated latency
              --faults              enable random failures and invalid answers

            Admin commands (they call the running gateway's admin API and nothing else):
              tenants list
              tenants create ID [--name NAME]
              tenants show ID
              tenants usage ID      today's spend per key
              tenants delete ID [--yes]
                                    revokes its keys and deletes its provider keys; asks first
                                    on a terminal, needs --yes otherwise
              keys list [--tenant T]
                                    revoked keys too
              keys create --tenant T --name NAME [--admin] [LIMITS] [--out FILE | --print]
                                    the secret is shown once: printed on a terminal, otherwise
                                    written to --out FILE or ./<key id>.key (mode 0600, never
                                    overwritten) and only the path printed; --print prints just
                                    the secret, also into a pipe: KEY=$(brainstorm-proxy keys ...)
              keys show ID
              keys update ID [--name NAME] [LIMITS]
              keys revoke ID        refused at once
              keys usage ID         today's spend, budget left, when it resets
              providers list --tenant T
                                    the provider accounts and the tenant's keys (fingerprints)
              providers set PROVIDER --tenant T [--from-env VAR]
                                    the key is read from the terminal (not echoed), one line of
                                    stdin, or $VAR; never from the command line
              providers delete PROVIDER --tenant T
              With a tenant admin key, --tenant may be left out.

            LIMITS (keys create, keys update):
              --admin               (create only) a br_admin_ key for the admin API, scoped to the tenant
              --budget-usd X        daily budget in USD, or none
              --rpm N, --tpm N      requests, tokens per minute; 0 or none for no limit
              --models A,B          allowed model ids or provider/*, or all
              --time-zone ZONE      IANA zone whose midnight resets the budget (default UTC)

            audit verify [--key-file F] [--head MAC | --head-from-admin] [--state-dir D] [FILE|DIR ...]
                                    recomputes every record's MAC and the chain across the day files
                                    (default: the state directory's audit folder) and names the first
                                    broken record; exit 0 intact, 1 broken, 2 when it cannot check.
                                    The key: --key-file, else $BR_AUDIT_KEY, else <state>/audit.key.
                                    --head: the mac of GET /admin/v1/audit/head, which the trail must
                                    reach (records cut from the end are found only so);
                                    --head-from-admin fetches it from the running gateway (with the
                                    admin options below)

            Options for admin commands:
              --admin-url URL       the admin API (default: $BR_ADMIN_URL, else
                                    http://127.0.0.1:$BR_ADMIN_PORT, else http://127.0.0.1:8081)
              --token-file FILE     file holding the admin token or an admin key (default:
                                    $BR_ADMIN_TOKEN, else admin-token.txt in the state directory)
              --state-dir DIR       the gateway's state directory, for admin-token.txt
                                    (default: $BR_STATE_DIR, else ./state)
              --json                print the API's JSON instead of tables

            Environment:
              BR_API_KEY            register this br_live_ key instead of generating a demo key
              BR_ADMIN_TOKEN        the admin API's super-admin token (else one is generated and shown once)
              BR_ADMIN_PORT         admin API port
              BR_MASTER_KEY         base64 of 32 bytes: encrypts tenants' provider keys at rest
                                    (else state/master.key, created with mode 0600)
              BR_AUDIT_KEY          hex or base64 of 32+ bytes: the audit trail's HMAC key
                                    (else state/audit.key, created with mode 0600)
              BR_STATE_DIR          state directory
              BR_PLUGINS_DIR        routing strategy plugin jars
              BR_ADMIN_URL          where admin commands find the admin API
              OPENAI_API_KEY, ...   provider keys referenced from conf/brainstorm.yaml
            """;

    static {
        // one line per log record, unless the user configured logging
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
    }

    private Main() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args, System.getenv(), System.out, System.err);
        } catch (UsageException e) {
            System.err.println("brainstorm-proxy: " + e.getMessage());
            System.err.println("Run 'brainstorm-proxy help' for usage.");
            code = 2;
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    static int run(String[] argv, Map<String, String> env, PrintStream out, PrintStream err) {
        return run(argv, env, System.in, out, err, Terminal.system());
    }

    /**
     * @param in       stdin (a provider key for {@code providers set})
     * @param terminal whether a person is at a terminal, who may be shown a secret
     */
    static int run(
            String[] argv,
            Map<String, String> env,
            InputStream in,
            PrintStream out,
            PrintStream err,
            Terminal terminal) {
        List<String> args = new ArrayList<>(List.of(argv));
        String command = args.isEmpty() || args.get(0).startsWith("-") ? "serve" : args.remove(0);
        switch (command) {
            case "version", "--version" -> {
                out.println("brainstorm-proxy " + version());
                return 0;
            }
            case "help", "--help", "-h" -> {
                out.print(USAGE);
                return 0;
            }
            case "serve" -> {
                return serve(new Options(args), env, out, err, terminal);
            }
            case "sim" -> {
                return sim(new Options(args), out, err);
            }
            case "selftest" -> {
                Options o = new Options(args);
                o.allow("--train");
                int train = o.intValue("--train", 0);
                if (train < 0 || train > 600) {
                    throw new UsageException("--train: " + train + " (expected: 0..600 seconds)");
                }
                return SelfTest.run(out, err, train);
            }
            case "tenants", "keys", "providers" -> {
                return AdminCommands.run(command, args, env, in, out, err, terminal);
            }
            case "audit" -> {
                return AuditCommand.run(args, env, out, err);
            }
            default -> throw new UsageException("unknown command '" + command + "'");
        }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static int serve(Options o, Map<String, String> env, PrintStream out, PrintStream err, Terminal terminal) {
        o.allow("--config", "--port", "--admin-port", "--state-dir", "--plugins-dir", "--threads");
        StartupWarmup.start();
        GatewayConfig config;
        try {
            config = loadConfig(o.get("--config"), env);
        } catch (ConfigException e) {
            err.println("brainstorm-proxy: configuration error: " + e.getMessage());
            return 1;
        }
        config = override(config, o, env);
        Registry registry;
        RedisLink registryLink = null;
        try {
            Files.createDirectories(config.stateDir());
            Registry.Bootstrap boot = Registry.Bootstrap.of(config, env);
            if (config.store().kind() == StateStoreConfig.Kind.REDIS) {
                // tenants and keys are shared by every gateway on the Redis, and followed within a second
                registryLink = RedisLink.connect(config.store().requireRedis());
                registry = Registry.openShared(registryLink, config.stateDir(), boot, InstantSource.system());
            } else {
                // keys and tenants are kept in files even with state_store: memory (which is about budgets
                // and learning): a restart must not make a new demo key and admin token
                registry = Registry.open(config.stateDir(), boot, InstantSource.system());
            }
            for (Registry.NewSecret secret : registry.takeNewSecrets()) {
                Secrets.showOnce(secret, config.stateDir(), terminal.present(), out);
            }
        } catch (IOException | IllegalArgumentException e) {
            if (registryLink != null) {
                registryLink.close();
            }
            err.println("brainstorm-proxy: " + e.getMessage());
            return 1;
        }
        RedisLink link = registryLink;
        int threads = o.intValue("--threads", 0);
        GatewayServer server;
        try {
            server = GatewayServer.start(config, registry, threads);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeRegistry(registry, link);
            return 1;
        } catch (RuntimeException e) {
            err.println("brainstorm-proxy: could not start: " + e.getMessage());
            closeRegistry(registry, link);
            return 1;
        }
        if (link != null) {
            server.countRegistryCommands(link);
        }
        ServerConfig s = config.server();
        Router router =
                Objects.requireNonNull(server.gateway().router(), "the routes are published before start returns");
        Access defaults = new KeyAccess(ApiKey.of("-", Registry.DEFAULT_TENANT, "0".repeat(64)), registry);
        long models = router.routableModels().stream()
                .filter(m -> router.endpoints(m.id()).stream().anyMatch(defaults::reaches))
                .count();
        out.println("brainstorm-proxy " + version() + " listening on http://" + s.host() + ":" + server.port()
                + "/v1 (" + server.transportName() + ", HTTP/1.1 and h2c), " + models + " models routable for tenant"
                + " default, state in "
                + config.stateDir().toAbsolutePath().normalize()
                + (link != null ? " and Redis at " + link.config().safeUrl() : ""));
        if (server.adminPort() > 0) {
            String admin = "http://" + config.admin().host() + ":" + server.adminPort();
            out.println("admin API on " + admin + "/admin/v1 (docs/admin-api.md; bin/brainstorm-proxy"
                    + " keys|tenants|providers)");
            out.println("dashboard on " + admin + "/dashboard (log in with the admin token), Prometheus metrics on "
                    + admin + "/metrics");
        }
        if (server.sim() != null) {
            out.println("simulated provider 'sim' (not a real model: canned answers, simulated latency and faults)"
                    + " on 127.0.0.1:" + server.sim().port());
        }
        out.flush();
        runUntilStopped(() -> {
            server.close();
            closeRegistry(registry, link);
        });
        return 0;
    }

    /** The registry, then the Redis link it used (state_store: redis). */
    private static void closeRegistry(Registry registry, @Nullable RedisLink link) {
        try {
            registry.close();
        } finally {
            if (link != null) {
                link.close();
            }
        }
    }

    static GatewayConfig loadConfig(@Nullable String explicit, Map<String, String> env) throws ConfigException {
        Path file;
        if (explicit != null) {
            file = Path.of(explicit);
        } else {
            String home = System.getProperty("brainstorm.home");
            file = Path.of(home == null ? "." : home, "conf", "brainstorm.yaml");
        }
        if (!Files.isRegularFile(file)) {
            if (explicit != null) {
                throw new ConfigException("--config: " + file + " (expected: a readable YAML file)");
            }
            return ConfigLoader.load("{}", Path.of("."), env);
        }
        return ConfigLoader.load(file, env);
    }

    private static GatewayConfig override(GatewayConfig c, Options o, Map<String, String> env) {
        ServerConfig s = c.server();
        int port = o.intValue("--port", s.port());
        if (port < 0 || port > 65535) {
            throw new UsageException("--port: " + port + " (expected: 0..65535)");
        }
        ServerConfig server = s.withPort(port);
        String dir = o.get("--state-dir");
        if (dir == null) {
            dir = env.get("BR_STATE_DIR");
        }
        Path stateDir = dir == null || dir.isEmpty() ? c.stateDir() : Path.of(dir);
        String plugins = o.get("--plugins-dir");
        if (plugins == null) {
            plugins = env.get("BR_PLUGINS_DIR");
        }
        RoutingConfig routing =
                plugins == null || plugins.isEmpty() ? c.routing() : c.routing().withPluginsDir(Path.of(plugins));
        int adminPort = o.intValue(
                "--admin-port", envInt(env, "BR_ADMIN_PORT", c.admin().port()));
        if (adminPort < 0 || adminPort > 65535) {
            throw new UsageException("--admin-port: " + adminPort + " (expected: 0..65535)");
        }
        return new GatewayConfig(
                server,
                c.admin().withPort(adminPort),
                c.sim(),
                c.providers(),
                c.keys(),
                c.catalog(),
                stateDir,
                routing,
                c.store(),
                c.scoring(),
                c.audit());
    }

    private static int envInt(Map<String, String> env, String name, int dflt) {
        String v = env.get(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + ": '" + v + "' (expected: a port number)");
        }
    }

    private static int sim(Options o, PrintStream out, PrintStream err) {
        o.allow("--port", "--seed", "--zero-delay", "--faults");
        List<ModelSpec> models =
                Catalog.builtIn().models().stream().filter(ModelSpec::simulated).toList();
        SimConfig sc = new SimConfig(
                true, o.intValue("--seed", 42), o.intValue("--port", 9090), o.flag("--zero-delay"), o.flag("--faults"));
        SimServer sim = new SimServer(models, new SimServer.Options(sc.seed(), sc.zeroDelay(), sc.randomFaults()));
        try {
            sim.start("127.0.0.1", sc.port());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        out.println("simulated provider (not a real model) on http://127.0.0.1:" + sim.port() + "/<endpoint>/v1, e.g. "
                + sim.baseUrl("sim-east") + (sc.zeroDelay() ? " (zero delay)" : ""));
        out.flush();
        runUntilStopped(sim);
        return 0;
    }

    /** Blocks until the JVM is asked to stop (SIGTERM, Ctrl-C), then closes {@code service} gracefully. */
    private static void runUntilStopped(AutoCloseable service) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                service.close();
                            } catch (Exception e) {
                                System.err.println("brainstorm-proxy: error while stopping: " + e);
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "br-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A command-line mistake: printed with a hint, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --name value} and {@code --flag} options. */
    static final class Options {
        private final Map<String, String> values = new java.util.LinkedHashMap<>();
        private final List<String> positionals = new ArrayList<>();

        /**
         * A sub-command's arguments: options named in {@code flags} take no value, every other option
         * takes one ({@code --name value} or {@code --name=value}), and the rest are positional.
         */
        Options(List<String> args, java.util.Set<String> flags) {
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--")) {
                    positionals.add(a);
                    continue;
                }
                int eq = a.indexOf('=');
                String name = eq > 0 ? a.substring(0, eq) : a;
                if (flags.contains(name)) {
                    if (eq > 0) {
                        throw new UsageException(name + " takes no value");
                    }
                    values.put(name, "");
                } else if (eq > 0) {
                    values.put(name, a.substring(eq + 1));
                } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                    values.put(name, args.get(++i));
                } else {
                    throw new UsageException(name + ": a value is expected");
                }
            }
        }

        Options(List<String> args) {
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--")) {
                    throw new UsageException("unexpected argument '" + a + "'");
                }
                int eq = a.indexOf('=');
                if (eq > 0) {
                    values.put(a.substring(0, eq), a.substring(eq + 1));
                } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                    values.put(a, args.get(++i));
                } else {
                    values.put(a, "");
                }
            }
        }

        void allow(String... names) {
            List<String> allowed = List.of(names);
            for (String k : values.keySet()) {
                if (!allowed.contains(k)) {
                    throw new UsageException("unknown option '" + k + "'");
                }
            }
        }

        /** The arguments that are not options, in order (only with the sub-command constructor). */
        List<String> positionals() {
            return positionals;
        }

        @Nullable
        String get(String name) {
            String v = values.get(name);
            return v == null || v.isEmpty() ? null : v;
        }

        boolean flag(String name) {
            return values.containsKey(name);
        }

        int intValue(String name, int dflt) {
            String v = get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new UsageException(name + ": '" + v + "' (expected: an integer)");
            }
        }
    }
}
