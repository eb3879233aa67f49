/**
 * The audit trail (docs/architecture.md §9, docs/audit.md): {@link io.brainstorm.proxy.settle.audit.AuditLog}
 * writes one HMAC-chained JSON Lines record per ended request into daily files (its writer thread:
 * {@code AuditWriter}, with {@code AuditQueue}, {@code DayFileAppender}, {@code ChainStart} and
 * {@code HeadFile});
 * {@link io.brainstorm.proxy.settle.audit.AuditVerifier} finds the first broken record;
 * {@link io.brainstorm.proxy.settle.audit.AuditReader} pages through records for the admin API;
 * {@link io.brainstorm.proxy.settle.audit.AuditKey} finds the HMAC key. Start at {@code AuditLog}.
 */
package io.brainstorm.proxy.settle.audit;
