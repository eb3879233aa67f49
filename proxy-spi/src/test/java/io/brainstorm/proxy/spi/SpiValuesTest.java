package io.brainstorm.proxy.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a plugin's tests see of the SPI's builders and factories: defaults, validation, equality. */
class SpiValuesTest {

    @Test
    void unsetBuilderValuesHaveTheDocumentedDefaults() {
        Candidate c =
                Candidate.builder().endpoint("sim-east").model("sim/alpha").build();
        assertEquals("sim/alpha@sim-east", c.id());
        assertEquals(Set.of(), c.capabilities());
        assertSame(EndpointStats.UNSEEN, c.stats());

        RouteRequest r = RouteRequest.builder()
                .requestId("req-1")
                .tenant("acme")
                .model("sim/alpha")
                .variant("floor")
                .tools(true)
                .estimatedInputTokens(9_000)
                .build();
        assertEquals(-1, r.maxTokens());
        assertEquals("", r.user());
        assertSame(TaskClass.of(true, false, 9_000), r.taskClass(), "the class of tools, JSON and the estimate");

        Outcome o = Outcome.builder()
                .requestId("req-1")
                .candidateId(c.id())
                .endpoint("sim-east")
                .model("sim/alpha")
                .taskClass(r.taskClass())
                .status(200)
                .build();
        assertEquals(-1, o.ttftMicros());
        assertEquals(0, o.score());

        EndpointStats s = EndpointStats.builder().build();
        assertEquals(EndpointStats.UNSEEN, s);
        assertEquals(0.5, s.qualityMean());
        assertEquals(CircuitState.CLOSED, s.circuit());
    }

    @Test
    void invalidValuesAreRefusedNamingTheValue() {
        assertEquals(
                "endpoint, model: sim-east, null (expected: both set)",
                assertThrows(
                                IllegalStateException.class,
                                () -> Candidate.builder().endpoint("sim-east").build())
                        .getMessage());
        assertEquals(
                "prices: -1/0 nano-USD per million (expected: >= 0)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Candidate.builder()
                                        .endpoint("e")
                                        .model("m")
                                        .inputNanoUsdPerMillion(-1)
                                        .build())
                        .getMessage());
        assertEquals(
                "maxTokens: -2 (expected: >= 0, or -1 for none)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> RouteRequest.builder()
                                        .requestId("r")
                                        .tenant("t")
                                        .model("m")
                                        .variant("v")
                                        .maxTokens(-2)
                                        .build())
                        .getMessage());
        assertEquals(
                "score: 1.5 (expected: 0..1)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Outcome.builder()
                                        .requestId("r")
                                        .candidateId("m@e")
                                        .endpoint("e")
                                        .model("m")
                                        .taskClass(TaskClass.of(false, false, 0))
                                        .score(1.5)
                                        .build())
                        .getMessage());
        assertEquals(
                "quality: Beta(0.0, 1.0) (expected: finite α > 0 and β > 0)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> EndpointStats.builder().quality(0, 1).build())
                        .getMessage());
        assertEquals(
                "latency stats: 1 samples, -5/0/0 µs (expected: >= 0)",
                assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(1, -5, 0, 0))
                        .getMessage());
        assertEquals(
                "order: [] (expected: at least one candidate)",
                assertThrows(IllegalArgumentException.class, () -> RouteDecision.of(List.of(), "none"))
                        .getMessage());
    }

    @Test
    void valuesAreEqualByContentAndABuilderCanBuildAgain() {
        Candidate.Builder b =
                Candidate.builder().endpoint("sim-east").model("sim/alpha").capabilities(Set.of("json"));
        Candidate first = b.build();
        assertEquals(first, b.build());
        assertEquals(first.hashCode(), b.build().hashCode());
        assertNotEquals(first, b.contextLength(8_000).build());
        assertEquals(
                first,
                Candidate.builder()
                        .endpoint("sim-east")
                        .model("sim/alpha")
                        .capabilities(Set.of("json"))
                        .build(),
                "equal to one built apart");
        assertEquals(StrategyConfig.of("x", Map.of("a", "1")), StrategyConfig.of("x", Map.of("a", "1")));
        assertEquals(RouteDecision.of(List.of(first), null), RouteDecision.of(List.of(first), ""));
        assertEquals(
                List.of(TaskClass.of(false, true, 100)),
                TaskClass.all().stream()
                        .filter(t -> t.key().equals("json/0-1k"))
                        .toList());
    }
}
