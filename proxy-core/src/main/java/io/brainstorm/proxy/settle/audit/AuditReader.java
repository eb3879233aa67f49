package io.brainstorm.proxy.settle.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the audit trail back for the admin API ({@code GET /admin/v1/audit}): the records of the
 * day files between two times that match a filter, a page at a time, oldest first. Records appear
 * once the writer has written them (a batch later).
 *
 * <p><b>Order.</b> By day; within a day, writer slot 0's file, then slot 1's, …; within a file, as
 * written. With one gateway process that is the order of the chain.
 *
 * <p><b>Cursor.</b> Opaque to clients: base64url of {@code <file name>:<byte offset>}, the position
 * after the last record of the page. A page scans at most {@link #MAX_SCAN_BYTES}; it may then hold
 * fewer records than asked for even though more follow, so clients follow {@code next_cursor}
 * until it is null.
 *
 * <p><b>Threading:</b> stateless; reads files while the writer appends (only whole lines are read).
 */
public final class AuditReader {
    public static final int MAX_SCAN_BYTES = 64 * 1024 * 1024;

    /**
     * What to return. Null fields match everything.
     *
     * @param from   records at or after this time
     * @param to     records before this time
     * @param tenant only this tenant's records (a tenant admin's scope)
     * @param keyId  only this key's records
     * @param model  records whose requested or selected model is this
     * @param status records with this HTTP status
     */
    public record Query(
            Instant from,
            Instant to,
            @Nullable String tenant,
            @Nullable String keyId,
            @Nullable String model,
            @Nullable Integer status) {}

    /** A page: the records (as written, {@code mac} included) and where the next page starts, or null at the end. */
    public record Page(List<JsonNode> records, @Nullable String nextCursor) {}

    /** A cursor that does not name a day file of the folder, or not a line's start. */
    public static final class BadCursorException extends IllegalArgumentException {
        BadCursorException(String message) {
            super(message);
        }
    }

    private AuditReader() {}

    /**
     * @param cursor a previous page's {@code nextCursor}, or null for the first page
     * @param limit  at most this many records
     * @throws BadCursorException when {@code cursor} is not one this folder gave out
     */
    public static Page page(Path dir, Query q, @Nullable String cursor, int limit) throws IOException {
        return page(dir, q, cursor, limit, MAX_SCAN_BYTES);
    }

    static Page page(Path dir, Query q, @Nullable String cursor, int limit, long maxScan) throws IOException {
        LocalDate fromDay = LocalDate.ofInstant(q.from(), ZoneOffset.UTC);
        LocalDate toDay = LocalDate.ofInstant(q.to().minusMillis(1), ZoneOffset.UTC);
        String fromText = AuditFormat.time(q.from().toEpochMilli());
        String toText = AuditFormat.time(q.to().toEpochMilli());
        List<AuditFiles.DayFile> files = new ArrayList<>();
        for (AuditFiles.DayFile f : AuditFiles.list(dir, AuditFiles.DAY_ORDER)) {
            if (!f.day().isBefore(fromDay) && !f.day().isAfter(toDay)) {
                files.add(f);
            }
        }
        int fileIndex = 0;
        long offset = 0;
        if (cursor != null) {
            String decoded;
            try {
                decoded = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new BadCursorException("cursor: not a cursor this API gave out");
            }
            int colon = decoded.lastIndexOf(':');
            AuditFiles.DayFile named = colon < 0 ? null : AuditFiles.parse(Path.of(decoded.substring(0, colon)));
            if (named == null || decoded.indexOf('/') >= 0) {
                throw new BadCursorException("cursor: not a cursor this API gave out");
            }
            try {
                offset = Long.parseLong(decoded.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new BadCursorException("cursor: not a cursor this API gave out");
            }
            fileIndex = -1;
            for (int i = 0; i < files.size(); i++) {
                if (files.get(i).name().equals(named.name())) {
                    fileIndex = i;
                }
            }
            if (fileIndex < 0) {
                // its file is outside from..to (the query changed) or gone: start after its place
                fileIndex = 0;
                offset = 0;
                while (fileIndex < files.size()
                        && AuditFiles.DAY_ORDER.compare(
                                        files.get(fileIndex),
                                        new AuditFiles.DayFile(named.path(), named.day(), named.slot()))
                                < 0) {
                    fileIndex++;
                }
            }
        }
        List<JsonNode> out = new ArrayList<>();
        long scanned = 0;
        for (; fileIndex < files.size(); fileIndex++, offset = 0) {
            AuditFiles.DayFile f = files.get(fileIndex);
            try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
                long size = ch.size();
                if (offset > size) {
                    throw new BadCursorException("cursor: beyond the end of " + f.name());
                }
                ch.position(offset);
                try (AuditVerifier.LineReader r = new AuditVerifier.LineReader(noClose(Channels.newInputStream(ch)))) {
                    long pos = offset;
                    AuditVerifier.LineReader.Line line;
                    while ((line = r.next()) != null && !line.torn()) {
                        pos += line.length() + 1;
                        scanned += line.length() + 1;
                        JsonNode rec = parse(line);
                        if (rec != null && matches(rec, q, fromText, toText)) {
                            out.add(rec);
                            if (out.size() == limit) {
                                return new Page(out, more(files, fileIndex, pos, size) ? cursor(f, pos) : null);
                            }
                        }
                        if (scanned >= maxScan) {
                            return new Page(out, more(files, fileIndex, pos, size) ? cursor(f, pos) : null);
                        }
                    }
                }
            }
        }
        return new Page(out, null);
    }

    private static boolean more(List<AuditFiles.DayFile> files, int index, long pos, long size) {
        return pos < size || index + 1 < files.size();
    }

    private static String cursor(AuditFiles.DayFile f, long offset) {
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString((f.name() + ":" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static @Nullable JsonNode parse(AuditVerifier.LineReader.Line line) {
        try {
            JsonNode n = Json.MAPPER.readTree(line.bytes(), 0, line.length());
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean matches(JsonNode r, Query q, String fromText, String toText) {
        String time = r.path("time").asText("");
        // ISO-8601 UTC with milliseconds compares as text
        if (time.compareTo(fromText) < 0 || time.compareTo(toText) >= 0) {
            return false;
        }
        if (q.tenant() != null && !q.tenant().equals(r.path("tenant").asText(null))) {
            return false;
        }
        if (q.keyId() != null && !q.keyId().equals(r.path("key_id").asText(null))) {
            return false;
        }
        if (q.model() != null
                && !q.model().equals(r.path("requested_model").asText(null))
                && !q.model().equals(r.path("selected_model").asText(null))) {
            return false;
        }
        return q.status() == null
                || (r.path("status").isInt() && r.path("status").asInt() == q.status());
    }

    /** The channel is closed by its own try block. */
    private static InputStream noClose(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override
            public void close() {}
        };
    }
}
