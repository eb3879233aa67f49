package io.brainstorm.proxy.settle.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code head.json} (or {@code head.<slot>.json}) in the audit folder: the chain's last record as
 * the writer last saw it, rewritten at most once a second and at close. Informational: the admin
 * API publishes the live head.
 *
 * <p><b>Threading.</b> The writer thread's.
 *
 * <p><b>Errors.</b> A failed write is ignored; the next one tries again.
 */
final class HeadFile {
    private static final long HEAD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path dir;
    private final String name;
    private AuditLog.@Nullable Head written;
    private long writtenAt;

    /**
     * @param written the head the file already shows (the one found at open), or null
     */
    HeadFile(Path dir, int slot, AuditLog.@Nullable Head written) {
        this.dir = dir;
        this.name = slot == 0 ? "head.json" : "head." + slot + ".json";
        this.written = written;
    }

    /** Writes {@code h} unless the file shows it already, or (unless {@code now}) was written within a second. */
    void persist(AuditLog.Head h, boolean now) {
        long t = System.nanoTime();
        if (h.equals(written) || (!now && t - writtenAt < HEAD_NANOS)) {
            return;
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("slot", h.slot());
        o.put("file", h.file());
        o.put("seq", h.seq());
        o.put("mac", h.mac());
        o.put("time", h.time());
        String json = o.toString() + "\n";
        try {
            Path tmp = dir.resolve(name + ".tmp");
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            written = h;
            writtenAt = t;
        } catch (IOException e) {
            // informational only (the admin API publishes the live head); the next write tries again
            writtenAt = t;
        }
    }
}
