package io.brainstorm.proxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.config.ScoringConfig;
import io.brainstorm.proxy.settle.AnswerContent;
import io.brainstorm.proxy.settle.ScoreSpec;
import io.brainstorm.proxy.settle.Scorer;
import io.brainstorm.proxy.settle.StreamCapture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Jazzer fuzz tests for the scorer, which reads bytes from both sides: upstream answers and SSE
 * events, and the client's response formats, tools and schemas. Under JUnit they replay the
 * committed seed corpus in {@code src/test/resources/io/brainstorm/proxy/fuzz/ScorerFuzzTestInputs/<method>/};
 * {@code JAZZER_FUZZ=1 ./mvnw -pl proxy-core test -Dtest=ScorerFuzzTest} fuzzes for real.
 */
class ScorerFuzzTest {
    private static final ScoringConfig CONFIG = new ScoringConfig(true, 4096, 4096, 1);
    private static final Scorer SCORER = new Scorer(CONFIG);
    private static final ScoreSpec TOOLS = spec("{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^x\"}}}}}],"
            + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\"}}}}");

    private static ScoreSpec spec(String body) {
        try {
            return ScoreSpec.of(Json.MAPPER.readTree(body), SCORER);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Any event bytes: the capture never throws, leaves the buffer as it was, and keeps no more
     * than its limit (or says it is over it); the assembled answer scores without throwing.
     */
    @FuzzTest(maxDuration = "30s")
    void streamEvents(FuzzedDataProvider data) {
        StreamCapture capture = new StreamCapture(data.consumeInt(0, 4096));
        while (data.remainingBytes() > 0) {
            byte[] event = data.consumeBytes(data.consumeInt(0, 2048));
            ByteBuf buf = Unpooled.wrappedBuffer(event);
            try {
                capture.onEvent(buf);
                assertEquals(0, buf.readerIndex());
                assertEquals(event.length, buf.writerIndex());
                assertEquals(1, buf.refCnt());
            } finally {
                buf.release();
            }
        }
        AnswerContent answer = capture.answer();
        assertNotNull(answer);
        assertTrue(capture.overLimit() || capture.keptBytes() <= 4096, "kept " + capture.keptBytes());
        assertNotNull(SCORER.score(TOOLS, capture));
    }

    /** Any upstream body: scoring never throws nor moves the buffer, and a score is 0, 1 or not scored. */
    @FuzzTest(maxDuration = "30s")
    void upstreamAnswer(byte[] input) {
        ByteBuf body = Unpooled.wrappedBuffer(input);
        try {
            for (ScoreSpec spec : List.of(ScoreSpec.PLAIN, TOOLS)) {
                Scorer.Result r = SCORER.scoreAnswer(spec, body);
                assertTrue(r.score() == 0 || r.score() == 1 || r.score() == -1, r.toString());
            }
            assertEquals(0, body.readerIndex());
            assertEquals(input.length, body.writerIndex());
        } finally {
            body.release();
        }
    }

    /**
     * Any client body (response format, tools, schemas with any keywords and references) and any
     * answer content: making the spec and scoring never throw.
     */
    @FuzzTest(maxDuration = "30s")
    void clientRequest(FuzzedDataProvider data) {
        String content = data.consumeString(512);
        byte[] request = data.consumeRemainingAsBytes();
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(request);
        } catch (IOException e) {
            return;
        }
        ScoreSpec spec = ScoreSpec.of(body, SCORER);
        assertNotNull(spec.kind());
        Scorer.Result r = SCORER.score(
                spec, new AnswerContent(content, List.of(new AnswerContent.ToolCall("f", content)), "stop"));
        assertTrue(r.score() == 0 || r.score() == 1 || r.score() == -1, r.toString());
        assertNotNull(new String(request, StandardCharsets.UTF_8));
    }
}
