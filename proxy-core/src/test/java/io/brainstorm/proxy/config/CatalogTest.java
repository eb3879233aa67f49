package io.brainstorm.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CatalogTest {

    private static Catalog parse(String yaml) throws ConfigException {
        return Catalog.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    private static String message(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    private static String model(String id, String extra) {
        return "  - id: " + id + "\n"
                + "    context_length: 1000\n"
                + "    max_output_tokens: 100\n"
                + "    price: {input: 1, output: 2}\n"
                + extra;
    }

    @Test
    void builtInLoadsAndHasTheSimModels() {
        Catalog catalog = Catalog.builtIn();
        assertSame(catalog, Catalog.builtIn());
        for (String id : List.of(
                "sim/alpha",
                "sim/beta",
                "sim/gamma",
                "sim/embed",
                "openai/gpt-4o",
                "anthropic/claude-sonnet-4",
                "anthropic/claude-sonnet-4-5",
                "anthropic/claude-haiku-4-5",
                "google/gemini-2.5-flash",
                "groq/llama-3.1-8b-instant")) {
            assertTrue(catalog.find(id).isPresent(), id);
        }
    }

    @Test
    void shippedFileEqualsTheBuiltIn() throws ConfigException {
        Catalog file = Catalog.load(Path.of("..", "conf", "models.yaml"));
        assertEquals(Catalog.builtIn().models(), file.models());
    }

    @Test
    void everySimModelHasEndpointsAndTheFirstEndpointsPrice() {
        int sims = 0;
        for (ModelSpec model : Catalog.builtIn().models()) {
            assertEquals(model.provider().equals("sim"), model.simulated(), model.id());
            if (model.simulated()) {
                sims++;
                assertFalse(model.endpoints().isEmpty(), model.id());
                assertEquals(model.endpoints().get(0).price(), model.price(), model.id());
            } else {
                assertTrue(model.endpoints().isEmpty(), model.id());
            }
        }
        assertEquals(4, sims);
    }

    @Test
    void simAlphaIsAsSpecified() {
        ModelSpec alpha = Catalog.builtIn().find("sim/alpha").orElseThrow();
        assertEquals(Set.of(Capability.TOOLS, Capability.JSON), alpha.capabilities());
        assertEquals(128_000, alpha.contextLength());
        assertEquals(
                List.of("sim-east", "sim-west", "sim-budget"),
                alpha.endpoints().stream().map(EndpointSpec::id).toList());
        EndpointSpec west = alpha.endpoints().get(1);
        assertEquals(new Price(400_000_000L, 1_200_000_000L, 200_000_000L), west.price());
        assertEquals(new SimProfile(250, 90, 12, 0.90, 0.05), west.sim());
    }

    @Test
    void findsByIdThenAlias() {
        Catalog catalog = Catalog.builtIn();
        ModelSpec gpt4o = catalog.find("openai/gpt-4o").orElseThrow();
        assertSame(gpt4o, catalog.find("gpt-4o").orElseThrow());
        assertEquals(new Price(2_500_000_000L, 10_000_000_000L, 1_250_000_000L), gpt4o.price());
        assertEquals("gpt-4o", gpt4o.upstreamName());
        assertEquals(
                "openai/text-embedding-3-small",
                catalog.find("text-embedding-3-small").orElseThrow().id());
        assertEquals(
                "claude-sonnet-4-20250514",
                catalog.find("anthropic/claude-sonnet-4").orElseThrow().upstreamName());
        assertTrue(catalog.find("GPT-4o").isEmpty(), "case-sensitive");
        assertTrue(catalog.find("nope/nothing").isEmpty());
    }

    @Test
    void idWinsOverAlias() throws ConfigException {
        // an alias may not equal another model's id, so build the clash by hand
        Catalog catalog = parse("models:\n" + model("a/x", "    aliases: [y]\n") + model("b/y", ""));
        assertEquals("a/x", catalog.find("y").orElseThrow().id());
        assertEquals("b/y", catalog.find("b/y").orElseThrow().id());
    }

    @Test
    void pricesAreExactDecimals() throws ConfigException {
        Catalog catalog = parse("models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n"
                + "    price: {input: 12345678.123456789, cached_input: 0.000000001, output: \"0.1\"}\n");
        Price price = catalog.find("a/x").orElseThrow().price();
        // 12345678.123456789 has no exact double; read through double it would be off
        assertEquals(12_345_678_123_456_789L, price.inputNanoPerM());
        assertEquals(1L, price.cachedInputNanoPerM());
        assertEquals(100_000_000L, price.outputNanoPerM());
    }

    @Test
    void cachedInputDefaultsToInput() throws ConfigException {
        Price price =
                parse("models:\n" + model("a/x", "")).find("a/x").orElseThrow().price();
        assertEquals(new Price(1_000_000_000L, 2_000_000_000L, 1_000_000_000L), price);
    }

    @Test
    void cacheWriteDefaultsToInputAndTheOneHourWriteToTheWrite() throws ConfigException {
        Price none =
                parse("models:\n" + model("a/x", "")).find("a/x").orElseThrow().price();
        assertEquals(1_000_000_000L, none.cacheWriteNanoPerM());
        assertEquals(1_000_000_000L, none.cacheWrite1hNanoPerM());

        Price write = parse("models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n"
                        + "    price: {input: 3, cached_input: 0.3, cache_write: 3.75, output: 15}\n")
                .find("a/x")
                .orElseThrow()
                .price();
        assertEquals(new Price(3_000_000_000L, 15_000_000_000L, 300_000_000L, 3_750_000_000L, 3_750_000_000L), write);

        Price both = parse("models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n"
                        + "    price: {input: 3, cache_write: 3.75, cache_write_1h: 6, output: 15}\n")
                .find("a/x")
                .orElseThrow()
                .price();
        assertEquals(new Price(3_000_000_000L, 15_000_000_000L, 3_000_000_000L, 3_750_000_000L, 6_000_000_000L), both);
    }

    @Test
    void cacheWritePricesAreCheckedLikeTheOthers() {
        String prefix = "models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n";
        String negative = message(prefix + "    price: {input: 1, cache_write: -1, output: 1}\n");
        assertTrue(
                negative.startsWith("test.yaml: models[0].price.cache_write: -1 (expected: a non-negative decimal"),
                negative);
        String tooFine = message(prefix + "    price: {input: 1, cache_write_1h: 0.0000000001, output: 1}\n");
        assertEquals(
                "test.yaml: models[0].price.cache_write_1h: 0.0000000001 (expected: at most 9 decimal places (1 nano-USD))",
                tooFine);
        String misspelt = message(prefix + "    price: {input: 1, cache_write_5m: 1.25, output: 1}\n");
        assertTrue(misspelt.startsWith("test.yaml: models[0].price.cache_write_5m: unknown key"), misspelt);
        assertTrue(misspelt.contains("cache_write, cache_write_1h"), misspelt);
    }

    @Test
    void shippedAnthropicModelsPriceCacheWritesAsAnthropicDoes() throws ConfigException {
        Catalog shipped = Catalog.load(Path.of("..", "conf", "models.yaml"));
        int anthropic = 0;
        for (ModelSpec model : shipped.models()) {
            Price p = model.price();
            if (model.provider().equals("anthropic")) {
                anthropic++;
                // five-minute writes at 1.25x input, one-hour writes at 2x, reads below input
                assertEquals(p.inputNanoPerM() * 5, p.cacheWriteNanoPerM() * 4, model.id());
                assertEquals(p.inputNanoPerM() * 2, p.cacheWrite1hNanoPerM(), model.id());
                assertTrue(p.cachedInputNanoPerM() < p.inputNanoPerM(), model.id());
            } else {
                assertEquals(p.inputNanoPerM(), p.cacheWriteNanoPerM(), model.id() + ": no write surcharge");
                assertEquals(p.inputNanoPerM(), p.cacheWrite1hNanoPerM(), model.id() + ": no write surcharge");
            }
        }
        assertTrue(anthropic >= 4, "anthropic models: " + anthropic);
        ModelSpec sonnet = shipped.find("anthropic/claude-sonnet-4-5").orElseThrow();
        assertEquals("claude-sonnet-4-5-20250929", sonnet.upstreamName());
        assertEquals(
                new Price(3_000_000_000L, 15_000_000_000L, 300_000_000L, 3_750_000_000L, 6_000_000_000L),
                sonnet.price());
        assertEquals(
                Set.of(Capability.TOOLS, Capability.JSON, Capability.VISION),
                shipped.find("anthropic/claude-haiku-4-5").orElseThrow().capabilities());
    }

    @Test
    void rejectsPricesBelowANano() {
        String msg = message("models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n"
                + "    price: {input: 0.0000000001, output: 1}\n");
        assertEquals(
                "test.yaml: models[0].price.input: 0.0000000001 (expected: at most 9 decimal places (1 nano-USD))",
                msg);
    }

    @Test
    void rejectsNegativePrices() {
        String msg = message("models:\n  - id: a/x\n    context_length: 1\n    max_output_tokens: 0\n"
                + "    price: {input: 1, output: -2.5}\n");
        assertTrue(msg.startsWith("test.yaml: models[0].price.output: -2.5 (expected: a non-negative"), msg);
    }

    @Test
    void rejectsDuplicateAliasNamingIt() {
        String msg = message(
                "models:\n" + model("a/x", "    aliases: [shared]\n") + model("b/y", "    aliases: [shared]\n"));
        assertTrue(msg.contains("models[1].aliases[0]: \"shared\""), msg);
        assertTrue(msg.contains("models[0].aliases[0] has it already"), msg);
    }

    @Test
    void rejectsAliasEqualToAnId() {
        String msg = message("models:\n" + model("a/x", "") + model("b/y", "    aliases: [a/x]\n"));
        assertTrue(msg.contains("models[1].aliases[0]: \"a/x\""), msg);
    }

    @Test
    void rejectsDuplicateId() {
        String msg = message("models:\n" + model("a/x", "") + model("a/x", ""));
        assertTrue(msg.startsWith("test.yaml: models[1].id: \"a/x\" (expected: a unique id"), msg);
    }

    @Test
    void rejectsIdWithoutProvider() {
        assertTrue(message("models:\n" + model("gpt-4o", "")).startsWith("test.yaml: models[0].id: \"gpt-4o\""));
        assertTrue(message("models:\n" + model("Open/x", "")).contains("models[0].id"));
        assertTrue(message("models:\n" + model("a/x:fast", "")).contains("models[0].id"));
    }

    @Test
    void simModelsNeedEndpointsAndRealModelsHaveNone() {
        assertTrue(message("models:\n" + model("sim/x", ""))
                .contains("models[0].endpoints: missing (expected: at least one endpoint"));
        String endpoints = "    endpoints:\n      - id: e\n        price: {input: 1, output: 1}\n"
                + "        sim: {latency_ms: 1}\n";
        assertTrue(message("models:\n" + model("a/x", endpoints))
                .contains("models[0].endpoints: a list (expected: no endpoints"));
    }

    @Test
    void simModelPriceMustMatchItsFirstEndpoint() {
        String endpoints = "    endpoints:\n      - id: e\n        price: {input: 3, output: 1}\n"
                + "        sim: {latency_ms: 1}\n";
        assertTrue(message("models:\n" + model("sim/x", endpoints))
                .contains("models[0].price: a mapping (expected: the first endpoint's price"));
    }

    @Test
    void rejectsUnknownKeysAndBadCapabilities() {
        assertTrue(message("models:\n" + model("a/x", "    contxt: 5\n"))
                .startsWith("test.yaml: models[0].contxt: unknown key (expected: one of id,"));
        assertTrue(
                message("models:\n" + model("a/x", "    capabilities: [tools, audio]\n"))
                        .startsWith(
                                "test.yaml: models[0].capabilities[1]: \"audio\" (expected: one of tools, json, vision, embeddings)"));
    }

    @Test
    void rejectsBadYamlAndDuplicateKeys() {
        assertTrue(message("models: [").startsWith("test.yaml: invalid YAML"));
        assertTrue(
                message("models:\n" + model("a/x", "    context_length: 5\n")).startsWith("test.yaml: invalid YAML"));
    }

    @Test
    void ofRejectsDuplicates() {
        ModelSpec a = Catalog.builtIn().find("sim/alpha").orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> Catalog.of(List.of(a, a)));
        assertEquals(a, Catalog.of(List.of(a)).find("sim/alpha").orElseThrow());
    }
}
