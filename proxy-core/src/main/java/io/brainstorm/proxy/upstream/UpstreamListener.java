package io.brainstorm.proxy.upstream;

import io.netty.handler.codec.http.HttpObject;

/**
 * Receives what one upstream connection reads while it serves one request. All calls arrive on
 * the connection's event loop, which is also the client channel's.
 */
public interface UpstreamListener {
    /** A decoded response part; the listener owns {@code msg} and must release it. */
    void onUpstreamRead(HttpObject msg);

    /** The end of one read batch: the place to flush the client and decide whether to read on. */
    void onUpstreamReadComplete();

    /** The connection closed before the listener detached. */
    void onUpstreamClosed();

    /** The connection failed; it is being closed. */
    void onUpstreamError(Throwable cause);
}
