package io.brainstorm.proxy.settle.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.Cost;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * One audit record as bytes: a JSON object on one line, fields in a fixed order, ending with
 * {@code ,"mac":"<64 hex>"}} and a newline.
 *
 * <p><b>The chain.</b> {@code mac} = HMAC-SHA-256(key, prev || body), where {@code prev} is the
 * 32 bytes of the previous record's MAC (32 zero bytes before the very first record) and
 * {@code body} is the line's bytes as written with the {@code ,"mac":"…"} member cut out, that is
 * the object up to the last field before {@code mac}, closed with its {@code }}. Verifying reads the
 * bytes as they are on disk and never re-serializes, so the MAC covers exactly what a reader sees.
 *
 * <p><b>Threading:</b> an instance (its {@link Mac} and buffers) belongs to one thread, the writer's
 * or a verifier's.
 */
final class AuditFormat {
    static final int MAC_BYTES = 32;
    static final String ZERO_MAC = "0".repeat(MAC_BYTES * 2);
    /** {@code ,"mac":"} + 64 hex + {@code "}}. */
    private static final byte[] MAC_OPEN = ",\"mac\":\"".getBytes(StandardCharsets.US_ASCII);

    static final int MAC_SUFFIX = MAC_OPEN.length + MAC_BYTES * 2 + 2;
    private static final HexFormat HEX = HexFormat.of();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SECONDS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final JsonFactory FACTORY = new JsonFactory();

    private final Mac mac;
    private final boolean recordContent;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(1024);
    /** One generator on {@link #body} for every record (made again after a failure mid-record). */
    private JsonGenerator gen;

    private long cachedSecond = Long.MIN_VALUE;
    private @Nullable String cachedPrefix;

    /** A gap: records that were never written, and why. {@code from}/{@code to} are epoch ms or -1 when unknown. */
    record Gap(long lost, String reason, long from, long to) {}

    /**
     * An event of the shared state store ({@code "type":"state"}): budget writes that waited for it.
     * {@code event} is {@link #WAITING}, {@link #WRITTEN} or {@link #LOST}; the other fields are those
     * of its event (docs/audit.md), 0, -1 or null elsewhere.
     *
     * @param atMillis      the record's {@code time}
     * @param firstWrite    {@link #WAITING}: the kind of the first write that waited
     * @param writes        {@link #WRITTEN}, {@link #LOST}: how many writes
     * @param settledNano   {@link #WRITTEN}: the spend of the settles among them
     * @param journaledNano {@link #WRITTEN}: the spend of the journal batches among them
     * @param from          {@link #WRITTEN}: when the first write had to wait, epoch ms
     * @param to            {@link #WRITTEN}: when the last was written, epoch ms
     * @param reason        {@link #LOST}: why
     */
    record State(
            long atMillis,
            String store,
            String event,
            @Nullable String firstWrite,
            long writes,
            long settledNano,
            long journaledNano,
            long from,
            long to,
            @Nullable String reason) {
        static final String WAITING = "writes_waiting";
        static final String WRITTEN = "waiting_written";
        static final String LOST = "writes_lost";
    }

    AuditFormat(byte[] key, boolean recordContent) {
        try {
            this.mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
        this.recordContent = recordContent;
        this.gen = newGenerator();
    }

    private JsonGenerator newGenerator() {
        try {
            JsonGenerator g = FACTORY.createGenerator(body);
            g.setRootValueSeparator(null);
            return g;
        } catch (IOException e) {
            throw new UncheckedIOException("a JSON writer on a byte array failed", e);
        }
    }

    /** As {@link #time}, reusing the formatted second of the record before: a batch shares most seconds. */
    String timeOf(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != cachedSecond) {
            cachedPrefix = SECONDS.format(Instant.ofEpochSecond(second));
            cachedSecond = second;
        }
        int ms = (int) Math.floorMod(epochMillis, 1000);
        return cachedPrefix + (ms < 10 ? ".00" : ms < 100 ? ".0" : ".") + ms + "Z";
    }

