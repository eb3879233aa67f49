package io.brainstorm.proxy.testing;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Proves {@link LeakDetectionExtension} fails on a leak and stays quiet without one. */
class LeakDetectionExtensionSelfTest {

    @AfterEach
    void forgetDeliberateLeaks() {
        LeakDetectionExtension.clear();
    }

    @Test
    void leakedPooledBufferFailsTheCheck() {
        assertDoesNotThrow(LeakDetectionExtension::checkForLeaks, "leaks from before this test");
        leak(PooledByteBufAllocator.DEFAULT.directBuffer(16), "pooled-direct leaked on purpose");

        AssertionError e = assertThrows(AssertionError.class, LeakDetectionExtension::checkForLeaks);

        assertTrue(e.getMessage().contains("pooled-direct leaked on purpose"), e.getMessage());
        assertTrue(e.getMessage().contains("leakedPooledBufferFailsTheCheck"), "records name the allocation site");
        assertDoesNotThrow(LeakDetectionExtension::checkForLeaks, "records are cleared after a check");
    }

    @Test
    void leakedRetainedSliceFailsTheCheck() {
        leakSliceOfAReleasedChunk();

        AssertionError e = assertThrows(AssertionError.class, LeakDetectionExtension::checkForLeaks);

        assertTrue(e.getMessage().contains("slice leaked on purpose"), e.getMessage());
    }

    @Test
    void releasedBuffersPass() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(16).writeLong(42);
        ByteBuf slice = buf.retainedSlice();
        slice.release();
        buf.release();
        Unpooled.buffer(8).release();

        assertEquals(java.util.List.of(), LeakDetectionExtension.collectLeaks());
    }

    /** The chunk's own release is not enough: the unreleased slice keeps its memory. */
    private static void leakSliceOfAReleasedChunk() {
        ByteBuf chunk =
                PooledByteBufAllocator.DEFAULT.heapBuffer(16).writeLong(7).writeLong(8);
        leak(chunk.retainedSlice(0, 8), "slice leaked on purpose");
        chunk.release();
    }

    /** Drops the last reference inside this frame, so nothing keeps the buffer reachable. */
    private static void leak(ByteBuf buf, String hint) {
        buf.touch(hint);
    }
}
