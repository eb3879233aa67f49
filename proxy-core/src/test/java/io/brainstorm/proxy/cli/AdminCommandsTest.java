package io.brainstorm.proxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.brainstorm.proxy.api.Json;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin commands through {@link Main#run}, against a fake admin API on loopback that records
 * each request and answers canned JSON.
 */
class AdminCommandsTest {
    private static final String TOKEN = "br_admin_0123456789abcdefghijABCDEFGHIJ";
    private static final String SECRET = "br_live_S3cretS3cretS3cretS3cretS3cret";
    private static final String PROVIDER_SECRET = "sk-proj-TopSecretProviderKey123";
    private static final String KEY_JSON = """
            {"object":"key","id":"key_3f9a00000001","name":"checkout","tenant":"acme","kind":"api",
             "daily_budget_usd":5,"rpm":600,"tpm":200000,"allowed_models":["sim/alpha","openai/*"],
             "time_zone":"Europe/Berlin","created_at":"2025-03-01T10:11:12.345Z","revoked_at":null,"source":"admin"}""";

    record Request(String method, String path, String authorization, String contentType, String body) {
        JsonNode json() throws IOException {
            return Json.MAPPER.readTree(body);
        }
    }

    private record Canned(int status, String body) {}

    private HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Canned> answers = new HashMap<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<Path> cleanUp = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void startFakeAdminApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getRawQuery();
            String path = exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
            String method = exchange.getRequestMethod();
            requests.add(new Request(
                    method,
                    path,
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            Canned c = answers.getOrDefault(
                    method + " " + path,
                    new Canned(
                            404,
                            "{\"error\":{\"message\":\"no such thing: " + path
                                    + "\",\"type\":\"not_found\",\"param\":null," + "\"code\":\"not_found\"}}"));
            byte[] bytes = c.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(c.status(), bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() throws IOException {
        server.stop(0);
        for (Path p : cleanUp) {
            Files.deleteIfExists(p);
        }
    }

    private void answer(String methodAndPath, int status, String body) {
        answers.put(methodAndPath, new Canned(status, body));
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private Map<String, String> env() {
        return Map.of("BR_ADMIN_URL", url(), "BR_ADMIN_TOKEN", TOKEN);
    }

    private int run(Map<String, String> env, String... args) {
        return run(env, Terminal.NONE, "", args);
    }

    private int run(Map<String, String> env, Terminal terminal, String stdin, String... args) {
        return Main.run(
                args,
                env,
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                terminal);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private Request only() {
        assertEquals(1, requests.size(), requests.toString());
        return requests.get(0);
    }

    /** A terminal whose person types {@code typed}, recording the prompts. */
    private static final class FakeTerminal implements Terminal {
        final List<String> prompts = new ArrayList<>();
        private final String typed;

        FakeTerminal(String typed) {
            this.typed = typed;
        }

        @Override
        public boolean present() {
            return true;
        }

        @Override
        public char[] readSecret(String prompt) {
            prompts.add(prompt);
            return typed.toCharArray();
        }

        @Override
        public String readLine(String prompt) {
            prompts.add(prompt);
            return typed;
        }
    }

    // ---- where and who ----

    @Test
    void tenantsListSendsTheTokenFromTheEnvironmentAndPrintsAnAlignedTable() {
        answer("GET /admin/v1/tenants", 200, """
                {"object":"list","data":[
                 {"object":"tenant","id":"default","name":"Default","created_at":"1970-01-01T00:00:00Z","source":"config","keys":1,"provider_keys":0},
                 {"object":"tenant","id":"acme","name":"Acme Inc.","created_at":"2025-03-01T10:11:12.5Z","source":"admin","keys":12,"provider_keys":1}]}""");

        assertEquals(0, run(env(), "tenants", "list"));

        Request r = only();
        assertEquals("GET", r.method());
        assertEquals("/admin/v1/tenants", r.path());
        assertEquals("Bearer " + TOKEN, r.authorization());
        assertEquals("""
                ID       NAME       KEYS  PROVIDER KEYS  SOURCE  CREATED
                default  Default    1     0              config  -
                acme     Acme Inc.  12    1              admin   2025-03-01T10:11:12Z
                """, out());
        assertEquals("", err());
    }

    @Test
    void theTokenComesFromTheStateDirectoryWhenTheEnvironmentHasNone() throws IOException {
        answer("GET /admin/v1/tenants", 200, "{\"object\":\"list\",\"data\":[]}");
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.writeString(state.resolve("admin-token.txt"), "br_admin_fromTheStateDirectory0000000\n");

        assertEquals(0, run(Map.of("BR_ADMIN_URL", url(), "BR_STATE_DIR", state.toString()), "tenants", "list"));
        assertEquals("Bearer br_admin_fromTheStateDirectory0000000", only().authorization());
        assertEquals("no tenants\n", out());

        requests.clear();
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve("admin-token.txt"), "br_admin_fromTheStateDirOption000000000");
        assertEquals(
                0,
                run(
                        Map.of("BR_ADMIN_URL", url(), "BR_STATE_DIR", state.toString()),
                        "tenants",
                        "list",
                        "--state-dir",
                        other.toString()));
        assertEquals("Bearer br_admin_fromTheStateDirOption000000000", only().authorization());
    }

    @Test
    void tokenFileOptionWinsOverTheEnvironment() throws IOException {
        answer("GET /admin/v1/tenants", 200, "{\"object\":\"list\",\"data\":[]}");
        Path file = dir.resolve("tenant-admin.key");
        Files.writeString(file, "br_admin_aTenantAdminKey0000000000000000\n");

        assertEquals(0, run(env(), "tenants", "list", "--token-file", file.toString()));
        assertEquals("Bearer br_admin_aTenantAdminKey0000000000000000", only().authorization());
    }

    @Test
    void withoutATokenItSaysHowToGetOne() {
        Path state = dir.resolve("state");
        assertEquals(1, run(Map.of("BR_ADMIN_URL", url(), "BR_STATE_DIR", state.toString()), "keys", "list"));
        assertTrue(requests.isEmpty());
        String e = err();
        assertTrue(e.startsWith("brainstorm-proxy: no admin token: set BR_ADMIN_TOKEN or pass --token-file FILE"), e);
        assertTrue(e.contains(state.resolve("admin-token.txt").toString()), e);
    }

    @Test
    void theAdminPortFromTheEnvironmentIsUsedOnLoopback() {
        answer("GET /admin/v1/tenants", 200, "{\"object\":\"list\",\"data\":[]}");
        assertEquals(
                0,
                run(
                        Map.of(
                                "BR_ADMIN_PORT",
                                String.valueOf(server.getAddress().getPort()),
                                "BR_ADMIN_TOKEN",
                                TOKEN),
                        "tenants",
                        "list"));
        assertEquals("/admin/v1/tenants", only().path());
    }

    @Test
    void anUnreachableGatewayGetsAHint() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        assertEquals(1, run(Map.of("BR_ADMIN_URL", url, "BR_ADMIN_TOKEN", TOKEN), "tenants", "list"));
        assertEquals(
                "brainstorm-proxy: cannot reach the admin API at " + url + ": is the gateway running?"
                        + " (admin listener: --admin-port / BR_ADMIN_PORT)\n",
                err());
        assertEquals("", out());
    }

    @Test
    void anApiErrorPrintsItsMessageAndExitsOne() {
        answer("POST /admin/v1/tenants", 409, """
                {"error":{"message":"tenant acme exists","type":"invalid_request_error","param":"id","code":"conflict"}}""");
        assertEquals(1, run(env(), "tenants", "create", "acme"));
        assertEquals("brainstorm-proxy: tenant acme exists\n", err());
        assertEquals("", out());
    }

    @Test
    void aRefusedTokenSaysWhereTheTokenCameFrom() {
        answer("GET /admin/v1/tenants", 401, """
                {"error":{"message":"invalid admin token","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");
        assertEquals(1, run(env(), "tenants", "list"));
        assertEquals("brainstorm-proxy: invalid admin token (admin token from BR_ADMIN_TOKEN)\n", err());
    }

    @Test
    void anAnswerThatIsNotJsonIsAnError() {
        answer("GET /admin/v1/tenants", 200, "<html>hello</html>");
        assertEquals(1, run(env(), "tenants", "list"));
        assertTrue(err().contains("without JSON"), err());
    }

    // ---- tenants ----

    @Test
    void tenantsCreateShowAndDelete() throws IOException {
        String tenant = """
                {"object":"tenant","id":"acme","name":"Acme Inc.","created_at":"2025-03-01T10:11:12Z","source":"admin","keys":0,"provider_keys":0}""";
        answer("POST /admin/v1/tenants", 201, tenant);
        answer("GET /admin/v1/tenants/acme", 200, tenant);
        answer("DELETE /admin/v1/tenants/acme", 200, "{\"object\":\"tenant\",\"id\":\"acme\",\"deleted\":true}");

        assertEquals(0, run(env(), "tenants", "create", "acme", "--name", "Acme Inc."));
        Request r = only();
        assertEquals("POST", r.method());
        assertEquals("application/json", r.contentType());
        assertEquals(Json.MAPPER.readTree("{\"id\":\"acme\",\"name\":\"Acme Inc.\"}"), r.json());
        assertEquals("""
                id:             acme
                name:           Acme Inc.
                keys:           0
                provider keys:  0
                source:         admin
                created:        2025-03-01T10:11:12Z
                """, out());

        requests.clear();
        out.reset();
        assertEquals(0, run(env(), "tenants", "show", "acme", "--json"));
        assertEquals(tenant.strip() + "\n", out());

        requests.clear();
        out.reset();
        assertEquals(0, run(env(), "tenants", "delete", "acme", "--yes"));
        assertEquals("DELETE /admin/v1/tenants/acme", only().method() + " " + only().path());
        assertEquals("deleted tenant acme: its keys are revoked and its provider keys deleted\n", out());
    }

    @Test
    void tenantsDeleteAsksOnATerminalAndNeedsYesElsewhere() {
        answer("GET /admin/v1/tenants/acme", 200, """
                {"object":"tenant","id":"acme","name":"Acme","keys":3,"provider_keys":1}""");
        answer("DELETE /admin/v1/tenants/acme", 200, "{\"object\":\"tenant\",\"id\":\"acme\",\"deleted\":true}");

        Main.UsageException e = assertThrows(Main.UsageException.class, () -> run(env(), "tenants", "delete", "acme"));
        assertTrue(e.getMessage().contains("--yes"), e.getMessage());
        assertTrue(requests.isEmpty());

        FakeTerminal no = new FakeTerminal("n");
        assertEquals(1, run(env(), no, "", "tenants", "delete", "acme"));
        assertTrue(no.prompts.get(0).contains("has 3 keys and 1 provider keys"), no.prompts.toString());
        assertEquals(List.of("GET"), requests.stream().map(Request::method).toList());
        assertEquals("brainstorm-proxy: tenant acme not deleted\n", err());

        requests.clear();
        assertEquals(0, run(env(), new FakeTerminal("y"), "", "tenants", "delete", "acme"));
        assertEquals(
                List.of("GET", "DELETE"), requests.stream().map(Request::method).toList());
    }

    @Test
    void tenantsUsagePrintsTotalsAndATablePerKey() {
        answer("GET /admin/v1/tenants/acme/usage", 200, """
                {"object":"tenant_usage","tenant":"acme","spent_usd":1.25,"reserved_usd":0.0004,"requests":7,"keys":[
                 {"object":"usage","key_id":"key_1","key_name":"a","day":"2025-03-01","time_zone":"UTC","spent_usd":1.25,
                  "reserved_usd":0.0004,"requests":7,"daily_budget_usd":5,"remaining_usd":3.7496,"rpm_limit":0,"tpm_limit":0},
                 {"object":"usage","key_id":"key_2","key_name":"b","day":"2025-03-02","time_zone":"Asia/Tokyo","spent_usd":0.0,
                  "reserved_usd":0.0,"requests":0,"daily_budget_usd":null,"remaining_usd":null,"rpm_limit":0,"tpm_limit":0}]}""");
        assertEquals(0, run(env(), "tenants", "usage", "acme"));
        assertEquals("""
                tenant acme today: spent $1.25, reserved $0.0004, 7 requests

                KEY    NAME  DAY         SPENT  RESERVED  REQUESTS  BUDGET     REMAINING
                key_1  a     2025-03-01  $1.25  $0.0004   7         $5.00      $3.7496
                key_2  b     2025-03-02  $0.00  $0.00     0         unlimited  -
                """, out());
    }

    // ---- keys ----

    @Test
    void keysListShowsMoneyLimitsModelsAndRevocation() {
        answer("GET /admin/v1/keys?tenant=acme", 200, "{\"object\":\"list\",\"data\":[" + KEY_JSON + "," + """
                {"object":"key","id":"key_000000000002","name":"from config","tenant":"acme","kind":"admin",
                 "daily_budget_usd":null,"rpm":0,"tpm":0,"allowed_models":[],"time_zone":"UTC",
                 "created_at":"1970-01-01T00:00:00Z","revoked_at":"2025-03-02T00:00:01Z","source":"config"}]}""");

        assertEquals(0, run(env(), "keys", "list", "--tenant", "acme"));
        assertEquals("/admin/v1/keys?tenant=acme", only().path());
        assertEquals("""
                ID                NAME         TENANT  KIND   BUDGET     RPM  TPM     MODELS              ZONE           CREATED               REVOKED
                key_3f9a00000001  checkout     acme    api    $5.00      600  200000  sim/alpha,openai/*  Europe/Berlin  2025-03-01T10:11:12Z  -
                key_000000000002  from config  acme    admin  unlimited  -    -       all                 UTC            -                     2025-03-02T00:00:01Z
                """, out());
    }

    @Test
    void keysCreateOffATerminalWritesTheSecretToAFileWithMode0600AndPrintsItsPath() throws IOException {
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON));
        Path file = dir.resolve("checkout.key");

        assertEquals(
                0,
                run(
                        env(),
                        "keys",
                        "create",
                        "--tenant",
                        "acme",
                        "--name",
                        "checkout",
                        "--budget-usd",
                        "5",
                        "--rpm",
                        "600",
                        "--tpm",
                        "200000",
                        "--models",
                        "sim/alpha, openai/*",
                        "--time-zone",
                        "Europe/Berlin",
                        "--out",
                        file.toString()));

        Request r = only();
        assertEquals("POST", r.method());
        assertEquals("/admin/v1/tenants/acme/keys", r.path());
        JsonNode body = r.json();
        assertEquals(Json.MAPPER.readTree("""
                {"name":"checkout","kind":"api","daily_budget_usd":5,"rpm":600,"tpm":200000,
                 "allowed_models":["sim/alpha","openai/*"],"time_zone":"Europe/Berlin"}"""), body);
        assertTrue(body.get("daily_budget_usd").isNumber());
        assertEquals(SECRET + "\n", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(out().contains(" is in " + file.toAbsolutePath().normalize() + " (mode 0600)"), out());
        assertFalse(out().contains(SECRET) || err().contains(SECRET));
    }

    @Test
    void keysCreateWithoutOutWritesKeyIdDotKeyInTheWorkingDirectory() throws IOException {
        String id = "key_test" + ProcessHandle.current().pid();
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON.replace("key_3f9a00000001", id)));
        Path file = Path.of(id + ".key").toAbsolutePath().normalize();
        cleanUp.add(file);

        assertEquals(0, run(env(), "keys", "create", "--tenant", "acme", "--name", "checkout", "--admin"));
        assertEquals("admin", only().json().get("kind").asText());
        assertTrue(out().startsWith("created " + id + " (checkout, tenant acme); its secret is in " + file), out());
        assertEquals(SECRET + "\n", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void keysCreateNeverOverwritesAndRevokesAKeyWhoseSecretCouldNotBeKept() throws IOException {
        Path taken = dir.resolve("taken.key");
        Files.writeString(taken, "precious\n");
        assertEquals(1, run(env(), "keys", "create", "--tenant", "acme", "--name", "x", "--out", taken.toString()));
        assertTrue(requests.isEmpty(), "refused before the key was created");
        assertTrue(err().contains(taken + " exists"), err());
        assertEquals("precious\n", Files.readString(taken));

        // the default file appears only once the id is known, so the key is created, then revoked again
        err.reset();
        String id = "key_clash" + ProcessHandle.current().pid();
        Path clash = Path.of(id + ".key").toAbsolutePath();
        cleanUp.add(clash);
        Files.writeString(clash, "precious\n");
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON.replace("key_3f9a00000001", id)));
        answer("DELETE /admin/v1/keys/" + id, 200, KEY_JSON.replace("key_3f9a00000001", id));

        assertEquals(1, run(env(), "keys", "create", "--tenant", "acme", "--name", "x"));
        assertEquals(
                List.of("POST", "DELETE"),
                requests.stream().map(Request::method).toList());
        assertEquals("/admin/v1/keys/" + id, requests.get(1).path());
        assertTrue(err().contains("was revoked again"), err());
        assertEquals("precious\n", Files.readString(clash));
        assertFalse(out().contains(SECRET) || err().contains(SECRET));
    }

    @Test
    void keysCreateWithPrintPrintsJustTheSecret() throws IOException {
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON));
        assertEquals(0, run(env(), "keys", "create", "--tenant", "acme", "--name", "checkout", "--print"));
        assertEquals(SECRET + "\n", out());
        try (var files = Files.list(Path.of(""))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".key")));
        }
    }

    @Test
    void keysCreateOnATerminalPrintsTheSecretOnce() {
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON));
        assertEquals(
                0, run(env(), new FakeTerminal(""), "", "keys", "create", "--tenant", "acme", "--name", "checkout"));
        String o = out();
        assertTrue(o.startsWith("id:            key_3f9a00000001\n"), o);
        assertTrue(o.contains("daily budget:  $5.00\n"), o);
        assertTrue(o.contains("models:        sim/alpha,openai/*\n"), o);
        assertTrue(o.endsWith("Secret, shown once (only its SHA-256 is kept; store it now):\n  " + SECRET + "\n"), o);
        assertEquals(1, o.split(SECRET, -1).length - 1);
    }

    @Test
    void keysCreateAsJsonOffATerminalNamesTheFileInsteadOfTheSecret() throws IOException {
        answer("POST /admin/v1/tenants/acme/keys", 201, withSecret(KEY_JSON));
        Path file = dir.resolve("k");
        assertEquals(
                0,
                run(
                        env(),
                        "keys",
                        "create",
                        "--tenant",
                        "acme",
                        "--name",
                        "checkout",
                        "--json",
                        "--out",
                        file.toString()));
        JsonNode printed = Json.MAPPER.readTree(out());
        assertNull(printed.get("key"));
        assertEquals(
                file.toAbsolutePath().normalize().toString(),
                printed.get("key_file").asText());
        assertEquals("key_3f9a00000001", printed.get("id").asText());
        assertFalse(out().contains(SECRET));
        assertEquals(SECRET + "\n", Files.readString(file));
    }

    @Test
    void keysUpdateSendsOnlyTheFieldsGivenAndNullForNoBudget() throws IOException {
        answer("PATCH /admin/v1/keys/key_3f9a00000001", 200, KEY_JSON);

        assertEquals(
                0,
                run(
                        env(),
                        "keys",
                        "update",
                        "key_3f9a00000001",
                        "--budget-usd",
                        "none",
                        "--rpm",
                        "none",
                        "--models",
                        "all"));
        Request r = only();
        assertEquals("PATCH", r.method());
        assertEquals(Json.MAPPER.readTree("{\"daily_budget_usd\":null,\"rpm\":0,\"allowed_models\":[]}"), r.json());
        assertTrue(out().contains("tenant:        acme\n"), out());

        requests.clear();
        assertEquals(
                0,
                run(
                        env(),
                        "keys",
                        "update",
                        "key_3f9a00000001",
                        "--budget-usd=$0.50",
                        "--name",
                        "renamed",
                        "--tpm",
                        "1000",
                        "--time-zone",
                        "Asia/Tokyo"));
        JsonNode body = only().json();
        assertEquals(
                0, new BigDecimal("0.50").compareTo(body.get("daily_budget_usd").decimalValue()));
        assertTrue(body.get("daily_budget_usd").isNumber());
        assertEquals("renamed", body.get("name").asText());
        assertEquals(1000, body.get("tpm").asLong());
        assertEquals("Asia/Tokyo", body.get("time_zone").asText());
        assertEquals(4, body.size());
    }

    @Test
    void keysShowRevokeAndUsage() {
        answer("GET /admin/v1/keys/key_3f9a00000001", 200, KEY_JSON);
        answer(
                "DELETE /admin/v1/keys/key_3f9a00000001",
                200,
                KEY_JSON.replace("\"revoked_at\":null", "\"revoked_at\":\"2025-03-04T05:06:07.890Z\""));
        answer("GET /admin/v1/keys/key_3f9a00000001/usage", 200, """
                {"object":"usage","key_id":"key_3f9a00000001","key_name":"checkout","day":"2025-03-04",
                 "time_zone":"Europe/Berlin","spent_usd":0.125,"reserved_usd":0.0,"requests":3,"daily_budget_usd":5,
                 "remaining_usd":4.875,"rpm_limit":600,"tpm_limit":0,"resets_at":"2025-03-04T23:00:00Z"}""");

        assertEquals(0, run(env(), "keys", "show", "key_3f9a00000001"));
        assertEquals("""
                id:            key_3f9a00000001
                name:          checkout
                tenant:        acme
                kind:          api
                daily budget:  $5.00
                rpm:           600
                tpm:           200000
                models:        sim/alpha,openai/*
                time zone:     Europe/Berlin
                source:        admin
                created:       2025-03-01T10:11:12Z
                revoked:       -
                """, out());

        out.reset();
        assertEquals(0, run(env(), "keys", "revoke", "key_3f9a00000001"));
        assertEquals("revoked key key_3f9a00000001 (checkout, tenant acme) at 2025-03-04T05:06:07Z\n", out());

        out.reset();
        assertEquals(0, run(env(), "keys", "usage", "key_3f9a00000001"));
        assertEquals("""
                key:           key_3f9a00000001 (checkout)
                day:           2025-03-04 (Europe/Berlin)
                spent:         $0.125
                reserved:      $0.00
                requests:      3
                daily budget:  $5.00
                remaining:     $4.875
                rpm limit:     600
                tpm limit:     none
                resets at:     2025-03-04T23:00:00Z
                """, out());
        assertEquals(
                List.of(
                        "GET /admin/v1/keys/key_3f9a00000001",
                        "DELETE /admin/v1/keys/key_3f9a00000001",
                        "GET /admin/v1/keys/key_3f9a00000001/usage"),
                requests.stream().map(r -> r.method() + " " + r.path()).toList());
    }

    @Test
    void idsAreEncodedIntoThePath() {
        assertEquals(1, run(env(), "keys", "show", "../tenants/x?y"));
        assertEquals("/admin/v1/keys/..%2Ftenants%2Fx%3Fy", only().path());
    }

    // ---- providers ----

    @Test
    void providersSetReadsTheKeyFromStdinAndNeverPrintsIt() throws IOException {
        answer("PUT /admin/v1/tenants/acme/providers/openai", 201, """
                {"object":"provider_key","tenant":"acme","provider":"openai","fingerprint":"sha256:1a2b3c4d","created_at":"2025-03-01T00:00:00Z","source":"admin"}""");

        assertEquals(
                0, run(env(), Terminal.NONE, PROVIDER_SECRET + "\n", "providers", "set", "openai", "--tenant", "acme"));
        Request r = only();
        assertEquals("PUT", r.method());
        assertEquals("/admin/v1/tenants/acme/providers/openai", r.path());
        assertEquals(Json.MAPPER.readTree("{\"api_key\":\"" + PROVIDER_SECRET + "\"}"), r.json());
        assertEquals("set tenant acme's key for provider openai (sha256:1a2b3c4d)\n", out());
        assertFalse(err().contains(PROVIDER_SECRET));
    }

    @Test
    void providersSetReadsTheKeyFromTheNamedVariableOrTheTerminalWithoutEcho() throws IOException {
        answer("PUT /admin/v1/tenants/acme/providers/openai", 200, """
                {"object":"provider_key","tenant":"acme","provider":"openai","fingerprint":"sha256:1a2b3c4d","source":"admin"}""");

        Map<String, String> env = new HashMap<>(env());
        env.put("OPENAI_API_KEY", PROVIDER_SECRET);
        assertEquals(0, run(env, "providers", "set", "openai", "--tenant", "acme", "--from-env", "OPENAI_API_KEY"));
        assertEquals(PROVIDER_SECRET, only().json().get("api_key").asText());
        assertEquals(
                "set tenant acme's key for provider openai (sha256:1a2b3c4d), replacing the previous one\n", out());

        requests.clear();
        FakeTerminal t = new FakeTerminal(PROVIDER_SECRET);
        assertEquals(0, run(env(), t, "", "providers", "set", "openai", "--tenant", "acme"));
        assertEquals(PROVIDER_SECRET, only().json().get("api_key").asText());
        assertEquals(List.of("API key for provider openai of tenant acme (not shown): "), t.prompts);
        assertFalse(out().contains(PROVIDER_SECRET) || err().contains(PROVIDER_SECRET));
    }

    @Test
    void providersSetHidesTheKeyEvenWhenAnErrorRepeatsIt() {
        answer(
                "PUT /admin/v1/tenants/acme/providers/openai",
                400,
                "{\"error\":{\"message\":\"api_key: '" + PROVIDER_SECRET
                        + "' (expected: sk-...)\",\"type\":\"invalid_request_error\"}}");
        assertEquals(1, run(env(), Terminal.NONE, PROVIDER_SECRET, "providers", "set", "openai", "--tenant", "acme"));
        assertEquals("brainstorm-proxy: api_key: '[the provider key]' (expected: sk-...)\n", err());
    }

    @Test
    void providersSetRefusesAnEmptyOrMultiLineKey() {
        assertThrows(
                Main.UsageException.class,
                () -> run(env(), Terminal.NONE, "\n", "providers", "set", "openai", "--tenant", "acme"));
        assertThrows(
                Main.UsageException.class,
                () -> run(env(), Terminal.NONE, "sk-a\nsk-b\n", "providers", "set", "openai", "--tenant", "acme"));
        assertThrows(
                Main.UsageException.class,
                () -> run(env(), "providers", "set", "openai", "--tenant", "acme", "--from-env", "NOT_SET"));
        assertTrue(requests.isEmpty());
    }

    @Test
    void providersListShowsEveryAccountAndTheTenantsFingerprints() {
        answer(
                "GET /admin/v1/whoami",
                200,
                "{\"object\":\"principal\",\"role\":\"tenant_admin\",\"tenant\":\"acme\",\"key_id\":\"key_1\"}");
        answer("GET /admin/v1/tenants/acme/providers", 200, """
                {"object":"list","data":[{"object":"provider_key","tenant":"acme","provider":"openai",
                 "fingerprint":"sha256:1a2b3c4d","created_at":"2025-03-01T00:00:00Z","source":"admin"}],
                 "providers":["openai","groq"]}""");

        assertEquals(0, run(env(), "providers", "list"));
        assertEquals(
                List.of("/admin/v1/whoami", "/admin/v1/tenants/acme/providers"),
                requests.stream().map(Request::path).toList());
        assertEquals("""
                PROVIDER  KEY              SOURCE  CREATED
                groq      -                -       -
                openai    sha256:1a2b3c4d  admin   2025-03-01T00:00:00Z
                """, out());
    }

    @Test
    void theSuperAdminMustNameTheTenant() {
        answer(
                "GET /admin/v1/whoami",
                200,
                "{\"object\":\"principal\",\"role\":\"super_admin\",\"tenant\":null,\"key_id\":null}");
        Main.UsageException e =
                assertThrows(Main.UsageException.class, () -> run(env(), "providers", "delete", "openai"));
        assertTrue(e.getMessage().contains("--tenant"), e.getMessage());
    }

    @Test
    void providersDelete() {
        answer(
                "DELETE /admin/v1/tenants/acme/providers/openai",
                200,
                "{\"object\":\"provider_key\",\"provider\":\"openai\",\"deleted\":true}");
        assertEquals(0, run(env(), "providers", "delete", "openai", "--tenant", "acme"));
        assertEquals("DELETE", only().method());
        assertEquals("deleted tenant acme's key for provider openai\n", out());
    }

    // ---- mistakes ----

    @Test
    void commandLineMistakesAreUsageErrorsBeforeAnyRequest() {
        List<String[]> mistakes = List.of(
                new String[] {"keys"},
                new String[] {"keys", "frobnicate"},
                new String[] {"tenants", "create"},
                new String[] {"tenants", "create", "Acme!"},
                new String[] {"tenants", "show", "acme", "extra"},
                new String[] {"tenants", "list", "--bogus", "1"},
                new String[] {"tenants", "list", "--json=yes"},
                new String[] {"keys", "create", "--tenant", "acme"},
                new String[] {"keys", "create", "--tenant", "acme", "--name"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--budget-usd", "five"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--budget-usd", "-1"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--rpm", "-1"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--rpm", "99999999999"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--models", ","},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--time-zone", "Mars/Olympus"},
                new String[] {"keys", "create", "--tenant", "acme", "--name", "x", "--print", "--out", "f"},
                new String[] {"keys", "create", "--tenant", "Acme", "--name", "x"},
                new String[] {"keys", "update", "key_1"},
                new String[] {"keys", "update", "key_1", "--admin"},
                new String[] {"keys", "list", "--tenant", "a/b"},
                new String[] {"providers", "set", "openai", "--tenant", "acme", "--api-key", "sk-x"});
        for (String[] args : mistakes) {
            assertThrows(Main.UsageException.class, () -> run(env(), args), String.join(" ", args));
        }
        assertThrows(
                Main.UsageException.class,
                () -> run(Map.of("BR_ADMIN_URL", "ftp://host", "BR_ADMIN_TOKEN", TOKEN), "tenants", "list"));
        assertThrows(
                Main.UsageException.class,
                () -> run(Map.of("BR_ADMIN_PORT", "http", "BR_ADMIN_TOKEN", TOKEN), "tenants", "list"));
        assertTrue(requests.isEmpty(), requests.toString());
    }

    @Test
    void helpListsTheAdminCommands() {
        assertEquals(0, run(env(), "keys", "--help"));
        assertTrue(out().contains("keys create --tenant T --name NAME"), out());
        assertTrue(out().contains("providers set PROVIDER --tenant T [--from-env VAR]"), out());
        assertTrue(requests.isEmpty());
    }

    private static String withSecret(String keyJson) {
        return keyJson.strip().replaceFirst("}$", ",\"key\":\"" + SECRET + "\"}");
    }
}