    /** ISO-8601 UTC with milliseconds: {@code 2025-01-01T00:00:00.000Z}. */
    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Appends {@code c}'s line (newline included) to {@code out}; returns its MAC. */
    byte[] appendRequest(ByteArrayOutputStream out, long seq, byte[] prev, Completion c) {
        body.reset();
        JsonGenerator g = gen;
        try {
            start(g, seq, prev, timeOf(c.atMillis()), "request");
            g.writeStringField("request_id", c.requestId());
            g.writeStringField("tenant", c.tenant());
            g.writeStringField("key_id", c.keyId());
            g.writeStringField("app", c.app());
            g.writeStringField("operation", c.operation());
            g.writeStringField("requested_model", c.requestedModel());
            g.writeStringField("selected_model", c.selectedModel());
            g.writeStringField("endpoint", c.endpoint());
            g.writeStringField("strategy", c.strategy());
            g.writeNumberField("status", c.status());
            g.writeStringField("error_code", c.errorCode());
            g.writeBooleanField("stream", c.stream());
            g.writeNumberField("prompt_tokens", c.promptTokens());
            g.writeNumberField("completion_tokens", c.completionTokens());
            g.writeNumberField("cached_tokens", c.cachedTokens());
            g.writeNumberField("cache_write_tokens", c.cacheWriteTokens());
            g.writeFieldName("cost_usd");
            g.writeNumber(Cost.formatUsd(c.costNanoUsd()));
            g.writeBooleanField("cost_estimated", c.costEstimated());
            g.writeFieldName("latency_ms");
            g.writeNumber(millis(c.latencyMicros()));
            g.writeFieldName("ttft_ms");
            if (c.ttftMicros() < 0) {
                g.writeNull();
            } else {
                g.writeNumber(millis(c.ttftMicros()));
            }
            g.writeNumberField("fallbacks", c.fallbacks());
            g.writeStringField("format", c.format());
            g.writeFieldName("score");
            if (c.scored()) {
                g.writeNumber(c.score());
            } else {
                g.writeNull();
            }
            g.writeStringField(
                    "score_outcome",
                    c.scoreOutcome() == null ? null : c.scoreOutcome().label());
            if (recordContent) {
                g.writeStringField("prompt", c.prompt());
                g.writeStringField("answer", c.answer());
            }
            return end(g, out, prev);
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    /** Appends a gap record's line to {@code out}; returns its MAC. */
    byte[] appendGap(ByteArrayOutputStream out, long seq, byte[] prev, long atMillis, Gap gap) {
        body.reset();
        JsonGenerator g = gen;
        try {
            start(g, seq, prev, timeOf(atMillis), "gap");
            g.writeNumberField("lost", gap.lost());
            g.writeStringField("reason", gap.reason());
            g.writeStringField("from", gap.from() < 0 ? null : time(gap.from()));
            g.writeStringField("to", gap.to() < 0 ? null : time(gap.to()));
            return end(g, out, prev);
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    /** Appends a state record's line to {@code out}; returns its MAC. */
    byte[] appendState(ByteArrayOutputStream out, long seq, byte[] prev, State st) {
        body.reset();
        JsonGenerator g = gen;
        try {
            start(g, seq, prev, timeOf(st.atMillis()), "state");
            g.writeStringField("store", st.store());
            g.writeStringField("event", st.event());
            switch (st.event()) {
                case State.WAITING -> g.writeStringField("first_write", st.firstWrite());
                case State.WRITTEN -> {
                    g.writeNumberField("writes", st.writes());
                    g.writeFieldName("settled_usd");
                    g.writeNumber(Cost.formatUsd(st.settledNano()));
                    g.writeFieldName("journaled_usd");
                    g.writeNumber(Cost.formatUsd(st.journaledNano()));
                    g.writeStringField("from", st.from() < 0 ? null : time(st.from()));
                    g.writeStringField("to", st.to() < 0 ? null : time(st.to()));
                }
                default -> {
                    g.writeNumberField("writes", st.writes());
                    g.writeStringField("reason", st.reason());
                }
            }
            return end(g, out, prev);
        } catch (IOException | RuntimeException e) {
            throw failed(e);
        }
    }

    private static void start(JsonGenerator g, long seq, byte[] prev, String time, String type) throws IOException {
        g.writeStartObject();
        g.writeNumberField("seq", seq);
        g.writeStringField("prev", HEX.formatHex(prev));
        g.writeStringField("time", time);
        g.writeStringField("type", type);
    }

    /** {@code 1234} µs → {@code 1.234}. */
    private static String millis(long micros) {
        return BigDecimal.valueOf(micros, 3).toPlainString();
    }

    /** MACs the body and appends it to {@code out} with the {@code mac} member and a newline. */
    /** Closes the record's object and seals it onto {@code out}; returns its MAC. */
    private byte[] end(JsonGenerator g, ByteArrayOutputStream out, byte[] prev) throws IOException {
        g.writeEndObject();
        g.flush();
        return seal(out, prev);
    }

    /** A record that could not be written: the generator may be broken, so the next record gets a new one. */
    private IllegalStateException failed(Exception e) {
        gen = newGenerator();
        return new IllegalStateException("serializing an audit record in memory failed", e);
    }

    private byte[] seal(ByteArrayOutputStream out, byte[] prev) {
        byte[] b = body.toByteArray();
        mac.update(prev);
        mac.update(b);
        byte[] m = mac.doFinal();
        out.write(b, 0, b.length - 1);
        out.writeBytes(MAC_OPEN);
        out.writeBytes(HEX.formatHex(m).getBytes(StandardCharsets.US_ASCII));
        out.write('"');
        out.write('}');
        out.write('\n');
        return m;
    }

    /** A line read back: its fields, and whether its MAC holds under the key. */
    record Parsed(JsonNode json, long seq, String prev, String mac, boolean macValid, boolean gap) {}

    /**
     * Parses one line (without its newline) and checks its MAC against its own {@code prev}.
     *
     * @throws IllegalArgumentException when the line is not an audit record: the message says what is wrong
     */
    Parsed parse(byte[] line, int length) {
        if (length < MAC_SUFFIX + 2
                || line[0] != '{'
                || line[length - 1] != '}'
                || line[length - 2] != '"'
                || !Arrays.equals(
                        line,
                        length - MAC_SUFFIX,
                        length - MAC_SUFFIX + MAC_OPEN.length,
                        MAC_OPEN,
                        0,
                        MAC_OPEN.length)) {
            throw new IllegalArgumentException(
                    "not an audit record (expected: a JSON object ending with" + " ,\"mac\":\"<64 hex digits>\"})");
        }
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(line, 0, length);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode seq = json.get("seq");
        JsonNode prev = json.get("prev");
        String macHex = json.path("mac").asText();
        if (seq == null || !seq.canConvertToLong() || prev == null || !isHex(prev.asText()) || !isHex(macHex)) {
            throw new IllegalArgumentException("seq, prev or mac missing or malformed");
        }
        byte[] prevBytes = HEX.parseHex(prev.asText());
        mac.update(prevBytes);
        mac.update(line, 0, length - MAC_SUFFIX);
        mac.update((byte) '}');
        byte[] expected = mac.doFinal();
        boolean valid = MessageDigest.isEqual(expected, HEX.parseHex(macHex));
        return new Parsed(
                json,
                seq.asLong(),
                prev.asText(),
                macHex,
                valid,
                "gap".equals(json.path("type").asText()));
    }

    private static boolean isHex(String s) {
        return s.length() == MAC_BYTES * 2
                && s.chars().allMatch(ch -> ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f');
    }

    static String hex(byte @Nullable [] mac) {
        return HEX.formatHex(mac);
    }

    static byte[] unhex(String mac) {
        return HEX.parseHex(mac);
    }
}
