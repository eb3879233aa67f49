package io.brainstorm.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpstreamHandlerTest {

    /** Records every callback; releases what it reads, as the listener owns it. */
    private static final class Recorder implements UpstreamListener {
        final List<String> calls = new ArrayList<>();
        final List<HttpObject> reads = new ArrayList<>();
        Throwable error;

        @Override
        public void onUpstreamRead(HttpObject msg) {
            calls.add("read");
            reads.add(msg);
        }

        @Override
        public void onUpstreamReadComplete() {
            calls.add("readComplete");
        }

        @Override
        public void onUpstreamClosed() {
            calls.add("closed");
        }

        @Override
        public void onUpstreamError(Throwable cause) {
            calls.add("error");
            error = cause;
        }

        void releaseReads() {
            reads.forEach(ReferenceCountUtil::release);
        }
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void withoutListenerAReadIsReleasedAndTheConnectionClosed() {
        UpstreamHandler handler = new UpstreamHandler();
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        ByteBuf stray = text("stray bytes after the response");
        assertFalse(ch.writeInbound(new DefaultHttpContent(stray)), "nothing passes the handler");
        assertEquals(0, stray.refCnt(), "released");
        assertFalse(ch.isOpen(), "an idle pooled connection that reads anything is closed");
        assertFalse(ch.finish());
    }

    @Test
    void nonHttpReadIsReleasedAndClosesEvenWithAListener() {
        UpstreamHandler handler = new UpstreamHandler();
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        Recorder recorder = new Recorder();
        handler.attach(recorder);
        ByteBuf raw = text("not decoded");
        ch.writeInbound(raw);
        assertEquals(0, raw.refCnt());
        assertFalse(ch.isOpen());
        assertFalse(recorder.calls.contains("read"));
        assertFalse(ch.finish());
    }

    @Test
    void readsAndReadCompleteAreForwardedOnceEach() {
        UpstreamHandler handler = new UpstreamHandler();
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        Recorder recorder = new Recorder();
        handler.attach(recorder);
        assertTrue(handler.attached());

        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        DefaultHttpContent body = new DefaultHttpContent(text("data: {}\n\n"));
        assertFalse(ch.writeInbound(head, body), "the listener takes the messages; none go further");
        assertEquals(List.of("read", "read", "readComplete"), recorder.calls);
        assertSame(head, recorder.reads.get(0));
        assertSame(body, recorder.reads.get(1));
        assertEquals(1, body.refCnt(), "ownership passes to the listener untouched");
        recorder.releaseReads();
        assertTrue(ch.isOpen());

        handler.detach();
        assertFalse(handler.attached());
        ch.pipeline().fireChannelReadComplete();
        assertEquals(3, recorder.calls.size(), "a detached listener hears nothing more");
        assertFalse(ch.finish());
        assertEquals(3, recorder.calls.size(), "closing after detach is not reported");
    }

    @Test
    void inactiveIsForwardedOnceAndDetaches() {
        UpstreamHandler handler = new UpstreamHandler();
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        Recorder recorder = new Recorder();
        handler.attach(recorder);
        ch.close();
        assertEquals(List.of("closed"), recorder.calls);
        assertFalse(handler.attached(), "the listener is detached after the connection closed");
        ch.pipeline().fireChannelInactive();
        assertEquals(List.of("closed"), recorder.calls, "told once");
        assertFalse(ch.finish());
    }

    @Test
    void exceptionIsForwardedOnceClosesAndIsTheOnlyEndReported() {
        UpstreamHandler handler = new UpstreamHandler();
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        Recorder recorder = new Recorder();
        handler.attach(recorder);
        IOException reset = new IOException("Connection reset by peer");
        ch.pipeline().fireExceptionCaught(reset);
        assertFalse(ch.isOpen(), "a failed connection is closed, not pooled");
        assertEquals(List.of("error"), recorder.calls, "one end reported: the error, not also the close");
        assertSame(reset, recorder.error);
        assertFalse(handler.attached());
        assertFalse(ch.finish());
    }
}
