package io.brainstorm.proxy.settle.audit;

import io.brainstorm.proxy.config.AuditConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A second gateway process's audit writer, for {@link AuditProcessesTest}: opens the trail of
 * {@code args[0]} and prints {@code slot N}; then {@code args[1]} says what to do:
 * {@code write N} writes N records, closes and prints {@code done}; {@code flood} writes records
 * without end, printing {@code written N} every 1,000, until it is killed.
 */
public final class AuditChild {
    private AuditChild() {
    }

    public static void main(String[] args) throws Exception {
        AuditLog log = AuditLog.open(AuditTesting.config(AuditConfig.Fsync.BATCH, 64, 65_536), Path.of(args[0]),
                AuditTesting.ENV, InstantSource.system());
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

    /** Starts this class in a new JVM with this JVM's java and class path. */
    static Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("-Xmx128m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(AuditChild.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** The next line the child printed that starts with {@code prefix}; fails if it exits first. */
    static String await(BufferedReader out, Process p, String prefix) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new IOException("child exited (" + p.onExit().join().exitValue() + ") before printing " + prefix);
    }

    static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }
}
