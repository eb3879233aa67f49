package io.brainstorm.proxy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.brainstorm.proxy.bench.RecordedReplay.Figures;
import io.brainstorm.proxy.bench.RecordedReplay.Query;
import io.brainstorm.proxy.bench.RecordedReplay.Recorded;
import io.brainstorm.proxy.bench.RecordedReplay.Replay;
import io.brainstorm.proxy.bench.RecordedReplay.Scenario;
import io.brainstorm.proxy.bench.RecordedReplay.Variant;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The replay's figures mean what benchmarks/README.md says they mean: the lags, the fixed half, the regrets. */
class RecordedReplayTest {

    /** Model 1 on every request before {@code until}, model 0 after. */
    private static int[] leadingUntil(int until) {
        int[] picks = new int[RecordedReplay.REQUESTS];
        Arrays.fill(picks, 0, until, 1);
        return picks;
    }

    @Test
    void adaptationLagCountsRequestsUntilTheNextFiftyHoldFewerThanFivePicksOfTheModel() {
        // picked on 250..269: the window starting at 266 holds 4 of its picks (< 10 %), at 265 five
        assertEquals(16, RecordedReplay.Replay.lag(leadingUntil(270), 1, 250, 2_000, true));
        assertEquals(0, RecordedReplay.Replay.lag(leadingUntil(254), 1, 250, 2_000, true));
        assertEquals(Integer.MAX_VALUE, RecordedReplay.Replay.lag(leadingUntil(2_000), 1, 250, 2_000, true));
        // windows must end by the limit: gone at 990 is not seen when they must end by 1000
        assertEquals(Integer.MAX_VALUE, RecordedReplay.Replay.lag(leadingUntil(990), 1, 250, 1_000, true));
    }

    @Test
    void recoveryLagCountsRequestsUntilTheNextFiftyHoldMoreThanHalfPicksOfTheModel() {
        int[] picks = new int[RecordedReplay.REQUESTS];
        Arrays.fill(picks, 1_100, picks.length, 1);
        // the window starting at 1076 holds 26 picks of model 1 (1100..1125), at 1075 25
        assertEquals(76, RecordedReplay.Replay.lag(picks, 1, 1_000, 2_000, false));
    }

    @Test
    void theHalfThatTurnsWrongIsTheSameHalfInEveryOrder() throws IOException {
        Path data = RecordedReplay.defaultData();
        assertNotNull(data, "benchmarks/routing-data is found from the module's directory");
        Recorded arena = Recorded.read(data.resolve("routerarena_sub10.jsonl"), prices(data));
        Set<String> half =
                arena.queries().stream().filter(Query::inHalf).map(Query::id).collect(Collectors.toSet());
        assertEquals(arena.queries().size() / 2, half.size());

        List<Query> reversed = new ArrayList<>(arena.queries());
        Collections.reverse(reversed);
        Set<String> again = RecordedReplay.Recorded.halved(unmarked(reversed)).stream()
                .filter(Query::inHalf)
                .map(Query::id)
                .collect(Collectors.toSet());
        assertEquals(half, again);

        RecordedReplay.Requests r = RecordedReplay.Requests.of(arena, Scenario.HALF_WRONG, arena.leading(), 7);
        for (int t = 0; t < RecordedReplay.REQUESTS; t++) {
            Query q = r.query()[t];
            double expected = t >= RecordedReplay.CHANGE_AT && q.inHalf() ? 0 : q.score()[arena.leading()];
            assertEquals(expected, r.score()[t][arena.leading()], "request " + t + ", query " + q.id());
        }
    }

    /**
     * Four queries, λ = 100: per cycle model 0 (dear, right on three) has utility −1, model 1
     * (cheap, right on two) 1.6, the per-query oracle 1.7; 2,000 requests are 500 cycles.
     */
    @Test
    void regretIsUtilityLostAgainstTheBestFixedModelAndTheOracle() {
        List<Query> queries = List.of(query("a", 1, 1), query("b", 1, 0), query("c", 0, 0), query("d", 1, 1));
        Recorded data = new Recorded(
                List.of("dear", "cheap"),
                new long[] {1, 1},
                new long[] {1, 1},
                RecordedReplay.Recorded.halved(queries));
        Replay replay = new Replay(new RecordedReplay.Dataset("four", 100), data, 2, 1);
        assertEquals(0, replay.leading);

        Figures dear = replay.reference(Scenario.STATIONARY, 0)[0];
        Figures cheap = replay.reference(Scenario.STATIONARY, 1)[0];
        Figures oracle = replay.reference(Scenario.STATIONARY, -1)[0];
        assertEquals(0.75, dear.accuracy(), 1e-9);
        assertEquals(1_300, dear.regretFixed(), 1e-6);
        assertEquals(1_350, dear.regretOracle(), 1e-6);
        assertEquals(0, cheap.regretFixed(), 1e-6);
        assertEquals(50, cheap.regretOracle(), 1e-6);
        assertEquals(-50, oracle.regretFixed(), 1e-6);
        assertEquals(0, oracle.regretOracle(), 1e-6);
        assertEquals(6.5, oracle.costUsd(), 1e-6); // 1,500 cheap answers at 0.001 USD, 500 dear ones at 0.01

        for (Figures auto : replay.run(Scenario.STATIONARY, Variant.of(RoutingRegret.LEARNERS.get(0)))) {
            assertEquals(1, auto.share()[0] + auto.share()[1], 1e-9);
            assertEquals(auto.regretFixed() + 50, auto.regretOracle(), 1e-6);
        }
    }

    private static Query query(String id, double dearScore, double cheapScore) {
        return new Query(id, 100, new double[] {dearScore, cheapScore}, new double[] {0.01, 0.001}, false);
    }

    private static List<Query> unmarked(List<Query> queries) {
        return queries.stream()
                .map(q -> new Query(q.id(), q.inputTokens(), q.score(), q.cost(), false))
                .toList();
    }

    private static com.fasterxml.jackson.databind.JsonNode prices(Path data) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(data.resolve("prices.json").toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
