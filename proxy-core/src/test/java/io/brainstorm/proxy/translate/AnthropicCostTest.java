package io.brainstorm.proxy.translate;

import static io.brainstorm.proxy.translate.AnthropicStreamTranslatorTest.accumulate;
import static io.brainstorm.proxy.translate.AnthropicStreamTranslatorTest.feedWire;
import static io.brainstorm.proxy.translate.Trees.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.Price;
import io.brainstorm.proxy.settle.Cost;
import io.brainstorm.proxy.settle.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Golden costs of one Anthropic exchange, answered whole and streamed: both must charge the same
 * nano-USD, cache reads and both kinds of cache writes included, at the shipped catalog's price
 * for {@code anthropic/claude-sonnet-4-5}. The event sequence follows Anthropic's streaming
 * documentation: {@code message_start} with the input and cache counts, a thinking block, a
 * {@code ping}, a text block, {@code message_delta} with the output count, {@code message_stop}.
 */
class AnthropicCostTest {

    private static final String MODEL = "anthropic/claude-sonnet-4-5";

    /** 1,000 uncached, 2,000 read from the cache, 3,500 written to it (3,000 for 5 minutes, 500 for 1 hour). */
    private static final String CACHE_USAGE = "\"input_tokens\":1000,\"cache_creation_input_tokens\":3500,"
            + "\"cache_read_input_tokens\":2000,"
            + "\"cache_creation\":{\"ephemeral_5m_input_tokens\":3000,\"ephemeral_1h_input_tokens\":500}";

    /** The same counts without the {@code cache_creation} breakdown: all 3,500 writes are five-minute ones. */
    private static final String CACHE_USAGE_NO_BREAKDOWN =
            "\"input_tokens\":1000,\"cache_creation_input_tokens\":3500,\"cache_read_input_tokens\":2000";

    private static Price sonnet() {
        return Catalog.builtIn().find(MODEL).orElseThrow().price();
    }

    @Test
    void theCatalogPricesSonnet45AsTheGoldensAssume() {
        // $3.00 input, $0.30 cache read, $3.75 five-minute write, $6.00 one-hour write, $15.00 output
        assertEquals(
                new Price(3_000_000_000L, 15_000_000_000L, 300_000_000L, 3_750_000_000L, 6_000_000_000L), sonnet());
    }

    @Test
    void streamedAndWholeChargeTheSameWithOneHourWrites() {
        //   1,000 uncached      x $3.00/M  =  3,000,000 nano-USD
        //   2,000 cache read    x $0.30/M  =    600,000
        //   3,000 5-min writes  x $3.75/M  = 11,250,000
        //     500 1-hour writes x $6.00/M  =  3,000,000
        //     400 output        x $15.00/M =  6,000,000
        //                                    ----------
        //                                    23,850,000 nano-USD
        Usage expected = new Usage(6_500, 400, 2_000, 0, 3_000, 500);
        check(CACHE_USAGE, "{\"output_tokens\":400}", expected, 23_850_000L);
    }

    @Test
    void streamedAndWholeChargeTheSameWithoutABreakdown() {
        //   1,000 uncached      x $3.00/M  =  3,000,000 nano-USD
        //   2,000 cache read    x $0.30/M  =    600,000
        //   3,500 5-min writes  x $3.75/M  = 13,125,000
        //     400 output        x $15.00/M =  6,000,000
        //                                    ----------
        //                                    22,725,000 nano-USD
        Usage expected = new Usage(6_500, 400, 2_000, 0, 3_500, 0);
        check(CACHE_USAGE_NO_BREAKDOWN, "{\"output_tokens\":400}", expected, 22_725_000L);
    }

    @Test
    void aFinalSnapshotRepeatingOrZeroingTheInputCountsChangesNothing() {
        Usage expected = new Usage(6_500, 400, 2_000, 0, 3_000, 500);
        check(CACHE_USAGE, "{" + CACHE_USAGE + ",\"output_tokens\":400}", expected, 23_850_000L);
        check(
                CACHE_USAGE,
                "{\"input_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                        + "\"output_tokens\":400}",
                expected,
                23_850_000L);
    }

    private static void check(String startUsage, String deltaUsage, Usage expected, long expectedNano) {
        AnthropicResponse.Completion whole = AnthropicResponse.translate(
                json("{\"id\":\"msg_golden\",\"type\":\"message\",\"role\":\"assistant\","
                        + "\"model\":\"claude-sonnet-4-5-20250929\","
                        + "\"content\":[{\"type\":\"thinking\",\"thinking\":\"The user said hello.\","
                        + "\"signature\":\"EqQBCgIYAhIM\"},{\"type\":\"text\",\"text\":\"Hello!\"}],"
                        + "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
                        + "\"usage\":{" + startUsage + ",\"output_tokens\":400}}"),
                MODEL,
                1_765_000_000L,
                null);

        AnthropicStreamTranslator streamed = new AnthropicStreamTranslator(MODEL, 1_765_000_000L, true, false);
        List<String> events = feedWire(
                streamed,
                sse(
                                "message_start",
                                "{\"type\":\"message_start\",\"message\":{"
                                        + "\"id\":\"msg_golden\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
                                        + "\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,"
                                        + "\"usage\":{" + startUsage + ",\"output_tokens\":1}}}")
                        + sse(
                                "content_block_start",
                                "{\"type\":\"content_block_start\",\"index\":0,"
                                        + "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}")
                        + sse(
                                "content_block_delta",
                                "{\"type\":\"content_block_delta\",\"index\":0,"
                                        + "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"The user said hello.\"}}")
                        + sse(
                                "content_block_delta",
                                "{\"type\":\"content_block_delta\",\"index\":0,"
                                        + "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}")
                        + sse("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
                        + sse("ping", "{\"type\":\"ping\"}")
                        + sse(
                                "content_block_start",
                                "{\"type\":\"content_block_start\",\"index\":1,"
                                        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
                        + sse(
                                "content_block_delta",
                                "{\"type\":\"content_block_delta\",\"index\":1,"
                                        + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello!\"}}")
                        + sse("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}")
                        + sse(
                                "message_delta",
                                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                                        + "\"stop_sequence\":null},\"usage\":" + deltaUsage + "}")
                        + sse("message_stop", "{\"type\":\"message_stop\"}"));
        assertTrue(streamed.complete(), () -> "stream: " + streamed.failure());

        Usage wholeUsage = whole.usage().toSettle();
        Usage streamedUsage = streamed.usage().toSettle();
        assertEquals(expected, wholeUsage);
        assertEquals(expected, streamedUsage);
        assertEquals(expectedNano, Cost.nanoUsd(wholeUsage, sonnet()));
        assertEquals(expectedNano, Cost.nanoUsd(streamedUsage, sonnet()));
        // and the client sees the same usage either way
        assertEquals(
                whole.body().get("usage").toString(), accumulate(events).usage.toString());
    }

    private static String sse(String event, String data) {
        return "event: " + event + "\ndata: " + data + "\n\n";
    }
}
