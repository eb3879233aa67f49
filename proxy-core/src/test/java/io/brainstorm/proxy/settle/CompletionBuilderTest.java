package io.brainstorm.proxy.settle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CompletionBuilderTest {

    @Test
    void aRequestRefusedAtOnceIsRecordedWithNothingButWhatWasKnown() {
        long before = System.currentTimeMillis();
        Completion c = Completion.builder("req_1", System.nanoTime())
                .operation("chat")
                .status(401, "invalid_api_key")
                .build();
        assertEquals("req_1", c.requestId());
        assertEquals("chat", c.operation());
        assertEquals(401, c.status());
        assertEquals("invalid_api_key", c.errorCode());
        assertNull(c.tenant());
        assertNull(c.keyId());
        assertNull(c.requestedModel());
        assertNull(c.selectedModel());
        assertNull(c.strategy());
        assertNull(c.format());
        assertEquals(0, c.promptTokens() + c.completionTokens() + c.costNanoUsd() + c.fallbacks());
        assertEquals(-1, c.ttftMicros(), "no first token");
        assertEquals(Completion.NO_SCORE, c.score());
        assertFalse(c.scored());
        assertTrue(c.atMillis() >= before && c.atMillis() <= System.currentTimeMillis(), "ended when built");
        assertTrue(c.latencyMicros() >= 0, c.toString());
    }

    @Test
    void timesAreCountedFromTheArrival() {
        long arrival = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(250);
        Completion c = Completion.builder("req_2", arrival)
                .firstEventAt(arrival + TimeUnit.MILLISECONDS.toNanos(40))
                .build();
        assertEquals(40_000, c.ttftMicros());
        assertTrue(c.latencyMicros() >= 250_000, "from the arrival, not from the builder's start: " + c);

        Completion fixed = Completion.builder("req_3", arrival)
                .atMillis(1_700_000_000_000L)
                .latencyMicros(-5)
                .build();
        assertEquals(1_700_000_000_000L, fixed.atMillis());
        assertEquals(-5, fixed.latencyMicros(), "set explicitly, even when odd");
    }

    @Test
    void theApplicationNameIsCapped() {
        String name = "x".repeat(Completion.MAX_APP_CHARS + 50);
        assertEquals(
                Completion.MAX_APP_CHARS,
                Completion.builder("r", 0).app(name).build().app().length());
        assertNull(Completion.builder("r", 0).app(null).build().app());
        assertEquals("shop", Completion.builder("r", 0).app("shop").build().app());
    }

    @Test
    void buildFreezesTheRecordOnce() {
        Completion.Builder b =
                Completion.builder("req_4", 0).key("acme", "key_1").status(200, null);
        assertFalse(b.built());
        Completion first = b.build();
        assertTrue(b.built());
        assertSame(first, b.build(), "a second build() gives the same record");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.status(500, "internal_error"));
        assertTrue(e.getMessage().contains("req_4") && e.getMessage().contains("already built"), e.getMessage());
        assertEquals(200, b.build().status(), "what came too late changed nothing");
    }

    @Test
    void everyStageFillsItsOwnPart() {
        Completion c = Completion.builder("req_5", 0)
                .app("shop")
                .operation("chat")
                .key("acme", "key_abc")
                .requestedModel("sim/alpha:fast")
                .stream(true)
                .format("json_schema")
                .strategy("fast")
                .selected("sim/alpha", "sim-east")
                .status(200, null)
                .tokens(12, 34)
                .cost(5_000, true)
                .ttftMicros(900)
                .fallbacks(1)
                .score(0.5, ScoreOutcome.VALID)
                .prompt("[]")
                .answer("{}")
                .atMillis(1)
                .latencyMicros(2)
                .build();
        assertEquals(
                List.of(
                        1L,
                        "req_5",
                        "acme",
                        "key_abc",
                        "shop",
                        "chat",
                        "sim/alpha:fast",
                        "sim/alpha",
                        "sim-east",
                        "fast",
                        200,
                        true,
                        12L,
                        34L,
                        5_000L,
                        true,
                        2L,
                        900L,
                        1,
                        0.5,
                        ScoreOutcome.VALID,
                        "[]",
                        "{}",
                        "json_schema"),
                List.of(
                        c.atMillis(),
                        c.requestId(),
                        c.tenant(),
                        c.keyId(),
                        c.app(),
                        c.operation(),
                        c.requestedModel(),
                        c.selectedModel(),
                        c.endpoint(),
                        c.strategy(),
                        c.status(),
                        c.stream(),
                        c.promptTokens(),
                        c.completionTokens(),
                        c.costNanoUsd(),
                        c.costEstimated(),
                        c.latencyMicros(),
                        c.ttftMicros(),
                        c.fallbacks(),
                        c.score(),
                        c.scoreOutcome(),
                        c.prompt(),
                        c.answer(),
                        c.format()));
        assertNull(c.errorCode());
    }
}
