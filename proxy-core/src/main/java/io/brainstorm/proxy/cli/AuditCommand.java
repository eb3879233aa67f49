package io.brainstorm.proxy.cli;

import io.brainstorm.proxy.settle.audit.AuditKey;
import io.brainstorm.proxy.settle.audit.AuditVerifier;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code brainstorm-proxy audit verify [--key-file F] [--head MAC | --head-from-admin] [--state-dir D]
 * [FILE|DIR ...]}: checks the audit trail's HMAC chain offline ({@link AuditVerifier}) and pinpoints the first
 * broken record. Exit 0 when intact, 1 when broken, 2 when it cannot be checked (no key, no files).
 */
final class AuditCommand {
    private static final int MAX_GAPS_SHOWN = 20;
    private static final String HEAD_FROM_ADMIN = "--head-from-admin";

    private AuditCommand() {}

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.isEmpty() || !args.get(0).equals("verify")) {
            throw new Main.UsageException(
                    args.isEmpty()
                            ? "audit: a sub-command is expected (verify)"
                            : "audit: unknown sub-command '" + args.get(0) + "' (expected: verify)");
        }
        Main.Options o = new Main.Options(args.subList(1, args.size()), Set.of(HEAD_FROM_ADMIN));
        o.allow("--key-file", "--head", "--state-dir", HEAD_FROM_ADMIN, "--admin-url", "--token-file");
        String dir = o.get("--state-dir");
        if (dir == null) {
            dir = env.get("BR_STATE_DIR");
        }
        Path stateDir = Path.of(dir == null || dir.isEmpty() ? "state" : dir);
        String head = o.get("--head");
        if (o.flag(HEAD_FROM_ADMIN)) {
            if (head != null) {
                throw new Main.UsageException("--head and " + HEAD_FROM_ADMIN + ": choose one");
            }
            try {
                head = AdminClient.of(o.get("--admin-url"), o.get("--token-file"), stateDir.toString(), env)
                        .send("GET", AdminClient.path("audit", "head"), null)
                        .json()
                        .path("mac")
                        .asText(null);
            } catch (AdminCommands.Failure f) {
                err.println("brainstorm-proxy: audit verify: the head from the admin API: " + f.getMessage());
                return 2;
            }
        }
        if (head != null && !head.matches("[0-9a-f]{64}")) {
            throw new Main.UsageException("--head: '" + head + "' (expected: 64 lower-case hex digits, the mac of"
                    + " GET /admin/v1/audit/head)");
        }
        List<Path> paths = new ArrayList<>();
        o.positionals().forEach(p -> paths.add(Path.of(p)));
        if (paths.isEmpty()) {
            paths.add(stateDir.resolve("audit"));
        }
        String keyFile = o.get("--key-file");
        String envKey = env.get(AuditKey.ENV);
        AuditVerifier.Result r;
        try {
            byte[] key = AuditKey.forVerify(
                    env,
                    keyFile != null
                            ? Path.of(keyFile)
                            : envKey != null && !envKey.isBlank() ? null : stateDir.resolve("audit.key"));
            r = AuditVerifier.verify(paths, key, head);
        } catch (IOException | IllegalArgumentException e) {
            err.println("brainstorm-proxy: audit verify: " + e.getMessage());
            return 2;
        }
        if (r.chains().isEmpty()) {
            err.println("brainstorm-proxy: audit verify: no audit day files in " + paths
                    + " (expected: audit-YYYY-MM-DD.jsonl files or their folder)");
            return 2;
        }
        AuditVerifier.Break b = r.broken();
        if (b != null) { // not intact
            out.println("audit trail BROKEN at " + b);
            out.println("  file: " + b.file().toAbsolutePath().normalize());
            AuditVerifier.Chain c = r.chains().get(r.chains().size() - 1);
            if (c.records() > 0) {
                out.println("  before it, " + c.records() + (c.records() == 1 ? " record verifies" : " records verify")
                        + " (seq " + c.firstSeq() + " to " + c.lastSeq() + ")");
            }
            return 1;
        }
        out.println("audit trail intact: " + r.files() + (r.files() == 1 ? " file, " : " files, ") + r.records()
                + " records, " + r.gaps().size() + (r.gaps().size() == 1 ? " gap (" : " gaps (") + r.lost()
                + " records lost)");
        for (AuditVerifier.Chain c : r.chains()) {
            if (c.records() == 0) {
                continue;
            }
            out.println("  writer slot " + c.slot() + ": seq " + c.firstSeq() + " to " + c.lastSeq() + ", "
                    + c.files().get(0).getFileName()
                    + (c.files().size() > 1
                            ? " .. " + c.files().get(c.files().size() - 1).getFileName()
                            : "")
                    + (c.fromStart()
                            ? ", from the chain's start"
                            : ", NOT from the chain's start (the records" + " before seq " + c.firstSeq()
                                    + " were not among the files)"));
            Path headFile = Objects.requireNonNull(c.headFile(), "a chain with records has a head");
            out.println("  head: seq " + c.lastSeq() + " in " + headFile.getFileName() + ", mac " + c.headMac());
        }
        if (head != null) {
            long after = r.chains().get(0).lastSeq() - r.headFound();
            out.println("  expected head found at seq " + r.headFound()
                    + (after > 0 ? " (" + after + " records written after it)" : " (the last record)"));
        }
        int shown = 0;
        for (AuditVerifier.Gap g : r.gaps()) {
            if (shown++ == MAX_GAPS_SHOWN) {
                out.println("  ... " + (r.gaps().size() - MAX_GAPS_SHOWN) + " more gaps");
                break;
            }
            out.println("  gap at " + g.file().getFileName() + " line " + g.line() + " (seq " + g.seq() + "): "
                    + g.lost() + " records lost, " + g.reason()
                    + (g.from() != null ? ", " + g.from() + " to " + g.to() : ""));
        }
        return 0;
    }
}
