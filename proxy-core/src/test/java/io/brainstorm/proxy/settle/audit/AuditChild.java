package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;
import java.nio.file.Path;
import java.time.InstantSource;

/**
 * A second gateway process's audit writer, for {@link AuditProcessesTest}: opens the trail of
 * {@code args[0]} and prints {@code slot N}; then {@code args[1]} says what to do:
 * {@code write N} writes N records, closes and prints {@code done}; {@code flood} writes records
 * without end, printing {@code written N} every 1,000, until it is killed.
 */
public final class AuditChild {
    private AuditChild() {}

    public static void main(String[] args) throws Exception {
        AuditLog log = AuditLog.open(
                AuditTesting.config(AuditConfig.Fsync.BATCH, 64, 65_536),
                Path.of(args[0]),
                AuditTesting.ENV,
                InstantSource.system());
        System.out.println("slot " + log.slot());
        System.out.flush();
        if (args[1].equals("write")) {
            int n = Integer.parseInt(args[2]);
            for (int i = 0; i < n; i++) {
                log.accept(AuditTesting.completion(AuditTesting.T0 + i, 1000 + i));
            }
            log.close();
            System.out.println("done " + log.written());
            System.out.flush();
            return;
        }
        long next = 1000;
        for (int i = 0; ; i++) {
            log.accept(AuditTesting.completion(AuditTesting.T0 + i, i));
            if (log.written() >= next) {
                System.out.println("written " + log.written());
                System.out.flush();
                next += 1000;
            }
            if (i % 64 == 0) {
                Thread.sleep(1);
            }
        }
    }
}
