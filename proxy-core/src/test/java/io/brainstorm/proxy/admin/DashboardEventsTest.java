package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.testing.TestRegistries;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DashboardEvents} on an {@link EmbeddedChannel} behind {@link DashboardHandler}, with the
 * connection's writability in the test's hands (a user-defined writability bit): what a page that
 * stopped reading gets when it reads again.
 */
class DashboardEventsTest {
    /** The writability bit the test turns off to stand for a page that does not read. */
    private static final int NOT_READING = 1;

    private static final Pattern DROPPED =
            Pattern.compile("^event: dropped\ndata: \\{\"dropped\":(\\d+)\\}", Pattern.MULTILINE);
    private static final Pattern DATA_ID =
            Pattern.compile("^data: \\{.*?\"request_id\":\"([^\"]+)\"", Pattern.MULTILINE);

    private final Registry registry =
            Registry.inMemory(TestRegistries.bootstrap(List.of(), List.of(), Set.of()), InstantSource.system());
    private final DashboardSessions sessions = new DashboardSessions(() -> registry, InstantSource.system());
    private final LiveFeed feed = new LiveFeed();
    /** Completions made while the stream writes, as other event loops would while a round runs. */
    private final CompletionsDuringWrite during = new CompletionsDuringWrite();

    private final EmbeddedChannel channel =
            new EmbeddedChannel(during, new DashboardHandler(sessions, feed, 30_000, 8080));

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void aPageThatFellBehindIsToldWhatItLostThenGetsTheNewestAndWhatCameAfter() {
        openStream();
        assertEquals("retry: 3000\n\n", readText(), "no replay: nothing happened before");

        reading(false);
        feed.accept(LiveFeedTest.completion("req_0", "acme"));
        channel.runPendingTasks(); // the wake-up's round finds the connection not writable
        assertEquals("", readText(), "nothing is written for a page that does not read");
        int behind = LiveFeed.QUEUE + 100;
        for (int i = 1; i < behind; i++) {
            feed.accept(LiveFeedTest.completion("req_" + i, "acme"));
        }
        // the page starts reading while its queue is still full: a completion now must not be the one lost
        feed.accept(LiveFeedTest.completion("req_after", "acme"));
        reading(true);

        String text = readText();
        assertTrue(
                text.startsWith("event: dropped\ndata: {\"dropped\":101}\n\n"),
                "told first what it lost: " + text.substring(0, Math.min(200, text.length())));
        List<String> expected = new ArrayList<>();
        for (int i = 101; i < behind; i++) {
            expected.add("req_" + i);
        }
        expected.add("req_after");
        assertEquals(expected, requestIds(text), "the newest that waited, in order, then the one after");

        feed.accept(LiveFeedTest.completion("req_later", "acme"));
        channel.runPendingTasks();
        assertEquals(List.of("req_later"), requestIds(readText()), "and the stream goes on");
        assertFalse(channel.finish());
        assertEquals(0, feed.subscribers(), "the closed stream unsubscribed");
    }

    @Test
    void dropsMadeWhileARoundRunsAreToldInThatRound() {
        // room for a whole queue between flushes: the round below ends by emptying the queue, not by
        // filling the connection
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1 << 20, 2 << 20));
        openStream();
        readText();
        int first = 80;
        for (int i = 0; i < first; i++) {
            feed.accept(LiveFeedTest.completion("req_" + i, "acme"));
        }
        // at its first 16 KiB write the round meets a burst bigger than the queue
        int burst = LiveFeed.QUEUE + 10;
        during.next = burst;
        channel.runPendingTasks();
        assertEquals(0, during.next, "the burst came during the round");

        String text = readText();
        List<String> ids = requestIds(text);
        assertEquals("req_burst_" + (burst - 1), ids.get(ids.size() - 1), "the newest arrived");
        long told = dropped(text);
        assertTrue(told > 0, "the burst overflowed the queue, and the round said so");
        assertEquals(
                first + burst,
                ids.size() + told,
                "every completion is either sent or counted as dropped, "
                        + "without waiting for another completion to come: " + ids.size() + " sent, " + told + " told");
        channel.runPendingTasks();
        assertEquals("", readText(), "nothing left over");
        assertFalse(channel.finish());
    }

    /** Logs in as the super-admin and sends {@code GET /dashboard/events} with the session's cookie. */
    private void openStream() {
        String cookie = DashboardSessions.COOKIE + "="
                + sessions.login(TestRegistries.ADMIN_TOKEN).id();
        FullHttpRequest r = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1, HttpMethod.GET, "/dashboard/events", Unpooled.EMPTY_BUFFER);
        r.headers().set("host", "127.0.0.1:8081").set("cookie", cookie);
        channel.writeInbound(r);
        HttpResponse head = channel.readOutbound();
        assertEquals(200, head.status().code());
        assertEquals("text/event-stream; charset=utf-8", head.headers().get("content-type"));
    }

    /** Lets the connection drain (true) or fills it (false), as a page reading or not would. */
    private void reading(boolean reading) {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(NOT_READING, reading);
        channel.runPendingTasks();
    }

    /** What the stream wrote since the last call, each buffer released. */
    private String readText() {
        StringBuilder sb = new StringBuilder();
        for (Object m = channel.readOutbound(); m != null; m = channel.readOutbound()) {
            try {
                sb.append(((HttpContent) m).content().toString(StandardCharsets.UTF_8));
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        return sb.toString();
    }

    private static long dropped(String text) {
        long n = 0;
        Matcher m = DROPPED.matcher(text);
        while (m.find()) {
            n += Long.parseLong(m.group(1));
        }
        return n;
    }

    /** Before the dashboard handler: makes {@link #next} completions when the stream next writes. */
    private final class CompletionsDuringWrite extends ChannelOutboundHandlerAdapter {
        int next;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            int n = next;
            next = 0;
            for (int i = 0; i < n; i++) {
                feed.accept(LiveFeedTest.completion("req_burst_" + i, "acme"));
            }
            ctx.write(msg, promise);
        }
    }

    private static List<String> requestIds(String text) {
        List<String> ids = new ArrayList<>();
        Matcher m = DATA_ID.matcher(text);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }
}
