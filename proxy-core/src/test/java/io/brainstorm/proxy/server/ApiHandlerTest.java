package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.config.ConfigLoader;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ApiHandler} behind a {@link RequestAggregator}, as on an HTTP/1.1 connection after the
 * codec: requests go in as the codec's pieces (head, then body), answers come out as
 * {@link FullHttpResponse}s. No endpoint is configured, so nothing ever goes upstream.
 */
class ApiHandlerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 1024;
    private static final String CHAT = "/v1/chat/completions";

    private final String apiKey = ApiKeys.generate();
    private UpstreamClient upstream;
    private Gateway gateway;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        io.brainstorm.proxy.auth.Registry keys = io.brainstorm.proxy.testing.TestRegistries.withKey(apiKey);
        upstream = new UpstreamClient(NioSocketChannel.class, NioDatagramChannel.class);
        gateway = io.brainstorm.proxy.testing.TestRouters.start(
                new Gateway(
                        ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                        keys,
                        upstream),
                io.brainstorm.proxy.testing.TestRouters.empty());
        channel = new EmbeddedChannel(new RequestAggregator(MAX_BODY), new ApiHandler(gateway));
        channel.attr(ServerChannelInitializer.ACTIVE_REQUESTS).set(new AtomicInteger());
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        upstream.close();
    }

    /** A parsed response: status, headers and body, the buffer already released. */
    private record Answer(int status, io.netty.handler.codec.http.HttpHeaders headers, String body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private Answer send(HttpMethod method, String uri, String authorization, String body) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        head.headers().set(HttpHeaderNames.HOST, "gateway");
        if (authorization != null) {
            head.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        }
        LastHttpContent last = LastHttpContent.EMPTY_LAST_CONTENT;
        if (body != null) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            HttpUtil.setContentLength(head, bytes.length);
            last = new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes));
        }
        channel.writeInbound(head, last);
        return readAnswer();
    }

    private Answer get(String uri) {
        return send(HttpMethod.GET, uri, null, null);
    }

    private Answer getWithKey(String uri) {
        return send(HttpMethod.GET, uri, "Bearer " + apiKey, null);
    }

    private Answer chat(String body) {
        return send(HttpMethod.POST, CHAT, "Bearer " + apiKey, body);
    }

    private Answer readAnswer() {
        FullHttpResponse response = channel.readOutbound();
        assertNotNull(response, "a response was written");
        try {
            assertNull(channel.readOutbound(), "exactly one response per request");
            assertEquals(
                    response.content().readableBytes(),
                    response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH, -1),
                    "content-length matches the body");
            return new Answer(
                    response.status().code(),
                    response.headers().copy(),
                    response.content().toString(StandardCharsets.UTF_8));
        } finally {
            response.release();
        }
    }

    /** OpenAI's error shape, exactly: one "error" object with message, type, param and code. */
    private static JsonNode assertOpenAiError(Answer a, int status, String type, String code) throws Exception {
        assertEquals(status, a.status(), a.body());
        assertEquals("application/json", a.headers().get(HttpHeaderNames.CONTENT_TYPE));
        JsonNode root = a.json();
        assertEquals(Set.of("error"), fieldNames(root), a.body());
        JsonNode error = root.get("error");
        assertEquals(Set.of("message", "type", "param", "code"), fieldNames(error), a.body());
        assertEquals(type, error.get("type").asText(), a.body());
        assertEquals(code, error.get("code").asText(), a.body());
        assertTrue(
                error.get("message").isTextual()
                        && !error.get("message").asText().isBlank(),
                a.body());
        return error;
    }

    private static JsonNode assertApiError(Answer a, int status, String type, String code) throws Exception {
        JsonNode error = assertOpenAiError(a, status, type, code);
        String id = a.headers().get(Headers.REQUEST_ID);
        assertNotNull(id, "an API error names its request id");
        assertTrue(id.matches("req_[0-9A-Za-z]{24}"), id);
        return error;
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The connection is still usable after an answer: the next request on it is served. */
    private void assertKeepsServing() throws Exception {
        assertTrue(channel.isOpen(), "the connection stays open");
        assertTrue(channel.config().isAutoRead(), "reading resumes after the answer");
        Answer a = get("/healthz");
        assertEquals(200, a.status());
        assertEquals("ok", a.json().get("status").asText());
        assertEquals(
                0, channel.attr(ServerChannelInitializer.ACTIVE_REQUESTS).get().get(), "no request in flight");
        assertEquals(0, gateway.inFlight());
    }

    @Test
    void healthz() throws Exception {
        Answer a = get("/healthz");
        assertEquals(200, a.status());
        assertEquals("application/json", a.headers().get(HttpHeaderNames.CONTENT_TYPE));
        assertEquals("ok", a.json().get("status").asText());
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void healthzWithQueryString() throws Exception {
        assertEquals(200, get("/healthz?probe=k8s").status());
        assertFalse(channel.finish());
    }

    @Test
    void apiCallsAre503WhileRoutesAreBeingBuilt() throws Exception {
        io.brainstorm.proxy.auth.Registry keys = io.brainstorm.proxy.testing.TestRegistries.withKey(apiKey);
        Gateway starting = new Gateway(
                ConfigLoader.load("sim:\n  enabled: false\nstate_store: memory\n", Path.of("."), Map.of()),
                keys,
                upstream);
        channel.finishAndReleaseAll();
        channel = new EmbeddedChannel(new RequestAggregator(MAX_BODY), new ApiHandler(starting));
        channel.attr(ServerChannelInitializer.ACTIVE_REQUESTS).set(new AtomicInteger());

        assertEquals(200, get("/healthz").status(), "liveness answers at once");
        Answer models = getWithKey("/v1/models");
        assertEquals(503, models.status());
        assertEquals("1", models.headers().get(HttpHeaderNames.RETRY_AFTER));
        assertEquals("api_error", models.json().path("error").path("type").asText());
        Answer chat = send(
                HttpMethod.POST,
                CHAT,
                "Bearer " + apiKey,
                "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(503, chat.status());

        io.brainstorm.proxy.testing.TestRouters.start(starting, io.brainstorm.proxy.testing.TestRouters.empty());
        assertEquals(200, getWithKey("/v1/models").status(), "routable once the routes exist");
    }

    @Test
    void readyzIs503UntilTheGatewayIsReady() throws Exception {
        Answer before = get("/readyz");
        assertEquals(503, before.status());
        assertEquals("starting", before.json().get("status").asText());

        gateway.markReady();
        Answer after = get("/readyz");
        assertEquals(200, after.status());
        assertEquals("ready", after.json().get("status").asText());
        assertFalse(channel.finish());
    }

    @Test
    void modelsWithoutKeyIs401() throws Exception {
        assertApiError(get("/v1/models"), 401, "authentication_error", "invalid_api_key");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void malformedBearerIs401() throws Exception {
        for (String auth : List.of(
                "Basic dXNlcjpwYXNz",
                "Bearer",
                "Bearer not-a-key",
                apiKey,
                "Bearer " + apiKey.substring(0, apiKey.length() - 1))) {
            assertApiError(
                    send(HttpMethod.GET, "/v1/models", auth, null), 401, "authentication_error", "invalid_api_key");
        }
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void unknownKeyIs401WithoutEchoingTheKey() throws Exception {
        String unknown = ApiKeys.generate();
        JsonNode error = assertApiError(
                send(HttpMethod.GET, "/v1/models", "Bearer " + unknown, null),
                401,
                "authentication_error",
                "invalid_api_key");
        String message = error.get("message").asText();
        assertFalse(message.contains(unknown), message);
        assertFalse(message.contains(unknown.substring(ApiKeys.PREFIX.length())), message);
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void modelsWithKeyListsNothingWithoutEndpoints() throws Exception {
        Answer a = getWithKey("/v1/models");
        assertEquals(200, a.status());
        assertEquals(JSON.readTree("{\"object\":\"list\",\"data\":[]}"), a.json());
        assertFalse(channel.finish());
    }

    @Test
    void oneModelWithoutEndpointIs404() throws Exception {
        assertApiError(getWithKey("/v1/models/sim%2Falpha"), 404, "invalid_request_error", "model_not_found");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void badJsonIs400() throws Exception {
        JsonNode error = assertApiError(
                chat("{\"model\": \"sim/alpha\", \"messages\": ["), 400, "invalid_request_error", "invalid_request");
        assertTrue(error.get("param").isNull());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void emptyBodyIs400() throws Exception {
        assertApiError(
                send(HttpMethod.POST, CHAT, "Bearer " + apiKey, null), 400, "invalid_request_error", "invalid_request");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void missingMessagesIs400NamingTheParam() throws Exception {
        JsonNode error =
                assertApiError(chat("{\"model\":\"sim/alpha\"}"), 400, "invalid_request_error", "invalid_request");
        assertEquals("messages", error.get("param").asText());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void authenticationComesBeforeParsing() throws Exception {
        assertApiError(send(HttpMethod.POST, CHAT, null, "{not json"), 401, "authentication_error", "invalid_api_key");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void modelWithoutEndpointIs404() throws Exception {
        JsonNode error = assertApiError(chat(chatBody("sim/alpha")), 404, "invalid_request_error", "model_not_found");
        assertEquals("model", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("sim/alpha"), error.toString());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void unknownModelIs404() throws Exception {
        JsonNode error =
                assertApiError(chat(chatBody("nobody/nothing")), 404, "invalid_request_error", "model_not_found");
        assertTrue(error.get("message").asText().contains("nobody/nothing"), error.toString());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void unknownVariantIs404NamingTheVariantsThereAre() throws Exception {
        JsonNode error =
                assertApiError(chat(chatBody("sim/alpha:nosuch")), 404, "invalid_request_error", "model_not_found");
        String message = error.get("message").asText();
        assertTrue(message.contains("':nosuch' does not exist") && message.contains("Variants:"), message);
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void openRouterFreeVariantIs404NamingTheNearest() throws Exception {
        JsonNode error =
                assertApiError(chat(chatBody("sim/alpha:free")), 404, "invalid_request_error", "model_not_found");
        String message = error.get("message").asText();
        assertTrue(message.contains("sim/alpha:floor"), message);
        assertFalse(channel.finish());
    }

    @Test
    void autoWithNoRoutableModelIs404() throws Exception {
        JsonNode error = assertApiError(chat(chatBody("auto")), 404, "invalid_request_error", "model_not_found");
        assertTrue(error.get("message").asText().contains("auto"), error.toString());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void getOnChatCompletionsIs405() throws Exception {
        Answer answer = getWithKey(CHAT);
        JsonNode error = assertApiError(answer, 405, "invalid_request_error", "method_not_allowed");
        assertTrue(error.get("message").asText().contains("POST"), error.toString());
        assertEquals("POST", answer.headers().get(HttpHeaderNames.ALLOW));
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void postOnHealthzIs405() throws Exception {
        assertOpenAiError(
                send(HttpMethod.POST, "/healthz", null, "{}"), 405, "invalid_request_error", "method_not_allowed");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void unsupportedPathIs404NamingWhatIsSupported() throws Exception {
        JsonNode error = assertApiError(
                send(HttpMethod.POST, "/v1/responses", "Bearer " + apiKey, "{}"),
                404,
                "invalid_request_error",
                "not_found");
        String message = error.get("message").asText();
        assertTrue(message.contains("/v1/responses") && message.contains("/v1/chat/completions"), message);
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void errorMessagesAreEscapedJson() throws Exception {
        // the path is echoed in the message; quotes and backslashes must not break the JSON
        JsonNode error = assertApiError(get("/v1/\"quoted\"\\path"), 404, "invalid_request_error", "not_found");
        assertTrue(error.get("message").asText().contains("/v1/\"quoted\"\\path"), error.toString());
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void bodyOverTheLimitWithContentLengthIs413AndCloses() throws Exception {
        Answer a = chat(bigChatBody());
        assertApiError(a, 413, "invalid_request_error", "request_too_large");
        assertEquals("close", a.headers().get(HttpHeaderNames.CONNECTION));
        assertFalse(channel.isOpen(), "the rest of the body was not read, so the connection closes");
        assertEquals(0, gateway.inFlight());
        assertFalse(channel.finish());
    }

    @Test
    void chunkedBodyOverTheLimitIs413AndCloses() throws Exception {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, CHAT);
        head.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        HttpUtil.setTransferEncodingChunked(head, true);
        byte[] bytes = bigChatBody().getBytes(StandardCharsets.UTF_8);
        ByteBuf first = Unpooled.wrappedBuffer(bytes, 0, MAX_BODY / 2);
        ByteBuf second = Unpooled.wrappedBuffer(bytes, MAX_BODY / 2, bytes.length - MAX_BODY / 2);
        channel.writeInbound(head, new DefaultHttpContent(first), new DefaultLastHttpContent(second));
        Answer a = readAnswer();
        assertApiError(a, 413, "invalid_request_error", "request_too_large");
        assertFalse(channel.isOpen());
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void expectContinueOverTheLimitIs413InOpenAiShapeAndCloses() throws Exception {
        // curl sends Expect: 100-continue for large bodies and waits before sending them
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, CHAT);
        head.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);
        HttpUtil.setContentLength(head, 10 * MAX_BODY);
        channel.writeInbound(head);
        Answer a = readAnswer();
        assertApiError(a, 413, "invalid_request_error", "request_too_large");
        assertFalse(channel.isOpen(), "the body was refused, so the connection closes");
        assertFalse(channel.finish());
    }

    @Test
    void unsupportedExpectationIs417InOpenAiShapeAndCloses() throws Exception {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, CHAT);
        head.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        head.headers().set(HttpHeaderNames.EXPECT, "teapot");
        HttpUtil.setContentLength(head, 10);
        channel.writeInbound(head);
        assertOpenAiError(readAnswer(), 417, "invalid_request_error", "invalid_request");
        assertFalse(channel.isOpen(), "the body that may follow is not read, so the connection closes");
        assertFalse(channel.finish());
    }

    @Test
    void expectContinueWithinTheLimitIsContinuedThenAnswered() throws Exception {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, CHAT);
        head.headers().set(HttpHeaderNames.HOST, "gateway");
        head.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        head.headers().set(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE);
        byte[] body = chatBody("sim/alpha").getBytes(StandardCharsets.UTF_8);
        HttpUtil.setContentLength(head, body.length);
        channel.writeInbound(head);
        FullHttpResponse cont = channel.readOutbound();
        try {
            assertEquals(100, cont.status().code());
        } finally {
            cont.release();
        }
        channel.writeInbound(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body)));
        assertApiError(readAnswer(), 404, "invalid_request_error", "model_not_found");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void bodyAtTheLimitIsParsed() throws Exception {
        String body = chatBody("sim/alpha");
        body = body.substring(0, body.length() - 1) + ",\"pad\":\"" + "x".repeat(MAX_BODY - body.length() - 9) + "\"}";
        assertEquals(MAX_BODY, body.getBytes(StandardCharsets.UTF_8).length);
        assertApiError(chat(body), 404, "invalid_request_error", "model_not_found");
        assertKeepsServing();
        assertFalse(channel.finish());
    }

    @Test
    void whileDrainingTheAnswerClosesTheConnection() throws Exception {
        gateway.markReady();
        gateway.startDraining();
        Answer a = get("/readyz");
        assertEquals(503, a.status(), "a draining gateway is not ready");
        assertEquals("close", a.headers().get(HttpHeaderNames.CONNECTION));
        assertFalse(channel.isOpen(), "the client reconnects to another instance");
        assertEquals(0, gateway.inFlight());
        assertFalse(channel.finish());
    }

    private static String chatBody(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private static String bigChatBody() {
        return "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(MAX_BODY)
                + "\"}]}";
    }
}
