package io.brainstorm.proxy.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The HTTP/1.1 server the fake upstreams of the e2e tests stand on: 127.0.0.1, a free port, NIO
 * event loops of its own, and per connection an {@link HttpServerCodec}, a 1 MiB aggregator and the
 * fake's handler. The fakes differ only in what that handler answers.
 */
final class LoopbackHttpServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel channel;

    private LoopbackHttpServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    /** One event loop; {@code handler} makes each connection's last handler. */
    static LoopbackHttpServer start(Supplier<ChannelHandler> handler) throws InterruptedException {
        return start(1, b -> {}, handler);
    }

    /**
     * @param threads event loops serving the connections
     * @param options bootstrap options beyond the defaults (backlog, allocator, ...)
     */
    static LoopbackHttpServer start(int threads, Consumer<ServerBootstrap> options, Supplier<ChannelHandler> handler)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class);
        options.accept(b);
        Channel channel = b.childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024), handler.get());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
        return new LoopbackHttpServer(group, channel);
    }

    /** An event loop of the server's (the only one when it has one). */
    EventLoop loop() {
        return group.next();
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The base URL a provider's {@code base_url} names. */
    String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
