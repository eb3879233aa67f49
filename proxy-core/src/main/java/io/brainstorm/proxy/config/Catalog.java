package io.brainstorm.proxy.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The price and capability catalog: every model the gateway knows, from {@code conf/models.yaml}.
 * Immutable and safe to share between threads.
 *
 * <p><b>Lookup.</b> {@link #find(String)} takes a full id ({@code openai/gpt-4o}) or a bare alias
 * ({@code gpt-4o}), exact id first, case-sensitive, two hash lookups.
 *
 * <p><b>File format.</b>
 * <pre>{@code
 * models:
 *   - id: openai/gpt-4o              # provider/model; the provider is the account name
 *     upstream_name: gpt-4o          # optional; the part after the slash unless set
 *     aliases: [gpt-4o]              # optional; unique across the catalog
 *     context_length: 128000
 *     max_output_tokens: 16384
 *     price: {input: 2.50, cached_input: 1.25, output: 10.00}   # USD per million tokens
 *     capabilities: [tools, json, vision]                       # also: embeddings
 *     created: 1715558400            # unix seconds; optional
 *   - id: anthropic/claude-sonnet-4-5
 *     upstream_name: claude-sonnet-4-5-20250929
 *     context_length: 200000
 *     max_output_tokens: 64000
 *     price: {input: 3.00, cached_input: 0.30, cache_write: 3.75, cache_write_1h: 6.00, output: 15.00}
 *     capabilities: [tools, json, vision]
 *   - id: sim/alpha                  # provider sim: simulated, endpoints required
 *     endpoints:
 *       - id: sim-east
 *         price: {input: 0.50, cached_input: 0.25, output: 1.50}
 *         sim: {latency_ms: 120, ttft_ms: 40, token_interval_ms: 8, quality: 0.95, failure_rate: 0.02}
 * }</pre>
 * Prices are exact decimals with at most 9 decimal places (nano-USD), stored as
 * nano-USD per million tokens. Beside {@code input} and {@code output} (which reasoning tokens are
 * billed at too), a price may give {@code cached_input} (a prompt token read from the provider's
 * cache), {@code cache_write} (a prompt token written to it, for Anthropic with the five-minute
 * lifetime) and {@code cache_write_1h} (written for one hour). {@code cached_input} and {@code
 * cache_write} default to {@code input}, as OpenAI-type providers bill no write apart;
 * {@code cache_write_1h} defaults to {@code cache_write}. A sim model's price
 * is its first endpoint's; a model-level {@code price} on a sim model may be omitted and must match
 * if given.
 *
 * <p><b>Errors.</b> Loading fails with a {@link ConfigException} naming the file, the field path
 * ({@code models[3].aliases[0]}) and what was expected.
 */
public final class Catalog {

    /** Where the default catalog sits on the classpath (the build copies {@code conf/} there). */
    static final String BUILT_IN_RESOURCE = "io/brainstorm/proxy/conf/models.yaml";

    static final String SIM_PROVIDER = "sim";

    private static final String PRICE_FIELDS = "{input, cached_input, cache_write, cache_write_1h, output}";

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final Pattern BARE = Pattern.compile("[^\\s:]+");

    private static volatile @Nullable Catalog builtIn;

    private final List<ModelSpec> models;
    private final Map<String, ModelSpec> byId;
    private final Map<String, ModelSpec> byAlias;

    private Catalog(List<ModelSpec> models) {
        this.models = List.copyOf(models);
        Map<String, ModelSpec> ids = new HashMap<>();
        Map<String, ModelSpec> aliases = new HashMap<>();
        for (ModelSpec model : models) {
            ids.put(model.id(), model);
            for (String alias : model.aliases()) {
                aliases.put(alias, model);
            }
        }
        this.byId = Map.copyOf(ids);
        this.byAlias = Map.copyOf(aliases);
    }

    /**
     * A catalog of the given models, for code and tests that build their own.
     *
     * @throws IllegalArgumentException if an id or alias appears twice, or an alias equals an id
     */
    public static Catalog of(List<ModelSpec> models) {
        Map<String, String> owners = new HashMap<>();
        for (ModelSpec model : models) {
            if (owners.putIfAbsent(model.id(), model.id()) != null) {
                throw new IllegalArgumentException("id: " + YamlNode.quote(model.id()) + " (expected: unique)");
            }
        }
        for (ModelSpec model : models) {
            for (String alias : model.aliases()) {
                String other = owners.putIfAbsent(alias, model.id());
                if (other != null) {
                    throw new IllegalArgumentException("alias: " + YamlNode.quote(alias) + " of " + model.id()
                            + " (expected: unique; already names " + other + ")");
                }
            }
        }
        return new Catalog(models);
    }

    /** Loads and validates a catalog file. */
    public static Catalog load(Path file) throws ConfigException {
        try (InputStream in = Files.newInputStream(file)) {
            return load(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found (expected: a models.yaml catalog file)", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": unreadable (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Loads and validates a catalog from a stream (not closed here).
     *
     * @param sourceName names the source in error messages, e.g. the file name
     */
    public static Catalog load(InputStream in, String sourceName) throws ConfigException {
        String prefix = sourceName + ": ";
        YamlNode root = YamlNode.root(YamlNode.parse(in, prefix), prefix);
        root.expectKeys("models");
        List<YamlNode> entries = root.field("models").elements();
        if (entries.isEmpty()) {
            throw root.field("models").error("a non-empty list of models");
        }
        List<ModelSpec> models = new ArrayList<>(entries.size());
        Map<String, String> owners = new HashMap<>(); // id or alias -> path that defined it
        for (YamlNode entry : entries) {
            ModelSpec model = parseModel(entry);
            String first = owners.putIfAbsent(model.id(), entry.field("id").path());
            if (first != null) {
                throw entry.field("id").error("a unique id; " + first + " has it already");
            }
            models.add(model);
        }
        for (int m = 0; m < models.size(); m++) {
            List<YamlNode> aliases = entries.get(m).field("aliases").elements();
            for (YamlNode alias : aliases) {
                String first = owners.putIfAbsent(alias.text(""), alias.path());
                if (first != null) {
                    throw alias.error("an alias used once across the catalog and not equal to a model id; " + first
                            + " has it already");
                }
            }
        }
        return new Catalog(models);
    }

    /**
     * The catalog shipped inside the jar ({@code conf/models.yaml} at build time).
     *
     * @throws IllegalStateException if the resource is missing or invalid (a broken build)
     */
    public static Catalog builtIn() {
        Catalog catalog = builtIn;
        if (catalog == null) {
            // two threads may both load it; they get equal catalogs and one wins, which is harmless
            catalog = loadBuiltIn();
            builtIn = catalog;
        }
        return catalog;
    }

    private static Catalog loadBuiltIn() {
        try (InputStream in = Catalog.class.getClassLoader().getResourceAsStream(BUILT_IN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + BUILT_IN_RESOURCE
                        + ": missing (expected: copied into the jar from conf/models.yaml by the build)");
            }
            return load(in, "built-in " + BUILT_IN_RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** All models, in file order. */
    public List<ModelSpec> models() {
        return models;
    }

    /** The model with this id, else the model with this alias. Case-sensitive. */
    public Optional<ModelSpec> find(String idOrAlias) {
        ModelSpec model = byId.get(idOrAlias);
        return Optional.ofNullable(model != null ? model : byAlias.get(idOrAlias));
    }

    @Override
    public String toString() {
        return "Catalog[" + models.size() + " models]";
    }

    private static ModelSpec parseModel(YamlNode m) throws ConfigException {
        m.expectMapping(
                "a mapping describing one model",
                "id",
                "upstream_name",
                "aliases",
                "context_length",
                "max_output_tokens",
                "price",
                "capabilities",
                "created",
                "endpoints");
        YamlNode idNode = m.field("id");
        String id = idNode.requiredText();
        int slash = id.indexOf('/');
        if (slash <= 0
                || slash == id.length() - 1
                || !NAME.matcher(id.substring(0, slash)).matches()
                || !BARE.matcher(id).matches()) {
            throw idNode.error("provider/model, provider in lower-case letters, digits and '-', no spaces or ':'");
        }
        String provider = id.substring(0, slash);
        boolean simulated = provider.equals(SIM_PROVIDER);

        String upstreamName = m.field("upstream_name").text(id.substring(slash + 1));
        if (upstreamName.isBlank()) {
            throw m.field("upstream_name").error("a non-empty model name");
        }
        List<String> aliases = m.field("aliases").textsMatching(BARE, "a name without spaces or ':'");
        long contextLength = m.field("context_length").requiredInteger(1, Long.MAX_VALUE);
        long maxOutput = m.field("max_output_tokens").requiredInteger(0, Long.MAX_VALUE);
        Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
        for (YamlNode capability : m.field("capabilities").elements()) {
            capabilities.add(capability(capability));
        }
        long created = m.field("created").integer(0, 0, Long.MAX_VALUE);

        List<EndpointSpec> endpoints = new ArrayList<>();
        YamlNode endpointsNode = m.field("endpoints");
        if (simulated) {
            Set<String> seen = new HashSet<>();
            for (YamlNode endpoint : endpointsNode.elements()) {
                EndpointSpec spec = parseEndpoint(endpoint);
                if (!seen.add(spec.id())) {
                    throw endpoint.field("id").error("an endpoint id used once per model");
                }
                endpoints.add(spec);
            }
            if (endpoints.isEmpty()) {
                throw endpointsNode.error("at least one endpoint for a sim model");
            }
        } else if (!endpointsNode.elements().isEmpty()) {
            throw endpointsNode.error(
                    "no endpoints on a non-sim model; its endpoints are the providers in brainstorm.yaml");
        }

        Price price;
        YamlNode priceNode = m.field("price");
        if (simulated) {
            price = endpoints.get(0).price();
            if (priceNode.isSet() && !parsePrice(priceNode).equals(price)) {
                throw priceNode.error("the first endpoint's price, or no model-level price on a sim model");
            }
        } else {
            if (!priceNode.isSet()) {
                throw priceNode.error("a price: " + PRICE_FIELDS + " in USD per million tokens");
            }
            price = parsePrice(priceNode);
        }
        return new ModelSpec(
                id,
                provider,
                upstreamName,
                aliases,
                contextLength,
                maxOutput,
                price,
                capabilities,
                simulated,
                endpoints,
                created);
    }

    private static Capability capability(YamlNode node) throws ConfigException {
        String name = node.requiredText();
        for (Capability capability : Capability.values()) {
            if (capability.name().toLowerCase(Locale.ROOT).equals(name)) {
                return capability;
            }
        }
        throw node.error("one of tools, json, vision, embeddings");
    }

    private static EndpointSpec parseEndpoint(YamlNode e) throws ConfigException {
        e.expectKeys("id", "price", "sim");
        YamlNode idNode = e.field("id");
        String id = idNode.requiredText();
        if (!NAME.matcher(id).matches()) {
            throw idNode.error("lower-case letters, digits and '-'");
        }
        YamlNode priceNode = e.field("price");
        if (!priceNode.isSet()) {
            throw priceNode.error("a price: " + PRICE_FIELDS + " in USD per million tokens");
        }
        return new EndpointSpec(id, parsePrice(priceNode), parseProfile(e.field("sim")));
    }

    private static SimProfile parseProfile(YamlNode s) throws ConfigException {
        s.expectKeys("latency_ms", "ttft_ms", "token_interval_ms", "quality", "failure_rate");
        if (!s.isSet()) {
            throw s.error("{latency_ms, ttft_ms, token_interval_ms, quality, failure_rate}");
        }
        long latency = s.field("latency_ms").requiredInteger(0, Long.MAX_VALUE);
        long ttft = s.field("ttft_ms").integer(latency, 0, Long.MAX_VALUE);
        long interval = s.field("token_interval_ms").integer(0, 0, Long.MAX_VALUE);
        return new SimProfile(
                latency,
                ttft,
                interval,
                probability(s.field("quality"), 1.0),
                probability(s.field("failure_rate"), 0.0));
    }

    private static double probability(YamlNode node, double fallback) throws ConfigException {
        if (!node.isSet()) {
            return fallback;
        }
        BigDecimal value = node.requiredDecimal("a probability 0..1");
        if (value.signum() < 0 || value.compareTo(BigDecimal.ONE) > 0) {
            throw node.error("a probability 0..1");
        }
        return value.doubleValue();
    }

    /**
     * Reads {@code {input, cached_input, cache_write, cache_write_1h, output}} in USD per million
     * tokens: {@code cached_input} and {@code cache_write} default to {@code input}, {@code
     * cache_write_1h} to {@code cache_write}.
     */
    static Price parsePrice(YamlNode p) throws ConfigException {
        p.expectMapping(
                PRICE_FIELDS + " in USD per million tokens",
                "input",
                "cached_input",
                "cache_write",
                "cache_write_1h",
                "output");
        long input = nanoPerMillion(p.field("input"));
        long output = nanoPerMillion(p.field("output"));
        long cached = p.field("cached_input").isSet() ? nanoPerMillion(p.field("cached_input")) : input;
        long write = p.field("cache_write").isSet() ? nanoPerMillion(p.field("cache_write")) : input;
        long write1h = p.field("cache_write_1h").isSet() ? nanoPerMillion(p.field("cache_write_1h")) : write;
        return new Price(input, output, cached, write, write1h);
    }

    /** A USD decimal as exact nano-USD: {@code 2.50} is {@code 2_500_000_000}. */
    static long nanoPerMillion(YamlNode node) throws ConfigException {
        String expected = "a non-negative decimal in USD per million tokens";
        BigDecimal usd = node.requiredDecimal(expected);
        if (usd.signum() < 0) {
            throw node.error(expected);
        }
        BigDecimal nano = usd.movePointRight(9);
        try {
            return nano.longValueExact();
        } catch (ArithmeticException e) {
            if (nano.stripTrailingZeros().scale() > 0) {
                throw node.error("at most 9 decimal places (1 nano-USD)");
            }
            throw node.error("at most " + BigDecimal.valueOf(Long.MAX_VALUE, 9).toPlainString() + " USD");
        }
    }
}
