package io.brainstorm.proxy.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * A fake upstream for the load benchmark that answers every request with one of two recorded
 * responses: {@code --plain FILE}, or {@code --stream FILE} when the request's {@code Accept} asks
 * for {@code text/event-stream} (the gateway says so for streams, and nginx passes the client's
 * header on). Each file holds one whole HTTP/1.1 response, head and body as sent, recorded from
 * the zero-delay sim by {@code benchmarks/load/run.sh} ({@code curl -si --raw}).
 *
 * <p>Why: the zero-delay sim parses each request and builds its answer, about 25 µs per request on
 * the 2-CPU development box; with the load generator on the same core, that core, not the proxy,
 * limited nginx's req/s at 64 and 256 connections. This server only frames requests
 * ({@link Http1Scanner}) and writes bytes, so the load core keeps up with a proxy on the other.
 *
 * <p>{@code java -cp benchmarks.jar io.brainstorm.proxy.bench.CannedUpstream --port 19090 --plain
 * plain.http --stream stream.http}; prints {@code LISTENING port} when it accepts connections and
 * runs until killed. Loopback only.
 *
 * <p><b>Threading.</b> One event loop; each connection's scanner is confined to it.
 *
 * <p><b>Ownership.</b> The two responses are pooled direct buffers held for the life of the
 * process; each answer writes a retained duplicate, released by the write.
 */
public final class CannedUpstream {
    private CannedUpstream() {}

    public static void main(String[] args) throws Exception {
        int port = -1;
        @Nullable Path plainFile = null;
        @Nullable Path streamFile = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--plain" -> plainFile = Path.of(args[i + 1]);
                case "--stream" -> streamFile = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException(args[i] + " (expected: --port, --plain or --stream)");
            }
        }
        if (port < 1 || port > 65535 || plainFile == null || streamFile == null || args.length % 2 != 0) {
            throw new IllegalArgumentException(
                    "arguments: " + String.join(" ", args) + " (expected: --port 1..65535 --plain FILE --stream FILE)");
        }
        ByteBuf plain = recorded(plainFile);
        ByteBuf stream = recorded(streamFile);

        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerSocketChannel> channelType =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("canned"), io);
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Answerer(plain, stream));
                    }
                })
                .bind("127.0.0.1", port)
                .sync()
                .channel();
        System.out.println("LISTENING " + port);
        System.out.flush();
        server.closeFuture().sync();
    }

    /** Reads a recorded response and checks that it is exactly one whole HTTP/1.1 response. */
    private static ByteBuf recorded(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        int[] ends = {0};
        Http1Scanner check = Http1Scanner.responses();
        ByteBuf view = Unpooled.wrappedBuffer(bytes);
        check.feed(view, new Http1Scanner.Events() {
            @Override
            public void head(int status) {
                if (status < 200 || status > 299) {
                    throw new IllegalStateException(file + ": status " + status + " (expected: 2xx)");
                }
            }

            @Override
            public void bodyStarted() {}

            @Override
            public void end(boolean keepAlive) {
                if (!keepAlive) {
                    throw new IllegalStateException(file + ": Connection: close (expected: a kept-alive response)");
                }
                ends[0]++;
            }
        });
        if (ends[0] != 1) {
            throw new IllegalStateException(
                    file + ": " + ends[0] + " whole responses in " + bytes.length + " bytes (expected: exactly 1)");
        }
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }

    /** Answers each request of one connection as soon as it has been read whole. */
    private static final class Answerer extends ChannelInboundHandlerAdapter implements Http1Scanner.Events {
        private final ByteBuf plain;
        private final ByteBuf stream;
        private final Http1Scanner scanner = Http1Scanner.requests();
        private @Nullable ChannelHandlerContext ctx;

        Answerer(ByteBuf plain, ByteBuf stream) {
            this.plain = plain;
            this.stream = stream;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            this.ctx = ctx; // the one this handler is in; end() writes to it
            scanner.read(msg, this);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush(); // one flush per read: the answers to every request that read completed
        }

        @Override
        public void head(int status) {}

        @Override
        public void bodyStarted() {}

        @Override
        public void end(boolean keepAlive) {
            ChannelHandlerContext c = ctx;
            if (c == null) {
                return;
            }
            ByteBuf answer = (scanner.acceptsEventStream() ? stream : plain).retainedDuplicate();
            if (keepAlive) {
                c.write(answer, c.voidPromise());
            } else {
                c.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
