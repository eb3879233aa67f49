package io.brainstorm.proxy.api;

import io.netty.util.AsciiString;

/** Names of the governance headers (docs/architecture.md §3), one constant each so no handler spells them. */
public final class Headers {
    public static final AsciiString REQUEST_ID = AsciiString.cached("x-br-request-id");
    public static final AsciiString SELECTED_MODEL = AsciiString.cached("x-br-selected-model");
    public static final AsciiString ENDPOINT = AsciiString.cached("x-br-endpoint");
    public static final AsciiString STRATEGY = AsciiString.cached("x-br-strategy");
    public static final AsciiString ACTUAL_COST = AsciiString.cached("x-br-actual-cost");
    public static final AsciiString EFFICIENCY = AsciiString.cached("x-br-efficiency");
    public static final AsciiString FALLBACKS = AsciiString.cached("x-br-fallbacks");
    public static final AsciiString BUDGET_REMAINING = AsciiString.cached("x-br-budget-remaining");
    public static final AsciiString COST_ESTIMATED = AsciiString.cached("x-br-cost-estimated");
    public static final AsciiString SIMULATED = AsciiString.cached("x-br-simulated");
    /** A streamed answer's score (trailer only; also {@code x_br.score}): docs/architecture.md §8. */
    public static final AsciiString SCORE = AsciiString.cached("x-br-score");

    public static final AsciiString SHOULD_RETRY = AsciiString.cached("x-should-retry");
    /** The trailer fields a stream can carry when the client sent {@code te: trailers}. */
    public static final String TRAILER_FIELDS =
            "x-br-actual-cost, x-br-efficiency, x-br-fallbacks, x-br-cost-estimated, x-br-budget-remaining,"
                    + " x-br-score";

    private Headers() {}
}
