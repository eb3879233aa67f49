package io.brainstorm.proxy.relay;

import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.upstream.UpstreamClient;
import io.brainstorm.proxy.upstream.UpstreamListener;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * The upstream connections an {@link Exchange} uses: {@link UpstreamClient}'s pools in production
 * ({@link #of}); a test hands out channels of its own.
 *
 * <p><b>Threading.</b> Called on the request's event loop, which is also the connections'.
 */
interface Upstreams {
    /**
     * A connection to {@code endpoint}'s origin, opened on {@code loop}.
     *
     * @param fresh a new connection, never a pooled one (the retry after a stale one)
     */
    Future<Channel> acquire(EventLoop loop, Endpoint endpoint, boolean fresh);

    /** Whether {@code ch} served a request before (a kept-alive connection, possibly stale). */
    boolean reused(Channel ch);

    /** Makes {@code listener} the receiver of what {@code ch} reads. */
    void attach(Channel ch, UpstreamListener listener);

    /** Returns a connection whose response was read to the end; pooled when {@code keepAlive}. */
    void release(Channel ch, boolean keepAlive);

    /** Closes a connection without pooling it. */
    void discard(Channel ch);

    /** The pools of {@code client}, with the endpoint's connect and pool-idle timeouts. */
    static Upstreams of(UpstreamClient client) {
        return new Upstreams() {
            @Override
            public Future<Channel> acquire(EventLoop loop, Endpoint endpoint, boolean fresh) {
                int connectMs = (int) Math.min(
                        Integer.MAX_VALUE, endpoint.timeouts().connect().toMillis());
                return client.acquire(
                        loop,
                        endpoint.origin(),
                        connectMs,
                        endpoint.timeouts().poolIdle().toNanos(),
                        fresh);
            }

            @Override
            public boolean reused(Channel ch) {
                return UpstreamClient.reused(ch);
            }

            @Override
            public void attach(Channel ch, UpstreamListener listener) {
                UpstreamClient.attach(ch, listener);
            }

            @Override
            public void release(Channel ch, boolean keepAlive) {
                client.release(ch, keepAlive);
            }

            @Override
            public void discard(Channel ch) {
                UpstreamClient.discard(ch);
            }
        };
    }
}
