package io.brainstorm.proxy.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible upstream that treats keep-alive connections the way real servers do (Node's
 * {@code http} server closes one idle for {@code keepAliveTimeout}, 5 s by default): each connection
 * is closed {@link #idleCloseMillis} after its last response unless another request came first.
 * It writes its responses as raw bytes split at random points, some preceded by a
 * {@code 103 Early Hints} head, and answers streamed requests with SSE.
 *
 * <p>What it does with a request on a connection that served one before is set with
 * {@link #onReuse}: answer it, close the connection without a word (the server closed it as the
 * request arrived), or answer {@code 408} and close. {@link #hang} leaves every request unanswered.
 */
final class KeepAliveUpstream implements AutoCloseable {
    enum OnReuse {
        ANSWER,
        CLOSE,
        REQUEST_TIMEOUT
    }

    private static final AttributeKey<Integer> SERVED = AttributeKey.valueOf("served");
    private static final AttributeKey<ScheduledFuture<?>> IDLE_CLOSE = AttributeKey.valueOf("idleClose");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Random random = new Random(17);

    /** Closes a connection this long after its last response; -1: never. */
    volatile long idleCloseMillis = 100;

    volatile OnReuse onReuse = OnReuse.ANSWER;
    volatile boolean hang;
    /** Whether about one response in three is preceded by a {@code 103 Early Hints} head. */
    volatile boolean earlyHints = true;
    /** The {@code completion_tokens} a stream's usage event reports. */
    volatile long streamCompletionTokens = 3;

    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger open = new AtomicInteger();
    /** When a connection last closed ({@code System.nanoTime()}), 0 before any did. */
    volatile long lastCloseNanos;

    KeepAliveUpstream() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        open.incrementAndGet();
                        connections.add(ch);
                        ch.closeFuture().addListener(f -> {
                            open.decrementAndGet();
                            lastCloseNanos = System.nanoTime();
                        });
                        ch.pipeline()
                                .addLast(new HttpRequestDecoder(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/v1";
    }

    /** Closes every open connection at once (the server restarted, or swept its idle ones). */
    void closeAll() {
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Channel ch = ctx.channel();
            ScheduledFuture<?> idle = ch.attr(IDLE_CLOSE).getAndSet(null);
            if (idle != null) {
                idle.cancel(false);
            }
            requests.incrementAndGet();
            Integer served = ch.attr(SERVED).get();
            boolean reused = served != null && served > 0;
            if (hang) {
                return;
            }
            if (reused && onReuse == OnReuse.CLOSE) {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
                ch.close();
                return;
            }
            if (reused && onReuse == OnReuse.REQUEST_TIMEOUT) {
                writeSplit(ctx, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
                ctx.close();
                return;
            }
            ch.attr(SERVED).set(served == null ? 1 : served + 1);
            String body = req.content().toString(StandardCharsets.UTF_8);
            String model = body.replaceAll("(?s).*\"model\"\\s*:\\s*\"([^\"]*)\".*", "$1");
            StringBuilder out = new StringBuilder();
            if (random.nextInt(3) == 0 && earlyHints) {
                out.append("HTTP/1.1 103 Early Hints\r\nLink: </v1/models>; rel=preload\r\n\r\n");
            }
            if (body.contains("\"stream\":true")) {
                out.append("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (String word : new String[] {"hello", " from", " keep-alive"}) {
                    chunk(
                            out,
                            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\""
                                    + model + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + word
                                    + "\"}}]}\n\n");
                }
                chunk(
                        out,
                        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                                + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":"
                                + streamCompletionTokens + "}}\n\ndata: [DONE]\n\n");
                out.append("0\r\n\r\n");
            } else {
                String json = FakeUpstream.completion(model, "hello from keep-alive");
                out.append("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ")
                        .append(json.getBytes(StandardCharsets.UTF_8).length)
                        .append("\r\n\r\n")
                        .append(json);
            }
            writeSplit(ctx, out.toString()).addListener(f -> {
                answered.incrementAndGet();
                long after = idleCloseMillis;
                if (after >= 0 && ch.isActive()) {
                    ch.attr(IDLE_CLOSE)
                            .set(ch.eventLoop()
                                    .schedule(
                                            () -> {
                                                ch.close();
                                            },
                                            after,
                                            TimeUnit.MILLISECONDS));
                }
            });
        }

        private static void chunk(StringBuilder out, String data) {
            out.append(Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length))
                    .append("\r\n")
                    .append(data)
                    .append("\r\n");
        }

        /** Writes {@code text} in a few pieces cut at random points, each flushed on its own. */
        private io.netty.channel.ChannelFuture writeSplit(ChannelHandlerContext ctx, String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            int at = 0;
            io.netty.channel.ChannelFuture last = null;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(64));
                ByteBuf piece = Unpooled.wrappedBuffer(bytes, at, n);
                last = ctx.writeAndFlush(piece);
                at += n;
            }
            return last;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
