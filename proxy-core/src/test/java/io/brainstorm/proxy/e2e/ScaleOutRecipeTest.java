package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.state.redis.RedisServerFixture;
import io.brainstorm.proxy.testing.ChildJvm;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docs/scale-out.md} followed as a user would: its marked YAML is the config file and its
 * marked gateway commands start the gateways, with only the placeholders the page names replaced
 * (Redis's port {@code 6379}, the provider {@code https://api.openai.com/v1}, the ports
 * {@code 8080}, {@code 8081}, {@code 8090}, {@code 8091} and the state directories). Redis wants
 * the password the page sets, and the environment has the variables the page exports. Then the
 * page's check: the check key's budget holds across both gateways, and both {@code /v1/usage}
 * agree. An edit of the page that breaks the recipe fails here.
 */
class ScaleOutRecipeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BLOCK =
            Pattern.compile("<!-- tested: ([a-z ]+) -->\\s*```(\\w+)\\n(.*?)```", Pattern.DOTALL);
    private static final Map<String, String> PORTS = Map.of("8080", "", "8081", "", "8090", "", "8091", "");

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final List<Process> children = new ArrayList<>();
    private @Nullable RedisServerFixture redis;
    private @Nullable ParkingUpstream upstream;
    private @Nullable String password;

    @TempDir
    Path dir;

    @AfterEach
    void stop() throws Exception {
        children.forEach(Process::destroyForcibly);
        if (upstream != null) {
            upstream.close();
        }
        if (redis != null) {
            if (password != null) {
                // the fixture stops it with SHUTDOWN NOSAVE, which a password would refuse
                try (RedisClient admin = RedisClient.create(authenticated(redis.port(), password));
                        StatefulRedisConnection<String, String> c = admin.connect()) {
                    c.sync().configSet("requirepass", "");
                }
            }
            redis.close();
        }
    }

    private static RedisURI authenticated(int port, String password) {
        return RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withPassword(password.toCharArray())
                .build();
    }

    @Test
    void theRecipesTwoGatewaysHoldOneBudget() throws Exception {
        String page = Files.readString(Path.of(System.getProperty("basedir", "."))
                .resolve("../docs/scale-out.md")
                .normalize());
        String yaml = block(page, "gateway config", "yaml");
        List<String> commands = block(page, "gateway commands", "bash")
                .lines()
                .map(String::strip)
                .filter(l -> l.startsWith("bin/brainstorm-proxy "))
                .toList();
        assertEquals(2, commands.size(), "two gateway commands in the page");

        RedisServerFixture server = RedisServerFixture.start(dir.resolve("redis"), true);
        redis = server;
        String password = HexFormat.of().formatHex(random(24));
        this.password = password;
        try (RedisClient admin = RedisClient.create(server.uri());
                StatefulRedisConnection<String, String> c = admin.connect()) {
            c.sync().configSet("requirepass", password);
        }
        ParkingUpstream up = new ParkingUpstream();
        upstream = up;
        String checkKey = ApiKeys.generate();
        Map<String, String> env = Map.of(
                "REDIS_PASSWORD",
                password,
                "BR_MASTER_KEY",
                Base64.getEncoder().encodeToString(random(32)),
                "OPENAI_API_KEY",
                "sk-recipe-0123456789",
                "CHECK_KEY",
                checkKey,
                "CHECK_KEY_SHA256",
                ApiKeys.sha256(checkKey));

        assertTrue(yaml.contains("127.0.0.1:6379"), "the page's Redis is on 127.0.0.1:6379:\n" + yaml);
        assertTrue(yaml.contains("https://api.openai.com/v1"), "the page's provider is OpenAI:\n" + yaml);
        Path config = dir.resolve("scale-out.yaml");
        Files.writeString(
                config,
                yaml.replace("127.0.0.1:6379", "127.0.0.1:" + server.port())
                        .replace("https://api.openai.com/v1", up.baseUrl()));

        List<String> bases = new ArrayList<>();
        for (String command : commands) {
            bases.add(start(command, config, env));
        }
        for (String base : bases) {
            awaitReady(base);
        }

        // the page's check: the key's requests on both gateways in turn, until both say 402
        BigDecimal told = BigDecimal.ZERO;
        int ok = 0;
        boolean[] spent = new boolean[bases.size()];
        for (int i = 0; i < 200 && !(spent[0] && spent[1]); i++) {
            int g = i % 2;
            HttpResponse<String> r = client.send(
                    HttpRequest.newBuilder(URI.create(bases.get(g) + "/chat/completions"))
                            .header("Authorization", "Bearer " + checkKey)
                            .header("Content-Type", "application/json")
                            .timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                                            + "\"content\":\"Say hello\"}],\"max_tokens\":5}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                ok++;
                told = told.add(new BigDecimal(
                        r.headers().firstValue("x-br-actual-cost").orElseThrow()));
            } else if (r.statusCode() == 402) {
                spent[g] = true;
            } else {
                assertEquals(429, r.statusCode(), r.body());
                assertTrue(r.body().contains("\"budget_busy\""), r.body());
            }
        }
        assertTrue(spent[0] && spent[1], "both gateways refuse once the budget is spent");
        assertTrue(ok >= 3, ok + " answers before the budget ran out");
        JsonNode first = null;
        for (String base : bases) {
            JsonNode u = usage(base, checkKey);
            BigDecimal budget = u.path("daily_budget_usd").decimalValue();
            assertEquals(0, told.compareTo(u.path("spent_usd").decimalValue()), base + ": " + u);
            assertTrue(told.compareTo(budget) <= 0, "spent " + told + " of a budget of " + budget);
            assertEquals(ok, u.path("requests").asInt(), u.toString());
            if (first != null) {
                assertEquals(first.path("key_id"), u.path("key_id"), "one key");
            }
            first = u;
        }
        assertEquals(up.received.get(), ok, "the provider was called only for the answers");
        // and it is Redis that holds it, under the page's key prefix
        try (RedisClient reader = RedisClient.create(authenticated(server.port(), password));
                StatefulRedisConnection<String, String> c = reader.connect()) {
            Matcher prefix = Pattern.compile("key_prefix: \"([^\"]*)\"").matcher(yaml);
            assertTrue(prefix.find(), yaml);
            String record = prefix.group(1) + "budget:{" + first.path("key_id").asText() + "}:"
                    + first.path("day").asText();
            assertEquals(
                    0, told.compareTo(BigDecimal.valueOf(Long.parseLong(c.sync().hget(record, "spent")), 9)), record);
        }
    }

    /** The fenced block of {@code lang} right after {@code <!-- tested: name -->}. */
    private static String block(String page, String name, String lang) {
        Matcher m = BLOCK.matcher(page);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                assertEquals(lang, m.group(2), "the block after <!-- tested: " + name + " -->");
                return m.group(3);
            }
        }
        throw new AssertionError("docs/scale-out.md has no ```" + lang + " block after <!-- tested: " + name + " -->");
    }

    /**
     * Starts the gateway of one of the page's command lines, run as {@code Main} with the line's
     * arguments: its config file, ports and state directory replaced by the test's. Returns its API's base URL.
     */
    private String start(String command, Path config, Map<String, String> env) throws Exception {
        List<String> args =
                new ArrayList<>(List.of(command.replaceAll("\\s*&$", "").split("\\s+")));
        args.remove(0); // bin/brainstorm-proxy: the launcher runs Main with these arguments
        String port = null;
        for (int i = 0; i + 1 < args.size(); i++) {
            String value = args.get(i + 1);
            switch (args.get(i)) {
                case "--config" -> args.set(i + 1, config.toString());
                case "--port", "--admin-port" -> {
                    assertTrue(PORTS.containsKey(value), "a port the page names: " + value);
                    String free = String.valueOf(ChildGateway.freePort());
                    args.set(i + 1, free);
                    if (args.get(i).equals("--port")) {
                        port = free;
                    }
                }
                case "--state-dir" -> args.set(i + 1, dir.resolve(value).toString());
                default -> {}
            }
        }
        assertTrue(port != null, "a --port in " + command);
        Path log = dir.resolve("gateway-" + children.size() + ".log");
        ProcessBuilder pb = ChildJvm.main("io.brainstorm.proxy.cli.Main")
                .args(args.toArray(String[]::new))
                .processBuilder();
        pb.environment().putAll(env);
        children.add(pb.redirectErrorStream(true).redirectOutput(log.toFile()).start());
        return "http://127.0.0.1:" + port + "/v1";
    }

    private void awaitReady(String base) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (Process p : children) {
                assertTrue(p.isAlive(), "a gateway exited: " + logs());
            }
            try {
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(URI.create(base.replace("/v1", "/readyz")))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError(base + " did not become ready in 60 s: " + logs());
    }

    private String logs() throws java.io.IOException {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < children.size(); i++) {
            s.append("\n--- gateway ")
                    .append(i)
                    .append(":\n")
                    .append(Files.readString(dir.resolve("gateway-" + i + ".log")));
        }
        return s.toString();
    }

    private JsonNode usage(String base, String key) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(base + "/usage"))
                        .header("Authorization", "Bearer " + key)
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
