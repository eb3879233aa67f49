package io.brainstorm.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.cli.AdminCommands.Failure;
import io.brainstorm.proxy.cli.Main.UsageException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The admin API's client for the command line ({@code docs/admin-api.md}): one blocking
 * {@link HttpClient} call per request, {@code Authorization: Bearer} with the admin token.
 *
 * <h2>Where it connects</h2>
 * {@code --admin-url}, else {@code BR_ADMIN_URL}, else {@code http://127.0.0.1:$BR_ADMIN_PORT},
 * else {@code http://127.0.0.1:8081}.
 *
 * <h2>The token</h2>
 * {@code --token-file FILE}, else {@code BR_ADMIN_TOKEN}, else {@code admin-token.txt} in the state
 * directory ({@code --state-dir}, {@code BR_STATE_DIR}, {@code ./state}), where the gateway writes
 * the token it generates when its stdout is not a terminal. It is read only when a request is sent.
 *
 * <h2>Errors</h2>
 * An API error (OpenAI's shape) or a gateway that cannot be reached is a {@link Failure} whose
 * message is printed as it is; a malformed URL or port is a {@link UsageException}. Redirects are
 * not followed, so the token goes nowhere but the URL given.
 */
final class AdminClient {
    static final String ENV_URL = "BR_ADMIN_URL";
    static final String ENV_PORT = "BR_ADMIN_PORT";
    static final String ENV_TOKEN = "BR_ADMIN_TOKEN";
    static final String ENV_STATE_DIR = "BR_STATE_DIR";
    static final String TOKEN_FILE = "admin-token.txt";
    static final int DEFAULT_PORT = 8081;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** An answer of the API with a 2xx status. */
    record Answer(int status, String body, JsonNode json) {}

    private final String baseUrl;
    private final Map<String, String> env;
    private final @Nullable String tokenFile;
    private final @Nullable String stateDir;
    private final HttpClient http;
    private @Nullable String token;
    private @Nullable String tokenSource;

    private AdminClient(
            String baseUrl, Map<String, String> env, @Nullable String tokenFile, @Nullable String stateDir) {
        this.baseUrl = baseUrl;
        this.env = env;
        this.tokenFile = tokenFile;
        this.stateDir = stateDir;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /**
     * @param adminUrl  {@code --admin-url}, or null
     * @param tokenFile {@code --token-file}, or null
     * @param stateDir  {@code --state-dir}, or null
     * @throws UsageException for a malformed URL or {@code BR_ADMIN_PORT}
     */
    static AdminClient of(
            @Nullable String adminUrl, @Nullable String tokenFile, @Nullable String stateDir, Map<String, String> env) {
        return new AdminClient(baseUrl(adminUrl, env), env, tokenFile, stateDir);
    }

    static String baseUrl(@Nullable String adminUrl, Map<String, String> env) {
        String name = "--admin-url";
        String url = adminUrl;
        if (url == null && notEmpty(env.get(ENV_URL))) {
            name = ENV_URL;
            url = env.get(ENV_URL);
        }
        if (url == null) {
            String port = env.get(ENV_PORT);
            if (port == null || port.isEmpty()) {
                return "http://127.0.0.1:" + DEFAULT_PORT;
            }
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new UsageException(ENV_PORT + ": '" + port + "' (expected: a port, 1..65535)");
            }
            return "http://127.0.0.1:" + port;
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            uri = null;
        }
        if (uri == null
                || uri.getHost() == null
                || uri.getQuery() != null
                || uri.getFragment() != null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            throw new UsageException(name + ": '" + url + "' (expected: http://HOST:PORT, e.g. http://127.0.0.1:8081)");
        }
        return url.replaceAll("/+$", "");
    }

    String baseUrl() {
        return baseUrl;
    }

    /** {@code /admin/v1/} followed by {@code segments}, each URL-encoded. */
    static String path(String... segments) {
        StringBuilder p = new StringBuilder("/admin/v1");
        for (String s : segments) {
            String encoded = URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
            // "." and ".." would be resolved away as path steps
            p.append('/').append(encoded.equals(".") || encoded.equals("..") ? encoded.replace(".", "%2E") : encoded);
        }
        return p.toString();
    }

    static String query(String name, String value) {
        return "?" + name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /**
     * Sends one request and returns its 2xx answer.
     *
     * @param body a JSON body, or null for none
     * @throws Failure for an API error, an answer that is not JSON, or a gateway that cannot be reached
     */
    Answer send(String method, String path, @Nullable JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token())
                .header("Accept", "application/json")
                .header("User-Agent", "brainstorm-proxy-cli/" + Main.version());
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            byte[] bytes;
            try {
                bytes = Json.MAPPER.writeValueAsBytes(body);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes));
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            throw new Failure(
                    "the admin API at " + baseUrl + " did not answer within " + REQUEST_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            if (causedBy(e, ConnectException.class)) {
                throw new Failure("cannot reach the admin API at " + baseUrl
                        + ": is the gateway running? (admin listener: --admin-port / " + ENV_PORT + ")");
            }
            throw new Failure("request to the admin API at " + baseUrl + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted");
        }
        int status = response.statusCode();
        JsonNode json = parse(response.body());
        if (status / 100 != 2) {
            throw new Failure(errorMessage(status, json));
        }
        if (json == null) {
            throw new Failure("the admin API at " + baseUrl + " answered HTTP " + status
                    + " without JSON (is it the admin listener?)");
        }
        return new Answer(status, response.body(), json);
    }

    private String errorMessage(int status, @Nullable JsonNode json) {
        JsonNode message = json == null ? null : json.path("error").path("message");
        String text =
                message != null && message.isTextual() && !message.asText().isBlank()
                        ? message.asText()
                        : "the admin API at " + baseUrl + " answered HTTP " + status;
        if (status == 401) {
            text += " (admin token from " + tokenSource + ")";
        }
        return text;
    }

    private static @Nullable JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private String token() {
        String t = token;
        if (t == null) {
            t = loadToken();
            token = t;
            if (!t.matches("[\\x21-\\x7e]+")) {
                throw new Failure(
                        tokenSource + ": not an admin token (expected: letters, digits and symbols, no spaces)");
            }
        }
        return t;
    }

    /** Finds the token and sets {@link #tokenSource}. */
    private String loadToken() {
        if (tokenFile != null) {
            String t = Objects.requireNonNull(readTokenFile(Path.of(tokenFile), true), "a required file is never null");
            tokenSource = tokenFile;
            return t;
        }
        String fromEnv = env.get(ENV_TOKEN);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            tokenSource = ENV_TOKEN;
            return fromEnv.strip();
        }
        String dir = stateDir != null ? stateDir : notEmpty(env.get(ENV_STATE_DIR)) ? env.get(ENV_STATE_DIR) : "state";
        Path file = Path.of(dir).resolve(TOKEN_FILE);
        String t = readTokenFile(file, false);
        if (t == null) {
            throw new Failure("no admin token: set " + ENV_TOKEN + " or pass --token-file FILE. A gateway that"
                    + " generated its token wrote it to " + TOKEN_FILE + " in its state directory (looked for "
                    + file.toAbsolutePath().normalize() + "; --state-dir DIR or " + ENV_STATE_DIR
                    + " if it is elsewhere), or printed it once at its first start when run on a terminal;"
                    + " a tenant admin key ('keys create --admin') works too");
        }
        tokenSource = file.toString();
        return t;
    }

    /** The token in {@code file}; null when it does not exist and {@code required} is false. */
    private static @Nullable String readTokenFile(Path file, boolean required) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            if (required) {
                throw new Failure("--token-file: " + file + " does not exist");
            }
            return null;
        } catch (IOException e) {
            throw new Failure("cannot read the admin token from " + file + ": " + e.getMessage());
        }
        String t = text.strip();
        if (t.isEmpty() || t.contains("\n") || t.contains("\r")) {
            throw new Failure(file + ": not an admin token (expected: the token alone on one line)");
        }
        return t;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean notEmpty(@Nullable String s) {
        return s != null && !s.isEmpty();
    }
}
