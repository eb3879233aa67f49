package io.brainstorm.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.Validation;
import io.brainstorm.proxy.cli.AdminClient.Answer;
import io.brainstorm.proxy.cli.Main.Options;
import io.brainstorm.proxy.cli.Main.UsageException;
import java.io.InputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code tenants}, {@code keys} and {@code providers}: the admin API ({@code docs/admin-api.md})
 * on the command line. This class dispatches a command to its group ({@link TenantCommands},
 * {@link KeyCommands}, {@link ProviderCommands}) and holds what they share: the options, the client,
 * the checks of tenant ids and names (the registry's own, {@link Validation}) and the output. Each
 * command parses its arguments completely, then makes one or two calls through {@link AdminClient};
 * none reads or writes the gateway's state files (only the admin token file, to read the token).
 *
 * <h2>Output</h2>
 * Aligned tables and {@code label: value} blocks for people; with {@code --json}, the API's answer
 * as it came, for scripts.
 *
 * <h2>Secrets</h2>
 * A new key's secret is in the API's answer once. It is printed when stdout is a terminal (or with
 * {@code --print}); otherwise it goes to a file created with mode 0600 ({@code --out FILE}, else
 * {@code ./<key id>.key}), never overwriting one, and only the file's path is printed. When the file
 * cannot be written the new key is revoked again, so no key is left whose secret nobody has. A
 * provider key is read from the terminal without echo, from stdin, or from the environment variable
 * named by {@code --from-env}; never from the command line, where {@code ps} would show it. It is
 * never printed.
 *
 * <h2>Errors</h2>
 * A command-line mistake is a {@link UsageException} (exit 2), thrown before any request (but for a
 * missing {@code --tenant}, known only once {@code whoami} says the caller is the super-admin). An API
 * error, an unreachable gateway or a file that cannot be written is a {@link Failure}: printed as
 * {@code brainstorm-proxy: <message>}, exit 1.
 */
final class AdminCommands {
    private static final Set<String> COMMON = Set.of("--admin-url", "--token-file", "--state-dir", "--json");
    private static final Set<String> FLAGS = Set.of("--json", "--admin", "--print", "--yes");
    private static final Map<String, String> SUB_COMMANDS = Map.of(
            "tenants", "list, create, show, usage, delete",
            "keys", "list, create, show, update, revoke, usage",
            "providers", "list, set, delete");

    /** A command that failed after its arguments were understood: printed as it is, exit 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    final Map<String, String> env;
    final InputStream in;
    final PrintStream out;
    final Terminal terminal;
    final Options options;
    /** {@code --json}: print the API's answers as they came. */
    final boolean json;

    private @Nullable AdminClient client;

    private AdminCommands(
            Options options, Map<String, String> env, InputStream in, PrintStream out, Terminal terminal) {
        this.options = options;
        this.env = env;
        this.in = in;
        this.out = out;
        this.terminal = terminal;
        this.json = options.flag("--json");
    }

    /**
     * Runs {@code group} ({@code tenants}, {@code keys} or {@code providers}) with the arguments after it.
     *
     * @return the exit code: 0, or 1 after a {@link Failure} (printed to {@code err})
     * @throws UsageException for a command-line mistake
     */
    static int run(
            String group,
            List<String> args,
            Map<String, String> env,
            InputStream in,
            PrintStream out,
            PrintStream err,
            Terminal terminal) {
        if (args.isEmpty()) {
            throw new UsageException(group + ": a sub-command is expected (" + SUB_COMMANDS.get(group) + ")");
        }
        if (args.contains("--help") || List.of("help", "-h").contains(args.get(0))) {
            out.print(Main.USAGE);
            return 0;
        }
        String sub = args.get(0);
        Options o = new Options(args.subList(1, args.size()), FLAGS);
        AdminCommands c = new AdminCommands(o, env, in, out, terminal);
        TenantCommands tenants = new TenantCommands(c);
        KeyCommands keys = new KeyCommands(c);
        ProviderCommands providers = new ProviderCommands(c);
        try {
            switch (group + " " + sub) {
                case "tenants list" -> tenants.list();
                case "tenants create" -> tenants.create();
                case "tenants show" -> tenants.show();
                case "tenants usage" -> tenants.usage();
                case "tenants delete" -> tenants.delete();
                case "keys list" -> keys.list();
                case "keys create" -> keys.create();
                case "keys show" -> keys.show();
                case "keys update" -> keys.update();
                case "keys revoke" -> keys.revoke();
                case "keys usage" -> keys.usage();
                case "providers list" -> providers.list();
                case "providers set" -> providers.set();
                case "providers delete" -> providers.delete();
                default ->
                    throw new UsageException("unknown sub-command '" + group + " " + sub + "' (expected: "
                            + SUB_COMMANDS.get(group) + ")");
            }
        } catch (Failure f) {
            out.flush();
            err.println("brainstorm-proxy: " + f.getMessage());
            return 1;
        }
        return 0;
    }

    // ---- arguments ----

    /**
     * Checks the options against {@code allowed} (each a name like {@code --tenant}, plus the common
     * ones) and the positional arguments against {@code names} (like {@code ID}), and returns the latter.
     */
    List<String> args(String command, String... allowed) {
        List<String> names = new ArrayList<>();
        List<String> optionNames = new ArrayList<>(COMMON);
        for (String a : allowed) {
            (a.startsWith("--") ? optionNames : names).add(a);
        }
        options.allow(optionNames.toArray(String[]::new));
        List<String> given = options.positionals();
        if (given.size() < names.size()) {
            throw new UsageException(command + ": " + names.get(given.size()) + " is expected");
        }
        if (given.size() > names.size()) {
            throw new UsageException(command + ": unexpected argument '" + given.get(names.size()) + "'");
        }
        return given;
    }

    String required(String option) {
        String v = options.get(option);
        if (v == null) {
            throw new UsageException(option + ": a value is expected");
        }
        return v;
    }

    /** The option's value; null when it is absent; a usage error when it is given empty. */
    @Nullable
    String optional(String option) {
        return options.flag(option) ? required(option) : null;
    }

    /** {@code id} when it is a tenant id as the registry has them ({@link Validation#isTenantId}). */
    static String tenantId(String id, String what) {
        if (!Validation.isTenantId(id)) {
            throw new UsageException(
                    what + ": '" + id + "' (expected: a tenant id, " + Validation.TENANT_ID_RULE + ")");
        }
        return id;
    }

    /** {@code --name}'s value when it is a name as the registry has them ({@link Validation#nameProblem}). */
    static String name(String name) {
        String problem = Validation.nameProblem(name);
        if (problem != null) {
            throw new UsageException("--name " + problem);
        }
        return name;
    }

    /**
     * {@code --tenant}, or else the tenant of the caller's admin key ({@code GET /admin/v1/whoami}).
     */
    String tenant() {
        String t = options.get("--tenant");
        if (t != null) {
            return tenantId(t, "--tenant");
        }
        if (options.flag("--tenant")) {
            throw new UsageException("--tenant: a value is expected");
        }
        JsonNode who = client().send("GET", AdminClient.path("whoami"), null).json();
        if (who.path("tenant").isTextual()) {
            return who.path("tenant").asText();
        }
        throw new UsageException("--tenant T is expected (the admin token is not bound to a tenant)");
    }

    AdminClient client() {
        if (client == null) {
            client = AdminClient.of(
                    options.get("--admin-url"), options.get("--token-file"), options.get("--state-dir"), env);
        }
        return client;
    }

    // ---- output ----

    /** With {@code --json}, prints the answer as it came and returns true. */
    boolean printJson(Answer a) {
        if (json) {
            out.println(a.body().strip());
        }
        return json;
    }

    void printTable(Table t, JsonNode data, String none) {
        if (data.isEmpty()) {
            out.println(none);
        } else {
            t.print(out);
        }
    }

    static String toJson(JsonNode n) {
        try {
            return Json.MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A {@code label: value} block of {@code names}' fields as text, each labelled with its name,
     * {@code _} read as a space; add further fields to it.
     */
    static Table fields(JsonNode n, String... names) {
        Table t = Table.fields();
        for (String name : names) {
            t.field(name.replace('_', ' '), text(n, name));
        }
        return t;
    }

    /** A field as text; {@code -} when absent or null. */
    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }

    /** USD as {@code $5.00} (at least cents, every digit kept); {@code unlimited} for null. */
    static String usd(JsonNode v) {
        if (!v.isNumber()) {
            return v.isMissingNode() || v.isNull() ? "unlimited" : v.asText();
        }
        BigDecimal d = v.decimalValue().stripTrailingZeros();
        return "$" + d.setScale(Math.max(2, d.scale())).toPlainString();
    }

    /** A rate limit; {@code none} when absent, null or 0 (no limit). */
    static String rate(JsonNode v, String none) {
        return v.isNumber() && v.asLong() > 0 ? v.asText() : none;
    }

    static String models(JsonNode list) {
        if (!list.isArray() || list.isEmpty()) {
            return "all";
        }
        List<String> ids = new ArrayList<>();
        list.forEach(m -> ids.add(m.asText()));
        return String.join(",", ids);
    }

    /** An ISO-8601 instant to the second; {@code -} for null and for the epoch (keys from config). */
    static String time(JsonNode v) {
        if (!v.isTextual()) {
            return "-";
        }
        try {
            Instant t = Instant.parse(v.asText());
            return t.equals(Instant.EPOCH)
                    ? "-"
                    : t.truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return v.asText();
        }
    }
}
