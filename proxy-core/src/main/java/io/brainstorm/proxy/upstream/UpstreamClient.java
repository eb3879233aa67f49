package io.brainstorm.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The proxy→upstream side: opens HTTP/1.1 connections (TLS where the origin is https) on the
 * client channel's event loop and keeps idle ones in a pool per event loop, so a request and its
 * upstream connection never cross threads.
 *
 * <p>Connections run with auto-read off: the request's relay decides when to read, which is how
 * backpressure reaches the provider. Names resolve through Netty's asynchronous DNS resolver.
 *
 * <p><b>Pool.</b> A parked connection leaves its pool as soon as it closes (the server closing an
 * idle keep-alive connection, as providers do after a few seconds), and one parked longer than the
 * caller's idle lifetime is closed instead of handed out. The pool's notes on a connection (origin,
 * reuse, when it was parked) are a channel attribute, so they outlive the pipeline's handlers,
 * which Netty removes when the channel closes.
 *
 * <p><b>Threading:</b> {@link #acquire} and {@link #release} run on the event loop they name;
 * each loop's pool is touched only by that loop (close listeners run on it too).
 */
public final class UpstreamClient implements AutoCloseable {
    static final int MAX_IDLE_PER_ORIGIN = 256;
    private static final String HANDLER = "upstream";
    private static final AttributeKey<PoolNotes> NOTES = AttributeKey.valueOf("br.upstreamPool");

    /** The pool's notes on one connection; touched only on its event loop. */
    private static final class PoolNotes {
        /** Where the connection goes. */
        final Origin origin;
        /** Whether the connection served a request before (kept alive in the pool). */
        boolean reused;
        /** When it was parked in the pool, or -1 while in use. */
        long parkedAt = -1;

        PoolNotes(Origin origin) {
            this.origin = origin;
        }
    }

    private final Class<? extends SocketChannel> channelClass;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final Map<EventLoop, Map<Origin, ArrayDeque<Channel>>> pools = new ConcurrentHashMap<>();
    private final Map<Path, SslContext> sslContexts = new ConcurrentHashMap<>();

    public UpstreamClient(Class<? extends SocketChannel> channelClass, Class<? extends DatagramChannel> datagramClass) {
        this.channelClass = channelClass;
        this.resolver = new DnsAddressResolverGroup(
                new DnsNameResolverBuilder().datagramChannelType(datagramClass).socketChannelType(channelClass));
    }

    /** The TLS context for origins trusting the system CAs plus, when given, the PEM file's. */
    public SslContext sslContext(@Nullable Path caFile) {
        Path key = caFile == null ? Path.of("") : caFile;
        return sslContexts.computeIfAbsent(key, k -> {
            try {
                SslContextBuilder b = SslContextBuilder.forClient()
                        .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                        .endpointIdentificationAlgorithm("HTTPS")
                        .applicationProtocolConfig(new ApplicationProtocolConfig(
                                ApplicationProtocolConfig.Protocol.ALPN,
                                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                                ApplicationProtocolNames.HTTP_1_1));
                if (caFile != null) {
                    b.trustManager(caFile.toFile());
                }
                return b.build();
            } catch (SSLException | IllegalArgumentException e) {
                throw new IllegalStateException(
                        "TLS client context for " + (caFile == null ? "system CAs" : caFile) + ": " + e.getMessage(),
                        e);
            }
        });
    }

    /**
     * A connection to {@code origin} for one request: an idle pooled one if any, else a new one
     * (TLS handshake done). Must be called on {@code loop}.
     *
     * @param maxIdleNanos a pooled connection parked longer than this is closed, not handed out
     *                     (keep it below the server's keep-alive timeout)
     * @param fresh        true: a new connection, never a pooled one (the retry after a stale one)
     * @return the channel, with the pool's {@link UpstreamHandler} last in its pipeline; true in
     *         {@link #reused(Channel)} when it came from the pool
     */
    public Future<Channel> acquire(
            EventLoop loop, Origin origin, int connectTimeoutMillis, long maxIdleNanos, boolean fresh) {
        assert loop.inEventLoop();
        ArrayDeque<Channel> idle =
                fresh ? null : pools.computeIfAbsent(loop, l -> new HashMap<>()).get(origin);
        if (idle != null) {
            long now = System.nanoTime();
            Channel ch;
            while ((ch = idle.pollLast()) != null) {
                PoolNotes notes = ch.attr(NOTES).get();
                long parked = notes.parkedAt;
                notes.parkedAt = -1;
                if (ch.isActive() && handler(ch) != null && parked >= 0 && now - parked < maxIdleNanos) {
                    return loop.newSucceededFuture(ch);
                }
                ch.close();
            }
        }
        Promise<Channel> promise = loop.newPromise();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(resolver)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.attr(NOTES).set(new PoolNotes(origin));
                        ChannelPipeline p = ch.pipeline();
                        SslContext tls = origin.sslContext();
                        if (tls != null) {
                            p.addLast("tls", tls.newHandler(ch.alloc(), origin.host(), origin.port()));
                        }
                        p.addLast("http", new HttpClientCodec(4096, 16384, 16384));
                        p.addLast(HANDLER, new UpstreamHandler());
                    }
                });
        ChannelFuture connect = b.connect(origin.host(), origin.port());
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Channel ch = f.channel();
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            if (tls == null) {
                promise.trySuccess(ch);
                return;
            }
            // the handshake needs reads; auto-read is off
            ch.read();
            tls.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    promise.trySuccess(ch);
                } else {
                    ch.close();
                    promise.tryFailure(h.cause());
                }
            });
        });
        return promise;
    }

    /** Whether the channel was handed out before (a reused keep-alive connection). */
    public static boolean reused(Channel ch) {
        PoolNotes notes = ch.attr(NOTES).get();
        return notes != null && notes.reused;
    }

    /** Makes the request's listener the receiver of what {@code ch} reads. */
    public static void attach(Channel ch, UpstreamListener listener) {
        handler(ch).attach(listener);
    }

    private static UpstreamHandler handler(Channel ch) {
        return (UpstreamHandler) ch.pipeline().get(HANDLER);
    }

    /**
     * Returns a connection whose response was read to the end and that may be kept alive to its
     * loop's pool; any other connection is closed. Must be called on the channel's event loop.
     */
    public void release(Channel ch, boolean keepAlive) {
        UpstreamHandler handler = handler(ch);
        if (handler != null) {
            handler.detach();
        }
        PoolNotes notes = ch.attr(NOTES).get();
        if (!keepAlive || !ch.isActive() || handler == null || notes == null) {
            ch.close();
            return;
        }
        ArrayDeque<Channel> idle = pools.computeIfAbsent(ch.eventLoop(), l -> new HashMap<>())
                .computeIfAbsent(notes.origin, o -> new ArrayDeque<>());
        if (idle.size() >= MAX_IDLE_PER_ORIGIN) {
            ch.close();
            return;
        }
        if (!notes.reused) {
            notes.reused = true;
            // the first park: from now on the connection leaves its pool the moment it closes
            ch.closeFuture().addListener(f -> idle.remove(ch));
        }
        notes.parkedAt = System.nanoTime();
        idle.addLast(ch);
        // a pending read lets a parked connection notice the server closing it
        ch.read();
    }

    /** Discards a connection without pooling it (errors, timeouts, a client gone away). */
    public static void discard(Channel ch) {
        UpstreamHandler handler = handler(ch);
        if (handler != null) {
            handler.detach();
        }
        ch.close();
    }

    @Override
    public void close() {
        resolver.close();
    }
}
