package io.brainstorm.proxy.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Opens a state directory, reserves and settles once, and prints what opening cost: wall time
 * and resident memory (anonymous and file-backed apart, from {@code /proc/self/status}). Checks
 * that Chronicle works where the gateway will run it (the shaded jar, each JDK);
 * {@code java -cp brainstorm-proxy.jar io.brainstorm.proxy.state.StateStoreCheck [DIR]}, with a
 * throw-away directory when none is given.
 */
public final class StateStoreCheck {
    private StateStoreCheck() {}

    public static void main(String[] args) throws IOException {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("br-state-check");
        boolean fresh = !Files.exists(dir.resolve("rates.cm3"));
        String before = memory();
        long t0 = System.nanoTime();
        try (StateStore store = StateStore.open(dir)) {
            long openMicros = (System.nanoTime() - t0) / 1_000;
            String after = memory();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            Reservation r = store.budgets().reserve("state-check", today, 1_000, 1_000_000);
            store.budgets().settle(r, 600);
            DayUsage u = store.budgets().usage("state-check", today);
            if (!r.granted() || u.reservedNano() != 0 || u.spentNano() < 600) {
                System.out.println("state check: FAILED " + r + " " + u);
                System.exit(1);
            }
            System.out.printf(
                    "state check: OK; open of a %s directory %s: %.1f ms; memory before %s; after %s; "
                            + "released at open: %d; Java %s%n",
                    fresh ? "fresh" : "existing",
                    dir,
                    openMicros / 1_000.0,
                    before,
                    after,
                    store.releasedAtOpen(),
                    Runtime.version());
        }
    }

    /** VmRSS / RssAnon / RssFile in MB, or "n/a" off Linux. */
    static String memory() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            StringBuilder sb = new StringBuilder();
            for (String l : lines) {
                if (l.startsWith("VmRSS:") || l.startsWith("RssAnon:") || l.startsWith("RssFile:")) {
                    String[] f = l.trim().split("\\s+");
                    sb.append(sb.length() > 0 ? " " : "")
                            .append(f[0])
                            .append(Long.parseLong(f[1]) / 1024)
                            .append("MB");
                }
            }
            return sb.toString();
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
