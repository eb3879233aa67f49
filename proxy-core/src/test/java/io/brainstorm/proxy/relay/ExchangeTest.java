package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.admission.Ticket;
import io.brainstorm.proxy.api.Headers;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.ScoringConfig;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.HealthConfig;
import io.brainstorm.proxy.route.InMemoryAnswerLog;
import io.brainstorm.proxy.route.Learning;
import io.brainstorm.proxy.route.LearningSettings;
import io.brainstorm.proxy.route.OutcomeRecorder;
import io.brainstorm.proxy.route.Posterior;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.route.RoutingState;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.Scoring;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.testing.ManualClock;
import io.brainstorm.proxy.testing.TestRouters;
import io.brainstorm.proxy.upstream.Origin;
import io.brainstorm.proxy.upstream.UpstreamListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An {@link Exchange} driven directly, without sockets: the client is an {@link EmbeddedChannel},
 * each upstream connection another one handed out by a fake {@link Upstreams}. The test plays the
 * provider by calling the {@link UpstreamListener} methods as the connection's handler would, and
 * moves the client event loop's clock (which the exchange reads) for the timeouts.
 */
class ExchangeTest {
    private static final String CHAT = "{\"model\":\"sim/alpha\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    private static final String ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"alpha\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"hello\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}";
    private static final Timeouts TIMEOUTS =
            new Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(20));

    private final FlushGate gate = new FlushGate();
    private final EmbeddedChannel client = new EmbeddedChannel(gate, new ChannelInboundHandlerAdapter());
    private final ModelSpec alpha = Catalog.builtIn().find("sim/alpha").orElseThrow();
    private final RoutingState routing =
            new RoutingState(HealthConfig.DEFAULTS, Learning.onHeap(LearningSettings.DEFAULTS), new ManualClock());
    private final Scoring scoring = Scoring.start(ScoringConfig.DEFAULTS);
    private final List<Completion> completions = new ArrayList<>();
    private final List<ChannelFuture> lastWrites = new ArrayList<>();
    private final FakeUpstreams upstreams = new FakeUpstreams();
    private RoutePlan plan;
    private Ticket ticket;

    ExchangeTest() {
        client.freezeTime();
    }

    @AfterEach
    void close() {
        scoring.close();
        for (EmbeddedChannel ch : upstreams.opened) {
            ch.finishAndReleaseAll();
        }
        client.finishAndReleaseAll();
    }

    private Endpoint endpoint(String id) {
        return new Endpoint(
                id, alpha, alpha.price(), new Origin("127.0.0.1", 9, null), "/v1", "sk-" + id, TIMEOUTS, false);
    }

    private Exchange exchange(boolean stream, Endpoint... endpoints) {
        String body = CHAT + (stream ? ",\"stream\":true}" : "}");
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        ParsedRequest request;
        try {
            request = ParsedRequest.parse(ParsedRequest.Kind.CHAT, content);
        } finally {
            content.release();
        }
        plan = new RoutePlan(
                "direct",
                null,
                RouteRequest.builder()
                        .requestId("req_1")
                        .tenant("acme")
                        .model("sim/alpha")
                        .variant("direct")
                        .taskClass(TaskClass.of(false, false, 100))
                        .stream(stream)
                        .estimatedInputTokens(100)
                        .build(),
                List.of(endpoints),
                0.5,
                "",
                Access.all("acme"));
        ticket = TestRouters.admission()
                .admit(ApiKey.of("app", "acme", ApiKeys.sha256(ApiKeys.generate())), plan, request.features());
        Settlement settlement = new Settlement(
                new OutcomeRecorder(routing, new InMemoryAnswerLog()), scoring, completions::add, 2, false);
        return new Exchange(
                client.pipeline().lastContext(),
                upstreams,
                request,
                plan,
                settlement,
                ticket,
                Completion.builder("req_1", now()).key("acme", "key_1").stream(stream),
                false,
                lastWrites::add,
                this::now,
                null);
    }

    private long now() {
        return client.eventLoop().ticker().nanoTime();
    }

    private void advance(Duration d) {
        client.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        client.runScheduledPendingTasks();
    }

    /** The request the exchange sent on the {@code i}th connection. */
    private FullHttpRequest sent(int i) {
        return upstreams.opened.get(i).readOutbound();
    }

    private static FullHttpResponse answer(int status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status),
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        return r;
    }

    private static String chunk(String text) {
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"content\":\"" + text + "\"}}]}\n\n";
    }

    private static HttpContent content(String text, boolean last) {
        ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        return last ? new DefaultLastHttpContent(buf) : new DefaultHttpContent(buf);
    }

    private static String text(HttpContent c) {
        try {
            return c.content().toString(StandardCharsets.UTF_8);
        } finally {
            c.release();
        }
    }

    private static JsonNode json(FullHttpResponse r) throws Exception {
        try {
            return Json.MAPPER.readTree(r.content().toString(StandardCharsets.UTF_8));
        } finally {
            r.release();
        }
    }

    @Test
    void aWholeAnswerIsRelayedWithTheGovernanceHeadersAndTheConnectionGoesBackToThePool() {
        Exchange x = exchange(false, endpoint("east"));
        x.start();
        FullHttpRequest sent = sent(0);
        assertEquals("/v1/chat/completions", sent.uri());
        assertEquals("Bearer sk-east", sent.headers().get(HttpHeaderNames.AUTHORIZATION));
        sent.release();

        x.onUpstreamRead(answer(200, ANSWER));
        x.onUpstreamReadComplete();

        FullHttpResponse r = client.readOutbound();
        assertEquals(200, r.status().code());
        assertEquals("req_1", r.headers().get(Headers.REQUEST_ID));
        assertEquals("sim/alpha", r.headers().get(Headers.SELECTED_MODEL));
        assertEquals("east", r.headers().get(Headers.ENDPOINT));
        assertEquals("direct", r.headers().get(Headers.STRATEGY));
        assertEquals("0.5", r.headers().get(Headers.EFFICIENCY));
        assertEquals("0", r.headers().get(Headers.FALLBACKS));
        assertTrue(r.headers().contains(Headers.ACTUAL_COST));
        assertFalse(r.headers().contains(Headers.COST_ESTIMATED), "the provider reported its usage");
        assertEquals(ANSWER, r.content().toString(StandardCharsets.UTF_8));
        r.release();
        assertEquals(List.of(upstreams.opened.get(0)), upstreams.released, "kept alive for the next request");
        assertTrue(ticket.ended());

        Completion c = completions.get(0);
        assertEquals(200, c.status());
        assertEquals(5, c.promptTokens());
        assertEquals(2, c.completionTokens());
        assertEquals("east", c.endpoint());
        assertEquals(1, completions.size());
        assertEquals(1, lastWrites.size());
        assertFalse(client.finish());
    }

    @Test
    void aStreamIsRelayedEventByEventAndEndsWithXbrAndDone() {
        Exchange x = exchange(true, endpoint("east"));
        x.start();
        FullHttpRequest sent = sent(0);
        assertEquals("text/event-stream", sent.headers().get(HttpHeaderNames.ACCEPT));
        sent.release();

        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
        x.onUpstreamRead(head);
        x.onUpstreamRead(content(chunk("hel"), false));
        x.onUpstreamReadComplete();

        HttpResponse clientHead = client.readOutbound();
        assertEquals(200, clientHead.status().code());
        assertEquals("east", clientHead.headers().get(Headers.ENDPOINT));
        assertEquals(chunk("hel"), text(client.readOutbound()), "the first event leaves at once");
        assertNull(client.readOutbound(), "nothing else yet");

        x.onUpstreamRead(content(chunk("lo") + "data: [DONE]\n\n", true));

        assertEquals(chunk("lo"), text(client.readOutbound()));
        String xbr = text(client.readOutbound());
        assertTrue(xbr.startsWith(": x-br {\"request_id\":\"req_1\""), xbr);
        assertTrue(xbr.contains("\"cost_estimated\":true"), "no usage from the provider: " + xbr);
        assertEquals("data: [DONE]\n\n", text(client.readOutbound()));
        assertInstanceOf(LastHttpContent.class, client.readOutbound());

        Completion c = completions.get(0);
        assertEquals(200, c.status());
        assertTrue(c.stream());
        assertEquals(2, c.completionTokens(), "one token per content event relayed");
        assertTrue(c.ttftMicros() >= 0);
        assertEquals(List.of(upstreams.opened.get(0)), upstreams.released);
        assertFalse(client.finish());
    }

    @Test
    void aFailureBeforeAnyByteFailsOverAndTeachesTheRoutingStateWhichEndpointFailed() {
        Endpoint east = endpoint("east");
        Endpoint west = endpoint("west");
        Exchange x = exchange(false, east, west);
        x.start();
        sent(0).release();

        x.onUpstreamRead(answer(500, "{\"error\":{\"message\":\"boom\"}}"));

        assertNull(client.readOutbound(), "nothing reached the client: the next endpoint is tried");
        assertEquals(List.of(upstreams.opened.get(0)), upstreams.discarded);
        assertEquals(2, upstreams.opened.size());
        sent(1).release();
        x.onUpstreamRead(answer(200, ANSWER));

        FullHttpResponse r = client.readOutbound();
        assertEquals(200, r.status().code());
        assertEquals("west", r.headers().get(Headers.ENDPOINT));
        assertEquals("1", r.headers().get(Headers.FALLBACKS));
        r.release();
        Posterior failed = routing.learning()
                .posterior("acme", east.candidateId(), plan.request().taskClass());
        Posterior answered = routing.learning()
                .posterior("acme", west.candidateId(), plan.request().taskClass());
        assertEquals(Posterior.PRIOR.beta() + 1, failed.beta(), "the failed endpoint's verdict is a 0");
        assertEquals(Posterior.PRIOR.alpha() + 1, answered.alpha(), "the answer's verdict is a 1");
        assertEquals(1, completions.get(0).fallbacks());
        assertFalse(client.finish());
    }

    @Test
    void whenEveryEndpointFailsTheClientGetsOneOpenAiShapedError() throws Exception {
        Exchange x = exchange(false, endpoint("east"));
        x.start();
        sent(0).release();

        x.onUpstreamRead(answer(503, "{}"));

        FullHttpResponse r = client.readOutbound();
        assertEquals(502, r.status().code());
        JsonNode error = json(r).path("error");
        assertEquals("upstream_error", error.path("code").asText());
        assertEquals(
                "The provider failed: east: HTTP 503.", error.path("message").asText());
        assertTrue(ticket.ended(), "nothing billable came back: the hold is freed");
        assertEquals(502, completions.get(0).status());
        assertFalse(client.finish());
    }

    @Test
    void theFirstByteDeadlineEndsAnAttemptThatGetsNoHead() throws Exception {
        Exchange x = exchange(false, endpoint("east"));
        x.start();
        sent(0).release();

        advance(TIMEOUTS.firstByte().minusMillis(1));
        assertNull(client.readOutbound(), "not yet");

        advance(Duration.ofMillis(1));
        FullHttpResponse r = client.readOutbound();
        assertEquals(504, r.status().code());
        assertEquals(
                "The provider failed: east: no response within 2000 ms.",
                json(r).path("error").path("message").asText());
        assertEquals(List.of(upstreams.opened.get(0)), upstreams.discarded);
        assertFalse(client.finish());
    }

    @Test
    void aStreamStopsReadingUpstreamWhileTheClientCannotTakeMore() {
        client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
        Exchange x = exchange(true, endpoint("east"));
        x.start();
        sent(0).release();
        assertEquals(1, upstreams.reads, "the head is asked for");
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");

        gate.closed = true;
        x.onUpstreamRead(head);
        x.onUpstreamRead(content(chunk("hel"), false));
        x.onUpstreamReadComplete();
        assertFalse(client.isWritable());
        assertEquals(1, upstreams.reads, "no read while the client's buffer is full");

        gate.open();
        assertTrue(client.isWritable());
        x.onClientWritable();
        assertEquals(2, upstreams.reads, "reading resumes once the client drained");

        x.onUpstreamRead(content(chunk("lo") + "data: [DONE]\n\n", true));
        assertEquals(1, completions.size());
    }

    @Test
    void aStreamThatBreaksEndsWithOneErrorEventAndNoDone() {
        Exchange x = exchange(true, endpoint("east"));
        x.start();
        sent(0).release();
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
        x.onUpstreamRead(head);
        x.onUpstreamRead(content(chunk("hel"), false));

        x.onUpstreamError(new java.io.IOException("Connection reset by peer"));

        assertInstanceOf(HttpResponse.class, client.readOutbound());
        assertEquals(chunk("hel"), text(client.readOutbound()));
        String error = text(client.readOutbound());
        assertTrue(error.contains("\"finish_reason\":\"error\""), error);
        assertTrue(error.contains("broke: IOException Connection reset by peer"), error);
        assertInstanceOf(LastHttpContent.class, client.readOutbound());
        assertEquals("upstream_error", completions.get(0).errorCode());
        assertTrue(ticket.ended(), "charged for what was relayed");
        assertFalse(client.finish());
    }

    /** Holds flushes while closed, so what the exchange writes stays in the client's outbound buffer. */
    private static final class FlushGate extends ChannelOutboundHandlerAdapter {
        boolean closed;
        private ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (!closed) {
                ctx.flush();
            }
        }

        void open() {
            closed = false;
            ctx.flush();
        }
    }

    /** Hands out a new {@link EmbeddedChannel} per attempt and notes what the exchange does with it. */
    private static final class FakeUpstreams implements Upstreams {
        final List<EmbeddedChannel> opened = new ArrayList<>();
        final List<Channel> released = new ArrayList<>();
        final List<Channel> discarded = new ArrayList<>();
        int reads;

        @Override
        public Future<Channel> acquire(EventLoop loop, Endpoint endpoint, boolean fresh) {
            EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
                @Override
                public void read(ChannelHandlerContext ctx) {
                    // not the read of the embedded channel's own activation: only the exchange's
                    if (opened.contains(ctx.channel())) {
                        reads++;
                    }
                    ctx.read();
                }
            });
            ch.config().setAutoRead(false);
            opened.add(ch);
            return loop.newSucceededFuture(ch);
        }

        @Override
        public boolean reused(Channel ch) {
            return false;
        }

        @Override
        public void attach(Channel ch, UpstreamListener listener) {}

        @Override
        public void release(Channel ch, boolean keepAlive) {
            released.add(ch);
        }

        @Override
        public void discard(Channel ch) {
            discarded.add(ch);
        }
    }
}
