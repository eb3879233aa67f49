package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Call;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.settle.audit.AuditReader;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/**
 * {@code /admin/v1/audit} and {@code /admin/v1/audit/head}: pages of the audit trail, and its head
 * to pass to {@code audit verify --head}. A tenant admin reads its tenant's records only, and may not
 * read the head, which covers every tenant's (403).
 */
final class AuditResource {
    private final AdminServices services;

    AuditResource(AdminServices services) {
        this.services = services;
    }

    /** The audit trail's head: the last record written. Only the super-admin. */
    Answer head(AdminPrincipal who, Call call) {
        AdminServices.requireSuperAdmin(who, "read the audit trail's head");
        AuditLog a = services.audit();
        AuditLog.Head h = a.head();
        ObjectNode o = AdminJson.object("audit_head");
        o.put("slot", h.slot());
        o.put("file", h.file());
        o.put("seq", h.seq());
        o.put("mac", h.mac());
        o.put("time", h.time());
        o.put("written", a.written());
        o.put("lost", a.lost());
        o.put("write_errors", a.writeErrors());
        o.put("queued", a.queued());
        return Answer.ok(o);
    }

    /** A page of audit records, oldest first; a tenant admin sees only its tenant's. */
    Answer page(AdminPrincipal who, Call call) throws IOException {
        AuditLog a = services.audit();
        Instant now = Instant.now();
        Instant to = instant(call, "to");
        Instant from = instant(call, "from");
        if (to == null) {
            to = from != null && from.isAfter(now) ? from.plusMillis(1) : now.plusMillis(1);
        }
        if (from == null) {
            from = to.minusMillis(1)
                    .atZone(ZoneOffset.UTC)
                    .toLocalDate()
                    .atStartOfDay(ZoneOffset.UTC)
                    .toInstant();
        }
        if (!from.isBefore(to)) {
            throw ApiError.invalidRequest("from", "from: " + from + " is not before to: " + to + ".");
        }
        int limit = (int) Math.min(integer(call, "limit", 100), Integer.MAX_VALUE);
        if (limit < 1 || limit > 1000) {
            throw ApiError.invalidRequest("limit", "limit: " + limit + " (expected: 1 to 1000).");
        }
        String status = query(call, "status");
        Integer st = status == null ? null : (int) integer(call, "status", 0);
        AuditReader.Query q = new AuditReader.Query(
                from, to, who.superAdmin() ? null : who.tenant(), query(call, "key_id"), query(call, "model"), st);
        AuditReader.Page page;
        try {
            page = AuditReader.page(a.dir(), q, query(call, "cursor"), limit);
        } catch (AuditReader.BadCursorException e) {
            throw ApiError.invalidRequest("cursor", e.getMessage() + ".");
        }
        ObjectNode o = AdminJson.object("list");
        o.putArray("data").addAll(page.records());
        o.put("next_cursor", page.nextCursor());
        return Answer.ok(o);
    }

    /** A query parameter's first value; null when absent or empty. */
    private static @Nullable String query(Call call, String name) {
        String v = call.first(name);
        return v == null || v.isEmpty() ? null : v;
    }

    private static long integer(Call call, String name, long dflt) {
        String v = query(call, name);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.invalidRequest(name, name + ": '" + v + "' (expected: an integer).");
        }
    }

    /** An ISO-8601 instant ({@code 2025-01-01T12:00:00Z}) or a UTC day ({@code 2025-01-01}, its start); or null. */
    private static @Nullable Instant instant(Call call, String name) {
        String v = query(call, name);
        if (v == null) {
            return null;
        }
        try {
            return v.length() == 10
                    ? LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiError.invalidRequest(
                    name,
                    name + ": '" + v + "' (expected: an ISO-8601 time such as"
                            + " 2025-01-01T12:00:00Z, or a day such as 2025-01-01).");
        }
    }
}
