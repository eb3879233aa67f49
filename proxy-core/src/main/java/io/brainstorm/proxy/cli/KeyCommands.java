package io.brainstorm.proxy.cli;

import static io.brainstorm.proxy.cli.AdminCommands.fields;
import static io.brainstorm.proxy.cli.AdminCommands.models;
import static io.brainstorm.proxy.cli.AdminCommands.rate;
import static io.brainstorm.proxy.cli.AdminCommands.text;
import static io.brainstorm.proxy.cli.AdminCommands.time;
import static io.brainstorm.proxy.cli.AdminCommands.usd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.Validation;
import io.brainstorm.proxy.cli.AdminClient.Answer;
import io.brainstorm.proxy.cli.AdminCommands.Failure;
import io.brainstorm.proxy.cli.Main.UsageException;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code keys list|create|show|update|revoke|usage}: gateway keys through the admin API. A new key's
 * secret is printed on a terminal (or with {@code --print}), otherwise written to a new file with
 * mode 0600; when that file cannot be written the key is revoked again (see {@link AdminCommands}).
 */
final class KeyCommands {
    private static final Pattern USD = Pattern.compile("\\$?([0-9]+(\\.[0-9]+)?)");
    private static final Pattern FILE_SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");
    private final AdminCommands c;

    KeyCommands(AdminCommands c) {
        this.c = c;
    }

    void list() {
        c.args("keys list", "--tenant");
        String tenant = c.options.get("--tenant");
        String path = AdminClient.path("keys");
        if (tenant != null) {
            path += AdminClient.query("tenant", AdminCommands.tenantId(tenant, "--tenant"));
        }
        Answer a = c.client().send("GET", path, null);
        if (c.printJson(a)) {
            return;
        }
        Table t = Table.of(
                "ID", "NAME", "TENANT", "KIND", "BUDGET", "RPM", "TPM", "MODELS", "ZONE", "CREATED", "REVOKED");
        for (JsonNode k : a.json().path("data")) {
            t.row(
                    text(k, "id"),
                    text(k, "name"),
                    text(k, "tenant"),
                    text(k, "kind"),
                    usd(k.path("daily_budget_usd")),
                    rate(k.path("rpm"), "-"),
                    rate(k.path("tpm"), "-"),
                    models(k.path("allowed_models")),
                    text(k, "time_zone"),
                    time(k.path("created_at")),
                    time(k.path("revoked_at")));
        }
        c.printTable(t, a.json().path("data"), "no keys");
    }

    void create() {
        c.args(
                "keys create",
                "--tenant",
                "--name",
                "--admin",
                "--budget-usd",
                "--rpm",
                "--tpm",
                "--models",
                "--time-zone",
                "--out",
                "--print");
        String name = AdminCommands.name(c.required("--name"));
        boolean print = c.options.flag("--print");
        Path outFile = c.options.get("--out") == null ? null : Path.of(c.options.get("--out"));
        if (print && outFile != null) {
            throw new UsageException("--print and --out: choose one (print the secret, or write it to a file)");
        }
        ObjectNode body = Json.MAPPER
                .createObjectNode()
                .put("name", name)
                .put("kind", c.options.flag("--admin") ? "admin" : "api");
        limits(body);
        if (outFile != null) {
            checkWritable(outFile); // before the key exists: a key whose secret cannot be kept is no use
        }
        String tenant = c.tenant();
        Answer a = c.client().send("POST", AdminClient.path("tenants", tenant, "keys"), body);
        ObjectNode key = (ObjectNode) a.json();
        String secret = key.path("key").asText("");
        String id = key.path("id").asText("");
        if (secret.isEmpty() || id.isEmpty()) {
            throw new Failure("the admin API's answer has no key id or secret (expected: \"id\" and \"key\")");
        }
        if (print || outFile == null && c.terminal.present()) {
            if (c.json) {
                c.out.println(a.body().strip());
            } else if (print) {
                c.out.println(secret);
            } else {
                keyFields(key).print(c.out);
                c.out.println();
                c.out.println("Secret, shown once (only its SHA-256 is kept; store it now):");
                c.out.println("  " + secret);
            }
            return;
        }
        Path file = outFile != null ? outFile : Path.of(fileSafe(id) + ".key");
        Path written = writeSecret(file, secret, id);
        key.remove("key");
        if (c.json) {
            key.put("key_file", written.toString());
            c.out.println(AdminCommands.toJson(key));
        } else if (c.terminal.present()) {
            keyFields(key).print(c.out);
            c.out.println();
            c.out.println("Secret written to " + written + " (mode 0600); it is shown nowhere else.");
        } else {
            c.out.println("created " + id + " (" + key.path("name").asText() + ", tenant "
                    + key.path("tenant").asText() + "); its secret is in " + written
                    + " (mode 0600) and shown nowhere else");
        }
    }

    void show() {
        String id = c.args("keys show", "ID").get(0);
        Answer a = c.client().send("GET", AdminClient.path("keys", id), null);
        if (!c.printJson(a)) {
            keyFields(a.json()).print(c.out);
        }
    }

