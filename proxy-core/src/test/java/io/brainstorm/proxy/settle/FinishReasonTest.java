package io.brainstorm.proxy.settle;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FinishReasonTest {
    private static boolean cut(String json) {
        ByteBuf buf = Unpooled.copiedBuffer("xx" + json, StandardCharsets.UTF_8);
        try {
            buf.skipBytes(2);
            return FinishReason.cutByLength(buf);
        } finally {
            buf.release();
        }
    }

    @Test
    void findsLengthAsTheFinishReasonOnly() {
        assertEquals(true, cut("{\"choices\":[{\"finish_reason\":\"length\"}]}"));
        assertEquals(true, cut("{\"choices\":[{\"finish_reason\" : \n \"length\"}]}"), "whitespace around the colon");
        assertEquals(true, cut("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"));
        assertEquals(false, cut("{\"choices\":[{\"finish_reason\":\"stop\"}]}"));
        assertEquals(false, cut("{\"choices\":[{\"finish_reason\":null}]}"));
        assertEquals(false, cut("{\"unit\":\"length\",\"finish_reason\":\"stop\"}"), "another key's value");
        assertEquals(false, cut("{\"content\":\"say \\\"finish_reason\\\":\\\"length\\\" now\"}"), "inside a string");
        assertEquals(false, cut("{\"length\":\"length\"}"));
        assertEquals(true, cut("{\"a\":\"\"length\",\"finish_reason\":\"length\"}"), "after a near miss");
    }
}
