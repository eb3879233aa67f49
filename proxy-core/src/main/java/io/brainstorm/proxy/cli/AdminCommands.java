package io.brainstorm.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.cli.AdminClient.Answer;
import io.brainstorm.proxy.cli.Main.Options;
import io.brainstorm.proxy.cli.Main.UsageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code tenants}, {@code keys} and {@code providers}: the admin API ({@code docs/admin-api.md})
 * on the command line. Each command parses its arguments completely, then makes one or two calls
 * through {@link AdminClient}; none reads or writes the gateway's state files (only the admin token
 * file, to read the token).
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
    private static final Pattern TENANT_ID = Pattern.compile("[a-z0-9_-]{1,64}");
    private static final Pattern USD = Pattern.compile("\\$?([0-9]+(\\.[0-9]+)?)");
    private static final Pattern FILE_SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");
    private static final int MAX_SECRET_BYTES = 64 * 1024;

    /** A command that failed after its arguments were understood: printed as it is, exit 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    private final Map<String, String> env;
    private final InputStream in;
    private final PrintStream out;
    private final Terminal terminal;
    private final Options options;
    private final boolean json;
    private @Nullable AdminClient client;

    private AdminCommands(Options options, Map<String, String> env, InputStream in, PrintStream out,
                          Terminal terminal) {
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
    static int run(String group, List<String> args, Map<String, String> env, InputStream in, PrintStream out,
                   PrintStream err, Terminal terminal) {
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
        try {
            switch (group + " " + sub) {
                case "tenants list" -> c.tenantsList();
                case "tenants create" -> c.tenantsCreate();
                case "tenants show" -> c.tenantsShow();
                case "tenants usage" -> c.tenantsUsage();
                case "tenants delete" -> c.tenantsDelete();
                case "keys list" -> c.keysList();
                case "keys create" -> c.keysCreate();
                case "keys show" -> c.keysShow();
                case "keys update" -> c.keysUpdate();
                case "keys revoke" -> c.keysRevoke();
                case "keys usage" -> c.keysUsage();
                case "providers list" -> c.providersList();
                case "providers set" -> c.providersSet();
                case "providers delete" -> c.providersDelete();
                default -> throw new UsageException("unknown sub-command '" + group + " " + sub + "' (expected: "
                        + SUB_COMMANDS.get(group) + ")");
            }
        } catch (Failure f) {
            out.flush();
            err.println("brainstorm-proxy: " + f.getMessage());
            return 1;
        }
        return 0;
    }

    // ---- tenants ----

    private void tenantsList() {
        args("tenants list");
        Answer a = client().send("GET", AdminClient.path("tenants"), null);
        if (printJson(a)) {
            return;
        }
        Table t = Table.of("ID", "NAME", "KEYS", "PROVIDER KEYS", "SOURCE", "CREATED");
        for (JsonNode n : a.json().path("data")) {
            t.row(text(n, "id"), text(n, "name"), text(n, "keys"), text(n, "provider_keys"), text(n, "source"),
                    time(n.path("created_at")));
        }
        printTable(t, a.json().path("data"), "no tenants");
    }

    private void tenantsCreate() {
        String id = tenantId(args("tenants create", "ID", "--name").get(0), "ID");
        ObjectNode body = ParsedRequest.JSON.createObjectNode().put("id", id);
        if (options.get("--name") != null) {
            body.put("name", options.get("--name"));
        }
        Answer a = client().send("POST", AdminClient.path("tenants"), body);
        if (!printJson(a)) {
            tenantFields(a.json()).print(out);
        }
    }

    private void tenantsShow() {
        String id = tenantId(args("tenants show", "ID").get(0), "ID");
        Answer a = client().send("GET", AdminClient.path("tenants", id), null);
        if (!printJson(a)) {
            tenantFields(a.json()).print(out);
        }
    }

    private void tenantsUsage() {
        String id = tenantId(args("tenants usage", "ID").get(0), "ID");
        Answer a = client().send("GET", AdminClient.path("tenants", id, "usage"), null);
        if (printJson(a)) {
            return;
        }
        JsonNode u = a.json();
        out.println("tenant " + text(u, "tenant") + " today: spent " + usd(u.path("spent_usd")) + ", reserved "
                + usd(u.path("reserved_usd")) + ", " + text(u, "requests") + " requests");
        Table t = Table.of("KEY", "NAME", "DAY", "SPENT", "RESERVED", "REQUESTS", "BUDGET", "REMAINING");
        for (JsonNode k : u.path("keys")) {
            t.row(text(k, "key_id"), text(k, "key_name"), text(k, "day"), usd(k.path("spent_usd")),
                    usd(k.path("reserved_usd")), text(k, "requests"), usd(k.path("daily_budget_usd")),
                    k.path("remaining_usd").isNumber() ? usd(k.path("remaining_usd")) : "-");
        }
        if (!u.path("keys").isEmpty()) {
            out.println();
            t.print(out);
        }
    }

    private void tenantsDelete() {
        String id = tenantId(args("tenants delete", "ID", "--yes").get(0), "ID");
        if (!options.flag("--yes")) {
            if (!terminal.present()) {
                throw new UsageException("tenants delete: add --yes to confirm (deleting a tenant revokes its keys"
                        + " and deletes its provider keys)");
            }
            JsonNode tenant = client().send("GET", AdminClient.path("tenants", id), null).json();
            String answer = terminal.readLine("Tenant " + id + " has " + text(tenant, "keys") + " keys and "
                    + text(tenant, "provider_keys") + " provider keys. Deleting it revokes the keys and deletes"
                    + " the provider keys. Delete it? [y/N] ");
            if (answer == null || !List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT))) {
                throw new Failure("tenant " + id + " not deleted");
            }
        }
        Answer a = client().send("DELETE", AdminClient.path("tenants", id), null);
        if (!printJson(a)) {
            out.println("deleted tenant " + id + ": its keys are revoked and its provider keys deleted");
        }
    }

    private static Table tenantFields(JsonNode n) {
        return Table.fields()
                .field("id", text(n, "id"))
                .field("name", text(n, "name"))
                .field("keys", text(n, "keys"))
                .field("provider keys", text(n, "provider_keys"))
                .field("source", text(n, "source"))
                .field("created", time(n.path("created_at")));
    }

    // ---- keys ----

    private void keysList() {
        args("keys list", "--tenant");
        String tenant = options.get("--tenant");
        String path = AdminClient.path("keys");
        if (tenant != null) {
            path += AdminClient.query("tenant", tenantId(tenant, "--tenant"));
        }
        Answer a = client().send("GET", path, null);
        if (printJson(a)) {
            return;
        }
        Table t = Table.of("ID", "NAME", "TENANT", "KIND", "BUDGET", "RPM", "TPM", "MODELS", "ZONE", "CREATED",
                "REVOKED");
        for (JsonNode k : a.json().path("data")) {
            t.row(text(k, "id"), text(k, "name"), text(k, "tenant"), text(k, "kind"), usd(k.path("daily_budget_usd")),
                    rate(k.path("rpm"), "-"), rate(k.path("tpm"), "-"), models(k.path("allowed_models")),
                    text(k, "time_zone"), time(k.path("created_at")), time(k.path("revoked_at")));
        }
        printTable(t, a.json().path("data"), "no keys");
    }

    private void keysCreate() {
        args("keys create", "--tenant", "--name", "--admin", "--budget-usd", "--rpm", "--tpm", "--models",
                "--time-zone", "--out", "--print");
        String name = required("--name");
        boolean print = options.flag("--print");
        Path outFile = options.get("--out") == null ? null : Path.of(options.get("--out"));
        if (print && outFile != null) {
            throw new UsageException("--print and --out: choose one (print the secret, or write it to a file)");
        }
        ObjectNode body = ParsedRequest.JSON.createObjectNode()
                .put("name", name)
                .put("kind", options.flag("--admin") ? "admin" : "api");
        limits(body);
        if (outFile != null) {
            checkWritable(outFile); // before the key exists: a key whose secret cannot be kept is no use
        }
        String tenant = tenant();
        Answer a = client().send("POST", AdminClient.path("tenants", tenant, "keys"), body);
        ObjectNode key = (ObjectNode) a.json();
        String secret = key.path("key").asText("");
        String id = key.path("id").asText("");
        if (secret.isEmpty() || id.isEmpty()) {
            throw new Failure("the admin API's answer has no key id or secret (expected: \"id\" and \"key\")");
        }
        if (print || outFile == null && terminal.present()) {
            if (json) {
                out.println(a.body().strip());
            } else if (print) {
                out.println(secret);
            } else {
                keyFields(key).print(out);
                out.println();
                out.println("Secret, shown once (only its SHA-256 is kept; store it now):");
                out.println("  " + secret);
            }
            return;
        }
        Path file = outFile != null ? outFile : Path.of(fileSafe(id) + ".key");
        Path written = writeSecret(file, secret, id);
        key.remove("key");
        if (json) {
            key.put("key_file", written.toString());
            out.println(toJson(key));
        } else if (terminal.present()) {
            keyFields(key).print(out);
            out.println();
            out.println("Secret written to " + written + " (mode 0600); it is shown nowhere else.");
        } else {
            out.println("created " + id + " (" + key.path("name").asText() + ", tenant " + key.path("tenant").asText()
                    + "); its secret is in " + written + " (mode 0600) and shown nowhere else");
        }
    }

    private void keysShow() {
        String id = args("keys show", "ID").get(0);
        Answer a = client().send("GET", AdminClient.path("keys", id), null);
        if (!printJson(a)) {
            keyFields(a.json()).print(out);
        }
    }

    private void keysUpdate() {
        String id = args("keys update", "ID", "--name", "--budget-usd", "--rpm", "--tpm", "--models",
                "--time-zone").get(0);
        ObjectNode body = ParsedRequest.JSON.createObjectNode();
        if (options.flag("--name")) {
            body.put("name", required("--name"));
        }
        limits(body);
        if (body.isEmpty()) {
            throw new UsageException("keys update: nothing to change (expected: one or more of --name, --budget-usd,"
                    + " --rpm, --tpm, --models, --time-zone)");
        }
        Answer a = client().send("PATCH", AdminClient.path("keys", id), body);
        if (!printJson(a)) {
            keyFields(a.json()).print(out);
        }
    }

    private void keysRevoke() {
        String id = args("keys revoke", "ID").get(0);
        Answer a = client().send("DELETE", AdminClient.path("keys", id), null);
        if (!printJson(a)) {
            JsonNode k = a.json();
            out.println("revoked key " + text(k, "id") + " (" + text(k, "name") + ", tenant " + text(k, "tenant")
                    + ") at " + time(k.path("revoked_at")));
        }
    }

    private void keysUsage() {
        String id = args("keys usage", "ID").get(0);
        Answer a = client().send("GET", AdminClient.path("keys", id, "usage"), null);
        if (printJson(a)) {
            return;
        }
        JsonNode u = a.json();
        Table.fields()
                .field("key", text(u, "key_id") + " (" + text(u, "key_name") + ")")
                .field("day", text(u, "day") + " (" + text(u, "time_zone") + ")")
                .field("spent", usd(u.path("spent_usd")))
                .field("reserved", usd(u.path("reserved_usd")))
                .field("requests", text(u, "requests"))
                .field("daily budget", usd(u.path("daily_budget_usd")))
                .field("remaining", u.path("remaining_usd").isNumber() ? usd(u.path("remaining_usd")) : "-")
                .field("rpm limit", rate(u.path("rpm_limit"), "none"))
                .field("tpm limit", rate(u.path("tpm_limit"), "none"))
                .field("resets at", time(u.path("resets_at")))
                .print(out);
    }

    private static Table keyFields(JsonNode k) {
        return Table.fields()
                .field("id", text(k, "id"))
                .field("name", text(k, "name"))
                .field("tenant", text(k, "tenant"))
                .field("kind", text(k, "kind"))
                .field("daily budget", usd(k.path("daily_budget_usd")))
                .field("rpm", rate(k.path("rpm"), "no limit"))
                .field("tpm", rate(k.path("tpm"), "no limit"))
                .field("models", models(k.path("allowed_models")))
                .field("time zone", text(k, "time_zone"))
                .field("source", text(k, "source"))
                .field("created", time(k.path("created_at")))
                .field("revoked", time(k.path("revoked_at")));
    }

    /** Puts the budget, rate limit, model and time zone options given into {@code body}. */
    private void limits(ObjectNode body) {
        String budget = options.get("--budget-usd");
        if (budget != null) {
            if (List.of("none", "unlimited").contains(budget)) {
                body.putNull("daily_budget_usd");
            } else {
                var m = USD.matcher(budget);
                if (!m.matches()) {
                    throw new UsageException("--budget-usd: '" + budget + "' (expected: USD such as 5 or 0.50, or none)");
                }
                body.put("daily_budget_usd", new BigDecimal(m.group(1)));
            }
        } else if (options.flag("--budget-usd")) {
            throw new UsageException("--budget-usd: a value is expected");
        }
        rateOption(body, "--rpm", "rpm", Integer.MAX_VALUE);
        rateOption(body, "--tpm", "tpm", Long.MAX_VALUE);
        String models = optional("--models");
        if (models != null) {
            ArrayNode list = body.putArray("allowed_models");
            if (!models.equals("all")) {
                Set<String> ids = new LinkedHashSet<>();
                for (String m : models.split(",")) {
                    if (!m.isBlank()) {
                        ids.add(m.strip());
                    }
                }
                if (ids.isEmpty()) {
                    throw new UsageException("--models: '" + models + "' (expected: model ids or provider/*,"
                            + " comma-separated, or all)");
                }
                ids.forEach(list::add);
            }
        }
        String zone = optional("--time-zone");
        if (zone != null) {
            try {
                body.put("time_zone", ZoneId.of(zone).getId());
            } catch (DateTimeException e) {
                throw new UsageException("--time-zone: '" + zone + "' (expected: an IANA time zone such as"
                        + " Europe/Berlin, or UTC)");
            }
        }
    }

    /** {@code --rpm N} / {@code --tpm N}: a count, {@code 0} or {@code none} for no limit. */
    private void rateOption(ObjectNode body, String option, String field, long max) {
        String v = optional(option);
        if (v == null) {
            return;
        }
        long n;
        try {
            n = v.equals("none") ? 0 : Long.parseLong(v);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0 || n > max) {
            throw new UsageException(option + ": '" + v + "' (expected: a whole number >= 0, or none for no limit)");
        }
        body.put(field, n);
    }

    /** Fails when {@code file} exists or its directory does not. */
    private static void checkWritable(Path file) {
        if (Files.exists(file)) {
            throw new Failure("--out: " + file + " exists (it is not overwritten; choose another file)");
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new Failure("--out: directory " + dir + " does not exist");
        }
    }

    /**
     * Writes {@code secret} to a new file with mode 0600 and returns its absolute path. When that
     * fails, revokes key {@code id}, whose secret would otherwise be lost, and fails.
     */
    private Path writeSecret(Path file, String secret, String id) {
        try {
            try (OutputStream o = Files.newOutputStream(create(file), StandardOpenOption.WRITE)) {
                o.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return file.toAbsolutePath().normalize();
        } catch (IOException e) {
            String why = e instanceof FileAlreadyExistsException ? file + " exists" : e.toString();
            String msg = "could not write the new key's secret to " + file + " (" + why + ")";
            try {
                client().send("DELETE", AdminClient.path("keys", id), null);
            } catch (Failure f) {
                throw new Failure(msg + ", and revoking key " + id + " failed too (" + f.getMessage()
                        + "): revoke it with 'brainstorm-proxy keys revoke " + id + "'");
            }
            throw new Failure(msg + "; key " + id + " was revoked again, create it anew");
        }
    }

    /** Creates {@code file}, which must not exist, with mode 0600 from the start (where POSIX modes exist). */
    private static Path create(Path file) throws IOException {
        try {
            return Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return Files.createFile(file);
        }
    }

    // ---- providers ----

    private void providersList() {
        args("providers list", "--tenant");
        String tenant = tenant();
        Answer a = client().send("GET", AdminClient.path("tenants", tenant, "providers"), null);
        if (printJson(a)) {
            return;
        }
        // every provider account, with the tenant's key where it has one
        Map<String, JsonNode> keys = new TreeMap<>();
        for (JsonNode k : a.json().path("data")) {
            keys.put(text(k, "provider"), k);
        }
        Set<String> providers = new TreeSet<>(keys.keySet());
        a.json().path("providers").forEach(p -> providers.add(p.asText()));
        Table t = Table.of("PROVIDER", "KEY", "SOURCE", "CREATED");
        for (String p : providers) {
            JsonNode k = keys.get(p);
            t.row(p, k == null ? "-" : text(k, "fingerprint"), k == null ? "-" : text(k, "source"),
                    k == null ? "-" : time(k.path("created_at")));
        }
        if (providers.isEmpty()) {
            out.println("no provider accounts");
        } else {
            t.print(out);
        }
    }

    private void providersSet() {
        String provider = args("providers set", "PROVIDER", "--tenant", "--from-env").get(0);
        String fromEnv = optional("--from-env");
        String secret = fromEnv == null ? null : providerKeyFromEnv(fromEnv);
        String tenant = tenant();
        if (secret == null) {
            secret = providerKeyTyped(provider, tenant);
        }
        ObjectNode body = ParsedRequest.JSON.createObjectNode().put("api_key", secret);
        Answer a;
        try {
            a = client().send("PUT", AdminClient.path("tenants", tenant, "providers", provider), body);
        } catch (Failure f) {
            throw new Failure(f.getMessage().replace(secret, "[the provider key]"));
        }
        if (!printJson(a)) {
            out.println("set tenant " + tenant + "'s key for provider " + provider + " ("
                    + text(a.json(), "fingerprint") + ")" + (a.status() == 201 ? "" : ", replacing the previous one"));
        }
    }

    private void providersDelete() {
        String provider = args("providers delete", "PROVIDER", "--tenant").get(0);
        String tenant = tenant();
        Answer a = client().send("DELETE", AdminClient.path("tenants", tenant, "providers", provider), null);
        if (!printJson(a)) {
            out.println("deleted tenant " + tenant + "'s key for provider " + provider);
        }
    }

    private String providerKeyFromEnv(String var) {
        String secret = env.get(var);
        if (secret == null || secret.isBlank()) {
            throw new UsageException("--from-env: " + var + " is not set or empty");
        }
        return oneLine(secret);
    }

    /** The provider key typed on the terminal (not echoed), or else stdin's one line. */
    private String providerKeyTyped(String provider, String tenant) {
        if (!terminal.present()) {
            return oneLine(readStdin());
        }
        char[] typed = terminal.readSecret("API key for provider " + provider + " of tenant " + tenant
                + " (not shown): ");
        if (typed == null) {
            throw new Failure("no provider key given");
        }
        String secret = new String(typed);
        Arrays.fill(typed, '\0');
        return oneLine(secret);
    }

    private static String oneLine(String secret) {
        String s = secret.strip();
        if (s.isEmpty() || s.contains("\n") || s.contains("\r")) {
            throw new UsageException("the provider key " + (s.isEmpty() ? "is empty" : "spans several lines")
                    + " (expected: the key alone on one line, on stdin or in --from-env VAR)");
        }
        return s;
    }

    private String readStdin() {
        byte[] bytes;
        try {
            bytes = in.readNBytes(MAX_SECRET_BYTES + 1);
        } catch (IOException e) {
            throw new Failure("cannot read the provider key from stdin: " + e.getMessage());
        }
        if (bytes.length > MAX_SECRET_BYTES) {
            throw new UsageException("stdin: more than " + MAX_SECRET_BYTES + " bytes (expected: the provider key"
                    + " alone on one line)");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ---- arguments ----

    /**
     * Checks the options against {@code allowed} (each a name like {@code --tenant}, plus the common
     * ones) and the positional arguments against {@code names} (like {@code ID}), and returns the latter.
     */
    private List<String> args(String command, String... allowed) {
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

    private String required(String option) {
        String v = options.get(option);
        if (v == null) {
            throw new UsageException(option + ": a value is expected");
        }
        return v;
    }

    /** The option's value; null when it is absent; a usage error when it is given empty. */
    private @Nullable String optional(String option) {
        return options.flag(option) ? required(option) : null;
    }

    private static String tenantId(String id, String what) {
        if (!TENANT_ID.matcher(id).matches()) {
            throw new UsageException(what + ": '" + id + "' (expected: a tenant id, 1 to 64 lower-case letters,"
                    + " digits, '-' and '_')");
        }
        return id;
    }

    /**
     * {@code --tenant}, or else the tenant of the caller's admin key ({@code GET /admin/v1/whoami}).
     */
    private String tenant() {
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

    private AdminClient client() {
        if (client == null) {
            client = AdminClient.of(options.get("--admin-url"), options.get("--token-file"),
                    options.get("--state-dir"), env);
        }
        return client;
    }

    // ---- output ----

    /** With {@code --json}, prints the answer as it came and returns true. */
    private boolean printJson(Answer a) {
        if (json) {
            out.println(a.body().strip());
        }
        return json;
    }

    private void printTable(Table t, JsonNode data, String none) {
        if (data.isEmpty()) {
            out.println(none);
        } else {
            t.print(out);
        }
    }

    private static String toJson(JsonNode n) {
        try {
            return ParsedRequest.JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String fileSafe(String id) {
        if (!FILE_SAFE_ID.matcher(id).matches()) {
            throw new Failure("the admin API answered key id '" + id + "', not usable as a file name; pass --out FILE");
        }
        return id;
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
    private static String rate(JsonNode v, String none) {
        return v.isNumber() && v.asLong() > 0 ? v.asText() : none;
    }

    private static String models(JsonNode list) {
        if (!list.isArray() || list.isEmpty()) {
            return "all";
        }
        List<String> ids = new ArrayList<>();
        list.forEach(m -> ids.add(m.asText()));
        return String.join(",", ids);
    }

    /** An ISO-8601 instant to the second; {@code -} for null and for the epoch (keys from config). */
    static String time(@Nullable JsonNode v) {
        if (!v.isTextual()) {
            return "-";
        }
        try {
            Instant t = Instant.parse(v.asText());
            return t.equals(Instant.EPOCH) ? "-" : t.truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return v.asText();
        }
    }
}
