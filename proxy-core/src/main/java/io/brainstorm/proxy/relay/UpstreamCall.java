package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.upstream.UpstreamListener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.jspecify.annotations.Nullable;

/**
 * The current attempt's connection to the upstream (proxy→upstream), from the moment
 * {@link Upstreams} hands it over until it goes back to the pool or is closed, and what was read of
 * its response so far.
 *
 * <p><b>Backpressure.</b> Connections run with auto-read off: the next read is issued at the end of
 * a read batch only while the client channel is writable ({@link #readNext}); otherwise it waits
 * for {@link #resume()}.
 *
 * <p><b>Stale connections.</b> A kept-alive connection that fails before any response byte, or
 * with a {@code 408}, was closed by the provider as idle ({@link #stale}).
 *
 * <p><b>Reference counting.</b> Parts of an informational head are released here
 * ({@link #skipInformational}); every other part read is the {@link Exchange}'s.
 *
 * <p><b>Threading.</b> Used on the request's event loop, which is also the connection's.
 */
final class UpstreamCall {
    private final Upstreams upstreams;
    private @Nullable Channel channel;
    private boolean reused;
    private boolean responseStarted;
    /** An informational head (1xx) was read; its parts are dropped up to its last one. */
    private boolean skippingInformational;

    private boolean readPending;
    /** The head of the answer being read, or null. */
    private @Nullable HttpResponse head;

    UpstreamCall(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    /**
     * A connection to {@code endpoint} for the next attempt, on {@code loop}.
     *
     * @param fresh a new one, never a pooled one (the retry after a stale one)
     */
    Future<Channel> acquire(EventLoop loop, Endpoint endpoint, boolean fresh) {
        return upstreams.acquire(loop, endpoint, fresh);
    }

    /** Closes a connection that arrived after the exchange ended. */
    void discardUnused(Channel ch) {
        upstreams.discard(ch);
    }

    /** The attempt's connection is open: what it reads goes to {@code listener} from now on. */
    void open(Channel ch, UpstreamListener listener) {
        channel = ch;
        reused = upstreams.reused(ch);
        responseStarted = false;
        skippingInformational = false;
        upstreams.attach(ch, listener);
    }

    /** The open connection, or null. */
    @Nullable
    Channel channel() {
        return channel;
    }

    /**
     * Drops {@code msg} when it is part of an informational head ({@code 100 Continue},
     * {@code 103 Early Hints}): not the answer, whose head comes after.
     *
     * @return true when {@code msg} was dropped (and released)
     */
    boolean skipInformational(HttpObject msg) {
        if (skippingInformational || msg instanceof HttpResponse h && informational(h)) {
            skippingInformational = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return true;
        }
        return false;
    }

    private static boolean informational(HttpResponse head) {
        int status = head.status().code();
        return status >= 100 && status < 200 && status != 101;
    }

    /** A response head arrived (the answer's, or a failure's). */
    void responseStarted() {
        responseStarted = true;
    }

    /** The head of the answer that is read to its end. */
    void answering(HttpResponse head) {
        this.head = head;
    }

    @Nullable
    HttpResponse head() {
        return head;
    }

    /**
     * Whether a failure while waiting for the answer means the kept-alive connection was stale:
     * nothing read, or a 408 (the provider had closed it as idle); a timeout is never that.
     */
    boolean stale(boolean timeout, int status) {
        return reused && !timeout && (!responseStarted || status == 408);
    }

    /**
     * The end of a read batch: flushes a streaming client and reads on while it can take more,
     * else the read waits for {@link #resume()}.
     */
    void readNext(ChannelHandlerContext client, boolean streaming) {
        if (channel == null) {
            return;
        }
        if (streaming) {
            client.flush();
            if (!client.channel().isWritable()) {
                readPending = true;
                return;
            }
        }
        channel.read();
    }

    /** The client can take more: the read that waited is issued. */
    void resume() {
        if (readPending && channel != null) {
            readPending = false;
            channel.read();
        }
    }

    /** The answer was read to its end: the connection goes back to the pool when the head allows it. */
    void release() {
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            upstreams.release(ch, HttpUtil.isKeepAlive(head));
        }
    }

    /** Closes the connection, if any (errors, timeouts, a client gone away). */
    void discard() {
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            upstreams.discard(ch);
        }
    }

    /** The connection closed or failed by itself: nothing is left to release. */
    void lost() {
        channel = null;
    }

    /** What went wrong with a connection, for the failure's reason: the exception's class and message. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }

    /** The attempt failed: its connection is closed and what was read of its response forgotten. */
    void failed() {
        discard();
        head = null;
        reused = false;
    }
}
