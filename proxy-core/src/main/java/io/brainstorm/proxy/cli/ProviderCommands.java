package io.brainstorm.proxy.cli;

import static io.brainstorm.proxy.cli.AdminCommands.text;
import static io.brainstorm.proxy.cli.AdminCommands.time;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.auth.Validation;
import io.brainstorm.proxy.cli.AdminClient.Answer;
import io.brainstorm.proxy.cli.AdminCommands.Failure;
import io.brainstorm.proxy.cli.Main.UsageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code providers list|set|delete}: a tenant's own provider keys through the admin API. A provider
 * key is read from the terminal without echo, from stdin, or from the variable named by
 * {@code --from-env}; never from the command line, and it is never printed.
 */
final class ProviderCommands {
    private static final int MAX_SECRET_BYTES = 64 * 1024;
    private final AdminCommands c;

    ProviderCommands(AdminCommands c) {
        this.c = c;
    }

    void list() {
        c.args("providers list", "--tenant");
        String tenant = c.tenant();
        Answer a = c.client().send("GET", AdminClient.path("tenants", tenant, "providers"), null);
        if (c.printJson(a)) {
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
            t.row(
                    p,
                    k == null ? "-" : text(k, "fingerprint"),
                    k == null ? "-" : text(k, "source"),
                    k == null ? "-" : time(k.path("created_at")));
        }
        if (providers.isEmpty()) {
            c.out.println("no provider accounts");
        } else {
            t.print(c.out);
        }
    }

    void set() {
        String provider =
                c.args("providers set", "PROVIDER", "--tenant", "--from-env").get(0);
        String fromEnv = c.optional("--from-env");
        String secret = fromEnv == null ? null : providerKeyFromEnv(fromEnv);
        String tenant = c.tenant();
        if (secret == null) {
            secret = providerKeyTyped(provider, tenant);
        }
        ObjectNode body = Json.MAPPER.createObjectNode().put("api_key", secret);
        Answer a;
        try {
            a = c.client().send("PUT", AdminClient.path("tenants", tenant, "providers", provider), body);
        } catch (Failure f) {
            String message = Objects.requireNonNull(f.getMessage(), "a Failure has a message");
            throw new Failure(message.replace(secret, "[the provider key]"));
        }
        if (!c.printJson(a)) {
            c.out.println("set tenant " + tenant + "'s key for provider " + provider + " ("
                    + text(a.json(), "fingerprint") + ")" + (a.status() == 201 ? "" : ", replacing the previous one"));
        }
    }

    void delete() {
        String provider = c.args("providers delete", "PROVIDER", "--tenant").get(0);
        String tenant = c.tenant();
        Answer a = c.client().send("DELETE", AdminClient.path("tenants", tenant, "providers", provider), null);
        if (!c.printJson(a)) {
            c.out.println("deleted tenant " + tenant + "'s key for provider " + provider);
        }
    }

    private String providerKeyFromEnv(String var) {
        String secret = c.env.get(var);
        if (secret == null || secret.isBlank()) {
            throw new UsageException("--from-env: " + var + " is not set or empty");
        }
        return oneLine(secret);
    }

    /** The provider key typed on the terminal (not echoed), or else stdin's one line. */
    private String providerKeyTyped(String provider, String tenant) {
        if (!c.terminal.present()) {
            return oneLine(readStdin());
        }
        char[] typed =
                c.terminal.readSecret("API key for provider " + provider + " of tenant " + tenant + " (not shown): ");
        if (typed == null) {
            throw new Failure("no provider key given");
        }
        String secret = new String(typed);
        Arrays.fill(typed, '\0');
        return oneLine(secret);
    }

    private static String oneLine(String secret) {
        String s = secret.strip();
        String problem =
                s.contains("\n") || s.contains("\r") ? "spans several lines" : Validation.providerKeyProblem(s);
        if (problem != null) {
            throw new UsageException("the provider key " + problem
                    + " (expected: the key alone on one line, on stdin or in --from-env VAR)");
        }
        return s;
    }

    private String readStdin() {
        byte[] bytes;
        try {
            bytes = c.in.readNBytes(MAX_SECRET_BYTES + 1);
        } catch (IOException e) {
            throw new Failure("cannot read the provider key from stdin: " + e.getMessage());
        }
        if (bytes.length > MAX_SECRET_BYTES) {
            throw new UsageException("stdin: more than " + MAX_SECRET_BYTES + " bytes (expected: the provider key"
                    + " alone on one line)");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
