package io.brainstorm.proxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One {@link ConnectionLimitHandler} shared by several connections, as the initializer shares it. */
class ConnectionLimitHandlerTest {
    private final ChannelGroup group = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ConnectionLimitHandler limit = new ConnectionLimitHandler(2, group);

    /** A new connection through the shared handler; each has its own id, as real channels do. */
    private EmbeddedChannel connect() {
        return new EmbeddedChannel(DefaultChannelId.newInstance(), limit);
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAtOnce() {
        EmbeddedChannel first = connect();
        EmbeddedChannel second = connect();
        assertTrue(first.isOpen());
        assertTrue(second.isOpen());

        EmbeddedChannel third = connect();
        assertFalse(third.isOpen(), "a third connection over a limit of 2 is closed");
        assertFalse(group.contains(third));
        assertEquals(2, limit.open());
        assertEquals(Set.of(first, second), Set.copyOf(group));

        assertFalse(first.finish());
        assertFalse(second.finish());
        assertFalse(third.finish());
        assertEquals(0, limit.open());
        assertTrue(group.isEmpty());
    }

    @Test
    void closingOneLetsANewOneIn() {
        EmbeddedChannel first = connect();
        EmbeddedChannel second = connect();
        EmbeddedChannel rejected = connect();
        assertFalse(rejected.isOpen());
        assertEquals(2, limit.open(), "a rejected connection's close does not free a place it never had");

        first.close();
        assertEquals(1, limit.open());
        assertEquals(Set.of(second), Set.copyOf(group), "the group forgets closed connections");

        EmbeddedChannel next = connect();
        assertTrue(next.isOpen(), "a place freed by a close is taken by the next connection");
        assertEquals(Set.of(second, next), Set.copyOf(group));

        EmbeddedChannel overAgain = connect();
        assertFalse(overAgain.isOpen());

        assertFalse(first.finish());
        assertFalse(second.finish());
        assertFalse(rejected.finish());
        assertFalse(next.finish());
        assertFalse(overAgain.finish());
        assertEquals(0, limit.open());
    }

    @Test
    void acceptedConnectionsPassEventsOnAndRejectedOnesDoNot() {
        EmbeddedChannel first = connect();
        EmbeddedChannel second = connect();
        EmbeddedChannel third = connect();
        assertNull(third.pipeline().get(ConnectionLimitHandler.class), "removed from the rejected connection");
        assertTrue(first.writeInbound("hello"), "an accepted connection's reads reach the next handler");
        assertEquals("hello", first.readInbound());
        assertFalse(first.finish());
        assertFalse(second.finish());
        assertFalse(third.finish());
    }
}
