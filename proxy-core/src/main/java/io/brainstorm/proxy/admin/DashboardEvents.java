package io.brainstorm.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One open {@code GET /dashboard/events}: the live feed as server-sent events on an admin
 * connection, after the response head {@link DashboardHandler} wrote.
 * <pre>
 *   retry: 3000                          once, first
 *   id: 17 / data: {completion JSON}     the replay (oldest first), then each new completion
 *   event: dropped / data: {"dropped":N} completions this stream lost because it fell behind
 *   : hb                                 a comment every heartbeat, so the idle timeout never fires
 *   event: logout / data: {}             the session ended (logout, expiry, revoked key); then closed
 * </pre>
 *
 * <p><b>Threading.</b> Everything runs on the connection's event loop: {@link LiveFeed} calls the
 * wake-up from any thread, which only schedules {@link #drain} there. While the connection is not
 * writable nothing is written; completions wait in the subscriber's bounded queue, the oldest make
 * room for new ones, and what was dropped is reported once the connection drains
 * ({@link #writabilityChanged}).
 *
 * <p><b>Reference counting.</b> Each write's buffer is made here and handed to {@code ctx.write},
 * which releases it.
 */
final class DashboardEvents {
    /** The stream on a connection, so the handler can pass writability changes on. */
    static final AttributeKey<DashboardEvents> KEY = AttributeKey.valueOf("br-dashboard-events");

    private static final byte[] HEARTBEAT = ": hb\n\n".getBytes(StandardCharsets.US_ASCII);

    private final ChannelHandlerContext ctx;
    private final DashboardSessions sessions;
    private final DashboardSessions.Session session;
    private final LiveFeed feed;
    private final LiveFeed.Subscriber subscriber;
    private final boolean tenantColumn;
    /**
     * Sequence numbers the replay sent, which may also wait in the subscriber's queue (it subscribed
     * first); by number, not "up to", since concurrent accepts can reach the rings out of order.
     */
    private final java.util.Set<Long> replayed = new java.util.HashSet<>();

    private @Nullable ScheduledFuture<?> heartbeat;
    private boolean ended;

    private DashboardEvents(
            ChannelHandlerContext ctx, DashboardSessions sessions, DashboardSessions.Session session, LiveFeed feed) {
        this.ctx = ctx;
        this.sessions = sessions;
        this.session = session;
        this.feed = feed;
        this.tenantColumn = session.principal().superAdmin();
        this.subscriber =
                feed.subscribe(session.principal(), () -> ctx.executor().execute(this::drain));
    }

    /**
     * Subscribes, writes the replay and starts the heartbeat; the response head is already written.
     * On the connection's event loop.
     */
    static DashboardEvents start(
            ChannelHandlerContext ctx,
            DashboardSessions sessions,
            DashboardSessions.Session session,
            LiveFeed feed,
            long heartbeatMillis) {
        DashboardEvents events = new DashboardEvents(ctx, sessions, session, feed);
        ctx.channel().attr(KEY).set(events);
        ctx.channel().closeFuture().addListener(f -> events.closed());
        StringBuilder sb = new StringBuilder("retry: 3000\n\n");
        List<LiveFeed.Entry> replay = feed.replay(session.principal());
        for (LiveFeed.Entry e : replay) {
            events.append(sb, e);
            events.replayed.add(e.seq());
        }
        events.write(sb);
        ctx.flush();
        events.heartbeat = ctx.executor()
                .scheduleAtFixedRate(events::heartbeat, heartbeatMillis, heartbeatMillis, TimeUnit.MILLISECONDS);
        if (events.ended) {
            events.heartbeat.cancel(false); // closed while starting
        }
        events.drain();
        return events;
    }

    /** Writes what waits, as long as the connection takes it. */
    void drain() {
        if (ended || !ctx.channel().isActive()) {
            return;
        }
        if (!sessions.alive(session)) {
            end();
            return;
        }
        StringBuilder sb = new StringBuilder();
        appendDropped(sb);
        boolean more = true;
        boolean emptyAgain = false;
        while (more && ctx.channel().isWritable()) {
            LiveFeed.Entry e = subscriber.poll();
            if (e == null) {
                more = subscriber.sleep();
                if (more && emptyAgain) {
                    // counted but not yet takeable (a drop of the oldest in flight on another thread):
                    // come back after the loop's other work instead of spinning against that thread,
                    // which on one CPU may be the one waiting for this loop to yield
                    ctx.executor().execute(this::drain);
                    more = false;
                }
                emptyAgain = true;
            } else {
                emptyAgain = false;
                if (replayed.isEmpty() || !replayed.remove(e.seq())) {
                    append(sb, e);
                    if (sb.length() > 16 * 1024) {
                        write(sb);
                        sb.setLength(0);
                    }
                }
            }
        }
        // drops made during this round woke nobody (it was awake): told now, not at the next completion
        appendDropped(sb);
        // not writable: the subscriber stays awake, so offers only queue (or drop) until writabilityChanged
        if (!sb.isEmpty()) {
            write(sb);
        }
        ctx.flush();
    }

    void writabilityChanged() {
        if (ctx.channel().isWritable()) {
            // not here: this can fire from inside the flush at the end of drain(), where a nested
            // flush is a no-op and what it wrote could sit unflushed with no event left to move it
            ctx.executor().execute(this::drain);
        }
    }

    private void heartbeat() {
        if (ended) {
            return;
        }
        if (!sessions.alive(session)) {
            end();
            return;
        }
        ctx.writeAndFlush(
                new DefaultHttpContent(ctx.alloc().buffer(HEARTBEAT.length).writeBytes(HEARTBEAT)));
    }

    /** The session ended: says so, finishes the response and closes the connection. */
    private void end() {
        ended = true;
        write(new StringBuilder("event: logout\ndata: {}\n\n"));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    private void closed() {
        ended = true;
        feed.unsubscribe(subscriber);
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        // what still waits in the subscriber's queue is plain objects: dropped with it
    }

    private void appendDropped(StringBuilder sb) {
        long dropped = subscriber.takeDropped();
        if (dropped > 0) {
            sb.append("event: dropped\ndata: {\"dropped\":").append(dropped).append("}\n\n");
        }
    }

    private void append(StringBuilder sb, LiveFeed.Entry e) {
        sb.append("id: ")
                .append(e.seq())
                .append("\ndata: ")
                .append(e.json(tenantColumn))
                .append("\n\n");
    }

    private void write(CharSequence text) {
        ByteBuf buf = io.netty.buffer.ByteBufUtil.writeUtf8(ctx.alloc(), text);
        ctx.write(new DefaultHttpContent(buf));
    }
}
