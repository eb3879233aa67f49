package io.brainstorm.proxy.settle;

import com.networknt.schema.SchemaException;
import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;
import java.util.regex.Pattern;

/**
 * The regular expressions of client-supplied schemas ({@code pattern}, {@code patternProperties}),
 * evaluated by {@link java.util.regex} with a step budget: a pattern that backtracks
 * catastrophically (in Java 17, {@code ^(a|aa){1,100}$} against forty {@code a}s and a {@code !})
 * must not hold a scoring thread for minutes. The input is wrapped in a {@link CharSequence} that
 * counts {@code charAt} calls, the engine's unit of work; past the budget it throws
 * {@link BudgetExceeded} and the answer is not scored ({@link ScoreOutcome#SCHEMA_UNUSABLE}: the
 * schema, not the model, is at fault).
 *
 * <p>The budget is per validation, not per match, so an answer with many strings cannot multiply
 * it: {@link #startValidation()} resets it before each {@code Schema.validate}. Matching is
 * unanchored ({@code find}), as JSON Schema's {@code pattern} is.
 *
 * <p><b>Threading:</b> the budget is a thread-local; the factory and its expressions are shared.
 */
final class BoundedRegex implements RegularExpressionFactory {
    /** {@code charAt} calls one validation may spend in patterns: about 10 ms of backtracking. */
    static final long BUDGET = 1_000_000;

    static final BoundedRegex INSTANCE = new BoundedRegex();

    private static final ThreadLocal<long[]> LEFT = ThreadLocal.withInitial(() -> new long[] {BUDGET});

    private BoundedRegex() {}

    /** Gives this thread's next validation the whole budget. */
    static void startValidation() {
        LEFT.get()[0] = BUDGET;
    }

    @Override
    public RegularExpression getRegularExpression(String regex) {
        Pattern pattern = Pattern.compile(regex);
        return value -> pattern.matcher(new Counted(value, LEFT.get())).find();
    }

    /**
     * A pattern ran out of budget. A {@link SchemaException}, so that networknt's pattern
     * validator rethrows it without logging each time (the pattern is the client's).
     */
    static final class BudgetExceeded extends SchemaException {
        BudgetExceeded() {
            super("pattern evaluation exceeded " + BUDGET + " steps");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** The matched string, charging one step per character read. */
    private record Counted(String value, long[] left) implements CharSequence {
        @Override
        public int length() {
            return value.length();
        }

        @Override
        public char charAt(int index) {
            if (--left[0] < 0) {
                throw new BudgetExceeded();
            }
            return value.charAt(index);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Counted(value.substring(start, end), left);
        }

        @Override
        public String toString() {
            return value;
        }
    }
}
