package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class Http2SettingsDeadlineHandlerTest {
    private static EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new Http2SettingsDeadlineHandler(Duration.ofSeconds(2)));
        return ch;
    }

    private static void advance(EmbeddedChannel ch, long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
    }

    @Test
    void noSettingsWithinTheDeadlineIsGoAwayAndClose() {
        EmbeddedChannel ch = channel();
        advance(ch, 1_900);
        assertTrue(ch.isOpen());
        assertNull(ch.readOutbound());
        advance(ch, 200);
        Http2GoAwayFrame goAway = ch.readOutbound();
        try {
            assertEquals(Http2Error.SETTINGS_TIMEOUT.code(), goAway.errorCode());
        } finally {
            goAway.release();
        }
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void settingsInTimePassOnAndTheHandlerGoes() {
        EmbeddedChannel ch = channel();
        advance(ch, 1_000);
        ch.writeInbound(new DefaultHttp2SettingsFrame(Http2Settings.defaultSettings()));
        assertTrue(ch.readInbound() instanceof Http2SettingsFrame, "the client's SETTINGS pass on");
        assertNull(ch.pipeline().get(Http2SettingsDeadlineHandler.class), "its work is done");
        assertEquals(-1, ch.runScheduledPendingTasks(), "and its timer is cancelled");
        advance(ch, 60_000);
        assertTrue(ch.isOpen());
        assertFalse(ch.finish());
    }
}
