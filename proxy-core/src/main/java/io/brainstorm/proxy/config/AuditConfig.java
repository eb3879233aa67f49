package io.brainstorm.proxy.config;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The {@code audit} section of {@code brainstorm.yaml}: the HMAC-chained request log (docs/architecture.md §9).
 *
 * @param enabled        false: no audit trail is written
 * @param dir            folder of the daily files {@code audit-YYYY-MM-DD.jsonl}; null: {@code <state_dir>/audit}
 * @param keyFile        the HMAC key, kept outside {@code dir}; null: {@code <state_dir>/audit.key}
 *                       ({@code BR_AUDIT_KEY} overrides it)
 * @param fsync          when written batches are forced to disk
 * @param fsyncInterval  for {@link Fsync#INTERVAL}: at most this long between forces
 * @param batchRecords   most records the writer takes from its queue per write
 * @param queueRecords   records waiting for the writer before new ones are counted as lost (a gap)
 * @param recordContent  true: prompts and answers are written too (off by default)
 */
public record AuditConfig(
        boolean enabled,
        @Nullable Path dir,
        @Nullable Path keyFile,
        Fsync fsync,
        Duration fsyncInterval,
        int batchRecords,
        int queueRecords,
        boolean recordContent) {

    /** When the writer forces its file to disk. */
    public enum Fsync {
        /** After every batch: a crash loses at most the batch being written. */
        BATCH,
        /** At most every {@code fsync_interval}: cheaper, a crash may lose that much. */
        INTERVAL,
        /** Never explicitly: the operating system decides (a power loss may lose more). */
        NONE
    }

    public static final AuditConfig DEFAULTS =
            new AuditConfig(true, null, null, Fsync.BATCH, Duration.ofSeconds(1), 512, 65_536, false);

    /** The daily files' folder. */
    public Path dir(Path stateDir) {
        return dir != null ? dir : stateDir.resolve("audit");
    }

    /** The HMAC key's file. */
    public Path keyFile(Path stateDir) {
        return keyFile != null ? keyFile : stateDir.resolve("audit.key");
    }
}