    void update() {
        String id = c.args("keys update", "ID", "--name", "--budget-usd", "--rpm", "--tpm", "--models", "--time-zone")
                .get(0);
        ObjectNode body = Json.MAPPER.createObjectNode();
        if (c.options.flag("--name")) {
            body.put("name", AdminCommands.name(c.required("--name")));
        }
        limits(body);
        if (body.isEmpty()) {
            throw new UsageException("keys update: nothing to change (expected: one or more of --name, --budget-usd,"
                    + " --rpm, --tpm, --models, --time-zone)");
        }
        Answer a = c.client().send("PATCH", AdminClient.path("keys", id), body);
        if (!c.printJson(a)) {
            keyFields(a.json()).print(c.out);
        }
    }

    void revoke() {
        String id = c.args("keys revoke", "ID").get(0);
        Answer a = c.client().send("DELETE", AdminClient.path("keys", id), null);
        if (!c.printJson(a)) {
            JsonNode k = a.json();
            c.out.println("revoked key " + text(k, "id") + " (" + text(k, "name") + ", tenant " + text(k, "tenant")
                    + ") at " + time(k.path("revoked_at")));
        }
    }

    void usage() {
        String id = c.args("keys usage", "ID").get(0);
        Answer a = c.client().send("GET", AdminClient.path("keys", id, "usage"), null);
        if (c.printJson(a)) {
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
                .print(c.out);
    }

    private static Table keyFields(JsonNode k) {
        return fields(k, "id", "name", "tenant", "kind")
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
        String budget = c.options.get("--budget-usd");
        if (budget != null) {
            if (List.of("none", "unlimited").contains(budget)) {
                body.putNull("daily_budget_usd");
            } else {
                var m = USD.matcher(budget);
                if (!m.matches()) {
                    throw new UsageException(
                            "--budget-usd: '" + budget + "' (expected: USD such as 5 or 0.50, or none)");
                }
                body.put("daily_budget_usd", new BigDecimal(m.group(1)));
            }
        } else if (c.options.flag("--budget-usd")) {
            throw new UsageException("--budget-usd: a value is expected");
        }
        rateOption(body, "--rpm", "rpm", Validation.MAX_RPM);
        rateOption(body, "--tpm", "tpm", Validation.MAX_TPM);
        String models = c.optional("--models");
        if (models != null) {
            ArrayNode list = body.putArray("allowed_models");
            if (!models.equals("all")) {
                Set<String> ids = new LinkedHashSet<>();
                for (String m : models.split(",")) {
                    if (m.isBlank()) {
                        continue;
                    }
                    if (!Validation.isModelPattern(m.strip())) {
                        throw new UsageException("--models: '" + m.strip() + "' (expected: a model id such as"
                                + " sim/alpha, or provider/*, without spaces)");
                    }
                    ids.add(m.strip());
                }
                if (ids.isEmpty()) {
                    throw new UsageException("--models: '" + models + "' (expected: model ids or provider/*,"
                            + " comma-separated, or all)");
                }
                ids.forEach(list::add);
            }
        }
        String zone = c.optional("--time-zone");
        if (zone != null) {
            try {
                body.put("time_zone", ZoneId.of(zone).getId());
            } catch (DateTimeException e) {
                throw new UsageException(
                        "--time-zone: '" + zone + "' (expected: an IANA time zone such as" + " Europe/Berlin, or UTC)");
            }
        }
    }

    /** {@code --rpm N} / {@code --tpm N}: a count, {@code 0} or {@code none} for no limit. */
    private void rateOption(ObjectNode body, String option, String field, long max) {
        String v = c.optional(option);
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
            try (OutputStream o = Files.newOutputStream(createFile(file), StandardOpenOption.WRITE)) {
                o.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return file.toAbsolutePath().normalize();
        } catch (IOException e) {
            String why = e instanceof FileAlreadyExistsException ? file + " exists" : e.toString();
            String msg = "could not write the new key's secret to " + file + " (" + why + ")";
            try {
                c.client().send("DELETE", AdminClient.path("keys", id), null);
            } catch (Failure f) {
                throw new Failure(msg + ", and revoking key " + id + " failed too (" + f.getMessage()
                        + "): revoke it with 'brainstorm-proxy keys revoke " + id + "'");
            }
            throw new Failure(msg + "; key " + id + " was revoked again, create it anew");
        }
    }

    /** Creates {@code file}, which must not exist, with mode 0600 from the start (where POSIX modes exist). */
    private static Path createFile(Path file) throws IOException {
        try {
            return Files.createFile(
                    file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return Files.createFile(file);
        }
    }

    private static String fileSafe(String id) {
        if (!FILE_SAFE_ID.matcher(id).matches()) {
            throw new Failure("the admin API answered key id '" + id + "', not usable as a file name; pass --out FILE");
        }
        return id;
    }
}
