package io.brainstorm.proxy.cli;

import static io.brainstorm.proxy.cli.AdminCommands.fields;
import static io.brainstorm.proxy.cli.AdminCommands.text;
import static io.brainstorm.proxy.cli.AdminCommands.time;
import static io.brainstorm.proxy.cli.AdminCommands.usd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.cli.AdminClient.Answer;
import io.brainstorm.proxy.cli.AdminCommands.Failure;
import io.brainstorm.proxy.cli.Main.UsageException;
import java.util.List;
import java.util.Locale;

/**
 * {@code tenants list|create|show|usage|delete}: tenants through the admin API. Deleting asks first
 * on a terminal, and needs {@code --yes} elsewhere.
 */
final class TenantCommands {
    private final AdminCommands c;

    TenantCommands(AdminCommands c) {
        this.c = c;
    }

    void list() {
        c.args("tenants list");
        Answer a = c.client().send("GET", AdminClient.path("tenants"), null);
        if (c.printJson(a)) {
            return;
        }
        Table t = Table.of("ID", "NAME", "KEYS", "PROVIDER KEYS", "SOURCE", "CREATED");
        for (JsonNode n : a.json().path("data")) {
            t.row(
                    text(n, "id"),
                    text(n, "name"),
                    text(n, "keys"),
                    text(n, "provider_keys"),
                    text(n, "source"),
                    time(n.path("created_at")));
        }
        c.printTable(t, a.json().path("data"), "no tenants");
    }

    void create() {
        String id =
                AdminCommands.tenantId(c.args("tenants create", "ID", "--name").get(0), "ID");
        ObjectNode body = Json.MAPPER.createObjectNode().put("id", id);
        if (c.options.get("--name") != null) {
            body.put("name", AdminCommands.name(c.options.get("--name")));
        }
        Answer a = c.client().send("POST", AdminClient.path("tenants"), body);
        if (!c.printJson(a)) {
            tenantFields(a.json()).print(c.out);
        }
    }

    void show() {
        String id = AdminCommands.tenantId(c.args("tenants show", "ID").get(0), "ID");
        Answer a = c.client().send("GET", AdminClient.path("tenants", id), null);
        if (!c.printJson(a)) {
            tenantFields(a.json()).print(c.out);
        }
    }

    void usage() {
        String id = AdminCommands.tenantId(c.args("tenants usage", "ID").get(0), "ID");
        Answer a = c.client().send("GET", AdminClient.path("tenants", id, "usage"), null);
        if (c.printJson(a)) {
            return;
        }
        JsonNode u = a.json();
        c.out.println("tenant " + text(u, "tenant") + " today: spent " + usd(u.path("spent_usd")) + ", reserved "
                + usd(u.path("reserved_usd")) + ", " + text(u, "requests") + " requests");
        Table t = Table.of("KEY", "NAME", "DAY", "SPENT", "RESERVED", "REQUESTS", "BUDGET", "REMAINING");
        for (JsonNode k : u.path("keys")) {
            t.row(
                    text(k, "key_id"),
                    text(k, "key_name"),
                    text(k, "day"),
                    usd(k.path("spent_usd")),
                    usd(k.path("reserved_usd")),
                    text(k, "requests"),
                    usd(k.path("daily_budget_usd")),
                    k.path("remaining_usd").isNumber() ? usd(k.path("remaining_usd")) : "-");
        }
        if (!u.path("keys").isEmpty()) {
            c.out.println();
            t.print(c.out);
        }
    }

    void delete() {
        String id =
                AdminCommands.tenantId(c.args("tenants delete", "ID", "--yes").get(0), "ID");
        if (!c.options.flag("--yes")) {
            if (!c.terminal.present()) {
                throw new UsageException("tenants delete: add --yes to confirm (deleting a tenant revokes its keys"
                        + " and deletes its provider keys)");
            }
            JsonNode tenant = c.client()
                    .send("GET", AdminClient.path("tenants", id), null)
                    .json();
            String answer = c.terminal.readLine("Tenant " + id + " has " + text(tenant, "keys") + " keys and "
                    + text(tenant, "provider_keys") + " provider keys. Deleting it revokes the keys and deletes"
                    + " the provider keys. Delete it? [y/N] ");
            if (answer == null || !List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT))) {
                throw new Failure("tenant " + id + " not deleted");
            }
        }
        Answer a = c.client().send("DELETE", AdminClient.path("tenants", id), null);
        if (!c.printJson(a)) {
            c.out.println("deleted tenant " + id + ": its keys are revoked and its provider keys deleted");
        }
    }

    private static Table tenantFields(JsonNode n) {
        return fields(n, "id", "name", "keys", "provider_keys", "source").field("created", time(n.path("created_at")));
    }
}
