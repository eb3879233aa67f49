package io.brainstorm.proxy.settle.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The names of the audit trail's day files: {@code audit-YYYY-MM-DD.jsonl} for the writer in slot 0
 * and {@code audit-YYYY-MM-DD.<slot>.jsonl} for a writer in slot 1, 2, … (another gateway process
 * on the same folder, see {@link AuditLog}). The day is the UTC day of the records inside.
 */
public final class AuditFiles {
    private static final Pattern NAME = Pattern.compile("audit-(\\d{4}-\\d{2}-\\d{2})(?:\\.([1-9]\\d{0,3}))?\\.jsonl");

    /** One day file of one writer slot. */
    public record DayFile(Path path, LocalDate day, int slot) {
        public String name() {
            return path.getFileName().toString();
        }
    }

    /** Oldest first for one writer; across writers, slot 0 first. */
    static final Comparator<DayFile> CHAIN_ORDER =
            Comparator.comparingInt(DayFile::slot).thenComparing(DayFile::day);
    /** By day, and within a day by slot: the admin API's reading order. */
    static final Comparator<DayFile> DAY_ORDER =
            Comparator.comparing(DayFile::day).thenComparingInt(DayFile::slot);

    private AuditFiles() {}

    /** {@code audit-2025-01-01.jsonl} (slot 0) or {@code audit-2025-01-01.2.jsonl}. */
    public static String name(LocalDate day, int slot) {
        return "audit-" + day + (slot == 0 ? "" : "." + slot) + ".jsonl";
    }

    /** The day file {@code file} names, or null when its name is not a day file's. */
    public static @Nullable DayFile parse(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return null;
        }
        try {
            LocalDate day = LocalDate.parse(m.group(1));
            return new DayFile(file, day, m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** The day files in {@code dir} (none when it does not exist), in {@code order}. */
    static List<DayFile> list(Path dir, Comparator<DayFile> order) throws IOException {
        List<DayFile> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> {
                DayFile f = parse(p);
                if (f != null && Files.isRegularFile(p)) {
                    out.add(f);
                }
            });
        }
        out.sort(order);
        return out;
    }
}
