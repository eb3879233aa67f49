package io.brainstorm.proxy.settle;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Client-supplied JSON schemas (a {@code json_schema} response format, a tool's
 * {@code parameters}), compiled once with networknt json-schema-validator and kept by the
 * SHA-256 of their canonical text (compact, object keys sorted), so that the schema an SDK sends
 * with every request is compiled on its first answer only.
 *
 * <p><b>What a client cannot make the gateway do.</b> Fetch anything: the registry's schema loader
 * refuses every IRI (a remote or relative {@code $ref}, an unknown {@code $schema},
 * {@code classpath:}), so only in-document references resolve; the registry does not cache
 * schemas by {@code $id} either, so one client's schema never answers another's reference.
 * Compile a schema larger than {@code scoring.max_schema_bytes}. Backtrack without bound in a
 * {@code pattern} ({@link BoundedRegex}). Fill memory: at most {@value #MAX_ENTRIES} schemas and
 * {@value #MAX_TOTAL_BYTES} bytes of schema text are kept, least recently used first out.
 *
 * <p>A schema that fails any of these, or that is not a valid schema by its dialect's meta-schema
 * (2020-12 unless {@code $schema} names draft 4, 6, 7 or 2019-09), is <i>unusable</i>: answers to
 * its request are not scored ({@link ScoreOutcome#SCHEMA_UNUSABLE}).
 *
 * <p><b>When work happens.</b> {@link #entry} runs on the event loop when the request's
 * {@link ScoreSpec} is made: it writes the canonical text, hashes it and looks it up (a few µs for
 * a small schema). Compiling (meta-schema check and networknt's compile, 0.1–1 ms) waits for
 * {@link Entry#compiled()}, which the scorer calls off the event loop, once per entry.
 *
 * <p><b>Threading:</b> thread-safe; the map is guarded by its own lock, held only for a lookup.
 */
final class SchemaCache {
    static final int MAX_ENTRIES = 1024;
    static final long MAX_TOTAL_BYTES = 16L * 1024 * 1024;

    private static final System.Logger log = System.getLogger(SchemaCache.class.getName());

    /** Canonical text: keys sorted at every level, no whitespace. */
    private static final ObjectWriter CANONICAL = JsonMapper.builder()
            .enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
            .build()
            .writer();

    private static final ObjectMapper READ = JsonMapper.builder().build();

    private final int maxSchemaBytes;
    private final LongAdder compiles = new LongAdder();
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long totalBytes;

    SchemaCache(int maxSchemaBytes) {
        this.maxSchemaBytes = maxSchemaBytes;
    }

    /** How many schemas were compiled (or failed to compile) so far. */
    long compiles() {
        return compiles.sum();
    }

    /** How many schemas the cache holds. */
    synchronized int size() {
        return entries.size();
    }

    /** The cache entry of {@code schema}, made and kept if new; an unusable entry when it is too large or no schema. */
    Entry entry(JsonNode schema) {
        if (schema == null || !(schema.isObject() || schema.isBoolean())) {
            return Entry.unusable("schema: "
                    + (schema == null ? "missing" : schema.getNodeType().name().toLowerCase(java.util.Locale.ROOT))
                    + " (expected: an object or a boolean)");
        }
        Limited out = new Limited(maxSchemaBytes);
        try {
            CANONICAL.writeValue(out, schema);
        } catch (IOException | RuntimeException e) {
            // Jackson may wrap the sink's exception: the flag says what happened
            return Entry.unusable(
                    out.exceeded
                            ? "schema: more than " + maxSchemaBytes
                                    + " bytes (expected: at most scoring.max_schema_bytes)"
                            : "schema: cannot be written (" + e.getMessage() + ")");
        }
        byte[] canonical = out.bytes();
        String key = sha256(canonical);
        synchronized (this) {
            Entry e = entries.get(key);
            if (e != null) {
                return e;
            }
            e = new Entry(canonical, this);
            entries.put(key, e);
            totalBytes += canonical.length;
            Iterator<Entry> eldest = entries.values().iterator();
            while ((entries.size() > MAX_ENTRIES || totalBytes > MAX_TOTAL_BYTES) && eldest.hasNext()) {
                Entry old = eldest.next();
                if (old == e) {
                    break;
                }
                totalBytes -= old.size;
                eldest.remove();
            }
            return e;
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * One schema: its canonical text until compiled, then the compiled {@link Schema} or why it is
     * unusable. Compiles at most once, on the first {@link #compiled()}.
     */
    static final class Entry {
        private final int size;
        private final @Nullable SchemaCache owner;
        private byte @Nullable [] canonical;
        private volatile @Nullable Schema schema;
        private volatile @Nullable String unusable;

        private Entry(byte[] canonical, SchemaCache owner) {
            this.size = canonical.length;
            this.canonical = canonical;
            this.owner = owner;
        }

        private Entry(String unusable) {
            this.size = 0;
            this.owner = null;
            this.unusable = unusable;
        }

        static Entry unusable(String why) {
            return new Entry(why);
        }

        /** Why the schema cannot be used, if known without compiling (too large, not a schema); else null. */
        @Nullable
        String knownUnusable() {
            return unusable;
        }

        /** The compiled schema, compiling it now if needed; null when unusable ({@link #unusable()} says why). */
        @Nullable
        Schema compiled() {
            Schema s = schema;
            if (s != null || unusable != null) {
                return s;
            }
            synchronized (this) {
                if (schema == null && unusable == null) {
                    compile();
                }
                return schema;
            }
        }

        /** Why the schema is unusable, after {@link #compiled()} returned null. */
        @Nullable
        String unusable() {
            return unusable;
        }

        private void compile() {
            // only an entry made from a schema's text is compiled, and it has its cache
            Objects.requireNonNull(owner, "owner of a compiled entry").compiles.increment();
            byte[] text = canonical;
            canonical = null;
            try {
                JsonNode node = READ.readTree(text);
                String invalid = Registries.metaSchemaError(node);
                if (invalid != null) {
                    unusable = "schema: invalid (" + invalid + ")";
                    return;
                }
                Schema s = Registries.CLIENT.getSchema(node);
                s.initializeValidators();
                schema = s;
            } catch (IOException | RuntimeException | StackOverflowError e) {
                unusable = "schema: cannot be compiled (" + e.getMessage() + ")";
            }
            if (unusable != null) {
                log.log(System.Logger.Level.DEBUG, unusable);
            }
        }
    }

    /** The two networknt registries, made on first use (loading the meta-schemas takes ~100 ms). */
    private static final class Registries {
        /** Client schemas: nothing is loaded by IRI, patterns are bounded, nothing is cached by {@code $id}. */
        static final SchemaRegistry CLIENT = SchemaRegistry.withDefaultDialect(
                SpecificationVersion.DRAFT_2020_12,
                b -> b.schemaCacheEnabled(false)
                        .schemaLoader(l -> l.allow(iri -> false))
                        .schemaRegistryConfig(SchemaRegistryConfig.builder()
                                .regularExpressionFactory(BoundedRegex.INSTANCE)
                                .build()));
        /**
         * The meta-schemas, ours: they load from the validator's jar (json-schema.org IRIs map
         * to its class path; no loader that fetches remotely is installed).
         */
        private static final SchemaRegistry META = SchemaRegistry.withDefaultDialect(
                SpecificationVersion.DRAFT_2020_12,
                b -> b.schemaLoader(l -> l.allow(iri -> {
                    String s = iri.toString();
                    return s.startsWith("https://json-schema.org/") || s.startsWith("http://json-schema.org/");
                })));

        private static final Map<SpecificationVersion, Schema> META_SCHEMAS =
                new java.util.concurrent.ConcurrentHashMap<>();

        /** The first meta-schema error of {@code schema}, or null when it is a valid schema. */
        static @Nullable String metaSchemaError(JsonNode schema) {
            SpecificationVersion version =
                    SpecificationVersion.fromSchemaNode(schema).orElse(SpecificationVersion.DRAFT_2020_12);
            Schema meta = META_SCHEMAS.computeIfAbsent(version, v -> {
                Schema m = META.getSchema(SchemaLocation.of(v.getDialectId()));
                m.initializeValidators();
                return m;
            });
            List<Error> errors = meta.validate(schema);
            return errors.isEmpty() ? null : errors.get(0).toString();
        }
    }

    /** A byte sink that throws past its limit, so a huge schema is not written whole. */
    private static final class Limited extends OutputStream {
        private final int limit;
        private byte[] buf = new byte[256];
        private int size;
        boolean exceeded;

        Limited(int limit) {
            this.limit = limit;
        }

        @Override
        public void write(int b) throws IOException {
            ensure(1);
            buf[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ensure(len);
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }

        private void ensure(int more) throws IOException {
            if ((long) size + more > limit) {
                exceeded = true;
                throw new IOException("more than " + limit + " bytes");
            }
            if (size + more > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(limit, Math.max(buf.length * 2, size + more)));
            }
        }

        byte[] bytes() {
            return java.util.Arrays.copyOf(buf, size);
        }
    }
}
