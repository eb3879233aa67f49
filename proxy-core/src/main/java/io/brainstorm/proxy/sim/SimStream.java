package io.brainstorm.proxy.sim;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Writes one streamed answer: a list of SSE events, each after its own pause, on the channel's
 * event loop. The response head has already been written; this writes the body and the last
 * (empty) chunk, or resets the connection when the test hook asks for it.
 *
 * <p><b>Threading.</b> {@link #start()} and every later step run on the channel's event loop, so
 * the cursor needs no {@code volatile}. Pauses are scheduled tasks, never sleeps.
 *
 * <p><b>Ownership.</b> Each event's buffer is handed to {@code writeAndFlush}, which releases it,
 * also when the channel is already closed.
 *
 * <p><b>Flow control.</b> None: answers are a few kilobytes, so writes are not held back while the
 * client is not writable.
 */
final class SimStream {

    /**
     * One SSE event.
     *
     * @param text    the whole event, {@code data: …\n\n}
     * @param delayMs pause before it is written
     * @param content whether it carries a content (or tool-argument) piece, for {@code reset_after}
     */
    record Event(String text, long delayMs, boolean content) {}

    private final Channel channel;
    private final List<Event> events;
    private final int resetAfter;
    private final Runnable onEnd;
    private int next;
    private int contentWritten;

    /**
     * @param resetAfter content events to write before resetting the connection, or -1 to finish normally
     * @param onEnd      runs once, when the stream ended, was reset or found the client gone
     */
    SimStream(Channel channel, List<Event> events, int resetAfter, Runnable onEnd) {
        this.channel = channel;
        this.events = events;
        this.resetAfter = resetAfter;
        this.onEnd = onEnd;
    }

    void start() {
        if (resetAfter == 0) {
            reset();
        } else if (!events.isEmpty() && events.get(0).delayMs() > 0) {
            channel.eventLoop().schedule(this::run, events.get(0).delayMs(), TimeUnit.MILLISECONDS);
        } else {
            run();
        }
    }

    /** Writes every event that is due now, then schedules itself for the next paused one. */
    private void run() {
        while (next < events.size()) {
            if (!channel.isActive()) {
                onEnd.run();
                return;
            }
            Event event = events.get(next++);
            var write =
                    channel.writeAndFlush(new DefaultHttpContent(ByteBufUtil.writeUtf8(channel.alloc(), event.text())));
            if (event.content() && ++contentWritten == resetAfter) {
                // reset only once the bytes are in the socket, so the client sees the chunks before the cut
                write.addListener((ChannelFutureListener) f -> reset());
                return;
            }
            if (next < events.size() && events.get(next).delayMs() > 0) {
                channel.eventLoop().schedule(this::run, events.get(next).delayMs(), TimeUnit.MILLISECONDS);
                return;
            }
        }
        onEnd.run();
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** Resets the connection (SO_LINGER 0 makes close send RST) so the client sees a cut, not an end. */
    private void reset() {
        onEnd.run();
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }
}
