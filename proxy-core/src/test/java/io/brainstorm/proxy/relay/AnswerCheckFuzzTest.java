package io.brainstorm.proxy.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.brainstorm.proxy.api.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Jazzer fuzz test of {@link AnswerCheck#body}, which reads whatever a provider sent under a 2xx.
 * Under JUnit it replays the committed seed corpus in
 * {@code src/test/resources/io/brainstorm/proxy/relay/AnswerCheckFuzzTestInputs/body/};
 * {@code JAZZER_FUZZ=1 ./mvnw -pl proxy-core test -Dtest=AnswerCheckFuzzTest} fuzzes for real.
 */
class AnswerCheckFuzzTest {
    /** Never throws, never moves or frees the buffer, and a reason never quotes the body. */
    @FuzzTest(maxDuration = "30s")
    void body(byte[] input) {
        ByteBuf answer = Unpooled.wrappedBuffer(input);
        try {
            for (AnswerCheck.Kind kind : AnswerCheck.Kind.values()) {
                String reason = AnswerCheck.body(answer, kind, Json.MAPPER.getFactory());
                assertEquals(0, answer.readerIndex());
                assertEquals(input.length, answer.writerIndex());
                assertEquals(1, answer.refCnt());
                if (reason != null) {
                    assertFalse(reason.length() > 120, reason);
                }
            }
        } finally {
            answer.release();
        }
    }
}
