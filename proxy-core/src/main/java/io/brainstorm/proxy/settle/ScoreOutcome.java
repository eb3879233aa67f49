package io.brainstorm.proxy.settle;

/**
 * Why an answer got its score (docs/architecture.md §8); a label on {@code brainstorm_scorer_outcomes_total} and
 * a field of the audit record.
 */
public enum ScoreOutcome {
    /** Plain request (no structure asked for): a non-empty answer. Score 1. */
    PLAIN_OK,
    /** Structure was asked for and the answer has it (JSON parses, schema validates, tool calls valid). Score 1. */
    VALID,
    /** The provider failed (an error, or a 2xx answer that is not one), or the stream broke. Score 0. */
    ERROR,
    /** Nothing came back. Score 0. */
    EMPTY,
    /** {@code finish_reason: length} where structure was required. Score 0. */
    CUT_BY_LENGTH,
    /** {@code json_object} or {@code json_schema}: the content is not JSON. Score 0. */
    INVALID_JSON,
    /** {@code json_schema}: the content does not validate against the schema. Score 0. */
    SCHEMA_MISMATCH,
    /** Tools: no tool call where one was required, or a call names a tool the request did not declare. Score 0. */
    UNKNOWN_TOOL,
    /** Tools: a call's arguments do not parse or do not validate against the tool's {@code parameters}. Score 0. */
    BAD_ARGUMENTS,
    /** Not scored: the streamed answer outgrew the side buffer ({@code scoring.max_capture_bytes}). */
    OVER_LIMIT,
    /** Not scored: the request's schema could not be used (too large, remote {@code $ref}, invalid). */
    SCHEMA_UNUSABLE,
    /** Not scored: the scoring threads were too far behind ({@code Scoring}'s queue was full). */
    OVERLOADED,
    /** Not scored: the client caused a 4xx, or the request was refused before any provider answered. */
    NOT_APPLICABLE;

    /** The label as it appears in metrics and the audit record: {@code schema_mismatch}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
