package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code type: azure} providers end to end: a fake Azure OpenAI on loopback that answers only at
 * the URLs Azure serves ({@code /openai/deployments/<deployment>/...?api-version=...} and
 * {@code /openai/v1/...} with the deployment as the body's model) and only with the key in
 * {@code api-key} (401 otherwise, as Azure does), behind a gateway with one account of each form.
 */
class AzureProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "azkey-" + "Z".repeat(26);
    static final String API_VERSION = "2024-10-21";

    private final HttpClient client =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(String.valueOf(r.getMessage()) + " " + java.util.Arrays.toString(r.getParameters()) + " "
                    + (r.getThrown() == null ? "" : r.getThrown().toString()));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    /** How far the gateway's clock is ahead of the wall clock, for holds that must outlast a default. */
    private final java.util.concurrent.atomic.AtomicLong aheadMillis = new java.util.concurrent.atomic.AtomicLong();

    private FakeAzure azure;
    private GatewayHarness gateway;

    @BeforeEach
    void start() throws Exception {
        Logger.getLogger("").addHandler(capture);
        capture.setLevel(Level.ALL);
        azure = new FakeAzure();
        gateway = new GatewayHarness(
                """
                providers:
                  - name: azure
                    type: azure
                    base_url: http://127.0.0.1:%1$d
                    api_key: %2$s
                    api_version: "%3$s"
                    deployments:
                      openai/gpt-4o-mini: mini-dep
                      openai/text-embedding-3-small: embed-dep
                  - name: azure-v1
                    type: azure
                    base_url: http://127.0.0.1:%1$d/openai/v1
                    api_key: %2$s
                    deployments:
                      openai/gpt-4o: gpt4o-dep
                      gpt-4o-mini: mini-v1
                """.formatted(azure.server.port(), KEY, API_VERSION),
                () -> java.time.Instant.now().plusMillis(aheadMillis.get()));
    }

    @AfterEach
    void stop() {
        Logger.getLogger("").removeHandler(capture);
        if (gateway != null) {
            gateway.close();
        }
        if (azure != null) {
            azure.close();
        }
    }

    @Test
    void aDeploymentIdIsServedAtTheDeploymentUrlWithTheApiKeyHeaderAndCostsItsCatalogPrice() throws Exception {
        HttpResponse<String> r = chat("azure/mini-dep", "Say hello", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("azure", r.headers().firstValue("x-br-endpoint").orElse(null));
        assertEquals(
                "azure/mini-dep", r.headers().firstValue("x-br-selected-model").orElse(null));
        // 10 prompt and 7 completion tokens at gpt-4o-mini's 0.15 / 0.60 USD per million
        assertEquals("0.0000057", r.headers().firstValue("x-br-actual-cost").orElse(null));
        assertEquals(
                "Hello from Azure.",
                JSON.readTree(r.body()).at("/choices/0/message/content").asText());
        Seen s = azure.only();
        assertEquals("/openai/deployments/mini-dep/chat/completions?api-version=" + API_VERSION, s.uri());
        assertEquals(KEY, s.apiKey());
        assertNull(s.authorization(), "the key goes in api-key only");
    }

    @Test
    void theV1FormPutsTheDeploymentInTheBodyAndNeedsNoApiVersion() throws Exception {
        HttpResponse<String> r = chat("gpt-4o", "Say hello", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("azure-v1", r.headers().firstValue("x-br-endpoint").orElse(null));
        assertEquals(
                "openai/gpt-4o", r.headers().firstValue("x-br-selected-model").orElse(null));
        Seen s = azure.only();
        assertEquals("/openai/v1/chat/completions", s.uri());
        assertEquals("gpt4o-dep", s.body().get("model").asText());
        assertEquals(KEY, s.apiKey());
    }

    @Test
    void aStreamIsRelayedFromTheDeploymentUrl() throws Exception {
        HttpResponse<String> r = chat("azure/mini-dep", "Say hello", ",\"stream\":true");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        assertTrue(r.body().contains("\"content\":\"Hello \"") && r.body().contains("from Azure."), r.body());
        assertTrue(r.body().trim().endsWith("data: [DONE]"), r.body());
        assertEquals(
                "/openai/deployments/mini-dep/chat/completions?api-version=" + API_VERSION,
                azure.only().uri());
    }

    @Test
    void embeddingsGoToTheDeploymentsEmbeddingsUrl() throws Exception {
        HttpResponse<String> r = post("/embeddings", "{\"model\":\"azure/embed-dep\",\"input\":\"hello\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(3, JSON.readTree(r.body()).at("/data/0/embedding").size(), r.body());
        assertEquals(
                "/openai/deployments/embed-dep/embeddings?api-version=" + API_VERSION,
                azure.only().uri());
    }

    @Test
    void aFilteredAnswerKeepsItsContentFilterFinishReason() throws Exception {
        HttpResponse<String> r = chat("azure/mini-dep", "FILTER_ANSWER", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(
                "content_filter",
                JSON.readTree(r.body()).at("/choices/0/finish_reason").asText());

        HttpResponse<String> s = chat("azure/mini-dep", "FILTER_ANSWER", ",\"stream\":true");
        assertEquals(200, s.statusCode(), s.body());
        assertTrue(s.body().contains("\"finish_reason\":\"content_filter\""), s.body());
    }

    @Test
    void aFilteredPromptIsAnOpenAiShaped400AndNotFailedOver() throws Exception {
        // gpt-4o-mini has two Azure endpoints; a refused prompt must not be sent to the second
        HttpResponse<String> r = chat("gpt-4o-mini", "FILTER_PROMPT", "");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("content_filter", error.get("code").asText(), r.body());
        assertEquals("invalid_request_error", error.get("type").asText(), r.body());
        assertEquals("prompt", error.get("param").asText(), r.body());
        assertTrue(error.get("message").asText().contains("content management policy"), r.body());
        assertEquals(
                "ResponsibleAIPolicyViolation",
                error.at("/innererror/code").asText(),
                "the filtered categories are kept");
        assertFalse(error.has("status"), r.body());
        assertEquals("0", r.headers().firstValue("x-br-fallbacks").orElse(null));
        assertEquals(1, azure.seen.size(), "one attempt: " + azure.seen);
    }

    @Test
    void aThrottledDeploymentFailsOverAndIsHeldForItsRetryAfterMs() throws Exception {
        // the fake throttles gpt-4o-mini at the deployment form only (retry-after-ms: 60000)
        boolean throttled = false;
        for (int i = 0; i < 12 && !throttled; i++) {
            HttpResponse<String> r = chat("gpt-4o-mini", "THROTTLE", "");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("azure-v1", r.headers().firstValue("x-br-endpoint").orElse(null));
            throttled = azure.seen.stream().anyMatch(s -> s.uri().startsWith("/openai/deployments/"));
            if (throttled) {
                assertEquals("1", r.headers().firstValue("x-br-fallbacks").orElse(null));
            }
        }
        assertTrue(throttled, "the deployment form was never tried: " + azure.seen);
        // 10 s later: past the 5 s a 429 without a readable wait holds a key, within the 60 s asked for
        aheadMillis.set(10_000);
        azure.seen.clear();
        for (int i = 0; i < 6; i++) {
            assertEquals(200, chat("gpt-4o-mini", "THROTTLE", "").statusCode());
        }
        assertTrue(
                azure.seen.stream().noneMatch(s -> s.uri().startsWith("/openai/deployments/")),
                "held for its retry-after-ms: " + azure.seen);
        aheadMillis.set(61_000);
        boolean triedAgain = false;
        for (int i = 0; i < 12 && !triedAgain; i++) {
            assertEquals(200, chat("gpt-4o-mini", "THROTTLE", "").statusCode());
            triedAgain = azure.seen.stream().anyMatch(s -> s.uri().startsWith("/openai/deployments/"));
        }
        assertTrue(triedAgain, "tried again once the 60 s passed: " + azure.seen);
    }

    @Test
    void theApiKeyNeverReachesAnswersLogsOrStateFiles() throws Exception {
        List<HttpResponse<String>> answers = List.of(
                chat("azure/mini-dep", "Say hello", ""),
                chat("azure/mini-dep", "Say hello", ",\"stream\":true"),
                chat("gpt-4o-mini", "FILTER_PROMPT", ""),
                chat("azure/mini-dep", "THROTTLE", ""),
                chat("azure/no-such-dep", "Say hello", ""));
        assertEquals(200, answers.get(0).statusCode(), "the key did reach the upstream");
        for (HttpResponse<String> r : answers) {
            assertFalse(r.body().contains(KEY), r.body());
            assertFalse(r.headers().toString().contains(KEY), r.headers().toString());
        }
        assertFalse(gateway.server.gateway().config().toString().contains(KEY));
        for (String line : logged) {
            assertFalse(line.contains(KEY), line);
        }
        try (Stream<Path> files = Files.walk(gateway.stateDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(text.contains(KEY), f + " holds the Azure key in the clear");
            }
        }
    }

    private HttpResponse<String> chat(String model, String prompt, String extra) throws Exception {
        return post(
                "/chat/completions",
                "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]" + extra
                        + "}");
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + gateway.apiKey)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** One request the fake received. */
    record Seen(
            String uri, @Nullable String apiKey, @Nullable String authorization, JsonNode body) {}

    /**
     * Azure OpenAI as far as the gateway needs it: the deployments {@code mini-dep},
     * {@code embed-dep} (deployment form, {@code api-version} {@value #API_VERSION}) and
     * {@code gpt4o-dep}, {@code mini-v1} (v1 form). A prompt {@code FILTER_PROMPT} gets Azure's
     * content-filter 400, {@code FILTER_ANSWER} a {@code content_filter} finish reason,
     * {@code THROTTLE} a 429 at the deployment form. A request with neither a known key in
     * {@code api-key} nor (without {@code api-key}) a known token in {@code Authorization: Bearer}
     * gets Azure's 401.
     */
    static final class FakeAzure implements AutoCloseable {
        final LoopbackHttpServer server;
        final List<Seen> seen = new CopyOnWriteArrayList<>();
        /** The keys accepted in {@code api-key}: {@link #KEY}, and a test's tenants' own. */
        final java.util.Set<String> keys = new java.util.concurrent.CopyOnWriteArraySet<>(List.of(KEY));
        /** The Microsoft Entra ID tokens accepted in {@code Authorization: Bearer} (when no {@code api-key} came). */
        final java.util.Set<String> tokens = new java.util.concurrent.CopyOnWriteArraySet<>();

        FakeAzure() throws InterruptedException {
            server = LoopbackHttpServer.start(Answer::new);
        }

        Seen only() {
            assertEquals(1, seen.size(), "requests at the fake: " + seen);
            return seen.get(0);
        }

        @Override
        public void close() {
            server.close();
        }

        private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
                String uri = req.uri();
                JsonNode body = JSON.readTree(req.content().toString(StandardCharsets.UTF_8));
                String apiKey = req.headers().get("api-key");
                String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
                seen.add(new Seen(uri, apiKey, authorization, body));
                boolean known = apiKey != null
                        ? keys.contains(apiKey)
                        : authorization != null
                                && authorization.startsWith("Bearer ")
                                && tokens.contains(authorization.substring("Bearer ".length()));
                if (!known) {
                    send(ctx, 401, "application/json", """
                            {"error":{"code":"401","message":"Access denied due to invalid subscription key or \
                            wrong API endpoint."}}""", null);
                    return;
                }
                String deployment;
                String operation;
                boolean deploymentForm = uri.startsWith("/openai/deployments/");
                if (deploymentForm) {
                    String rest = uri.substring("/openai/deployments/".length());
                    int slash = rest.indexOf('/');
                    int query = rest.indexOf('?');
                    if (slash < 0 || query < 0 || !rest.substring(query).equals("?api-version=" + API_VERSION)) {
                        notFound(ctx);
                        return;
                    }
                    deployment = rest.substring(0, slash);
                    operation = rest.substring(slash, query);
                } else if (uri.startsWith("/openai/v1/")) {
                    deployment = body.path("model").asText();
                    operation = uri.substring("/openai/v1".length());
                } else {
                    notFound(ctx);
                    return;
                }
                boolean deployed = deploymentForm
                        ? deployment.equals("mini-dep") || deployment.equals("embed-dep")
                        : deployment.equals("gpt4o-dep") || deployment.equals("mini-v1");
                if (!deployed) {
                    send(ctx, 404, "application/json", """
                            {"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource \
                            does not exist."}}""", null);
                    return;
                }
                if (operation.equals("/embeddings")) {
                    send(ctx, 200, "application/json", """
                            {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],\
                            "model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}""", null);
                    return;
                }
                if (!operation.equals("/chat/completions")) {
                    notFound(ctx);
                    return;
                }
                String prompt = body.at("/messages/0/content").asText();
                if (prompt.equals("FILTER_PROMPT")) {
                    send(ctx, 400, "application/json", """
                            {"error":{"message":"The response was filtered due to the prompt triggering Azure \
                            OpenAI's content management policy.","type":null,"param":"prompt",\
                            "code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation",\
                            "content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}""", null);
                    return;
                }
                if (prompt.equals("THROTTLE") && deploymentForm) {
                    send(ctx, 429, "application/json", """
                            {"error":{"code":"429","message":"Rate limit is exceeded."}}""", "60000");
                    return;
                }
                String finish = prompt.equals("FILTER_ANSWER") ? "content_filter" : "stop";
                String text = prompt.equals("FILTER_ANSWER") ? "" : "from Azure.";
                if (body.path("stream").asBoolean()) {
                    String chunk = "data: {\"id\":\"chatcmpl-az\",\"object\":\"chat.completion.chunk\","
                            + "\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,";
                    send(
                            ctx,
                            200,
                            "text/event-stream",
                            chunk + "\"delta\":{\"role\":\"assistant\",\"content\":\"Hello \"}}]}\n\n"
                                    + chunk + "\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":\""
                                    + finish + "\"}]}\n\n"
                                    + "data: {\"id\":\"chatcmpl-az\",\"object\":\"chat.completion.chunk\","
                                    + "\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],"
                                    + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":7,\"total_tokens\":17}}\n\n"
                                    + "data: [DONE]\n\n",
                            null);
                    return;
                }
                send(
                        ctx,
                        200,
                        "application/json",
                        "{\"id\":\"chatcmpl-az\",\"object\":\"chat.completion\",\"created\":1700000000,"
                                + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                                + "\"assistant\",\"content\":\"" + (text.isEmpty() ? "" : "Hello " + text)
                                + "\"},\"finish_reason\":\"" + finish + "\"}],\"usage\":{\"prompt_tokens\":10,"
                                + "\"completion_tokens\":7,\"total_tokens\":17}}",
                        null);
            }

            private void notFound(ChannelHandlerContext ctx) {
                send(
                        ctx,
                        404,
                        "application/json",
                        "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}",
                        null);
            }

            private void send(
                    ChannelHandlerContext ctx,
                    int status,
                    String contentType,
                    String text,
                    @Nullable String retryAfterMs) {
                ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), text);
                FullHttpResponse r =
                        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
                r.headers()
                        .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                if (retryAfterMs != null) {
                    // Azure also sends retry-after; left out here so that the hold can come from retry-after-ms only
                    r.headers().set("retry-after-ms", retryAfterMs);
                }
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            }
        }
    }
}
