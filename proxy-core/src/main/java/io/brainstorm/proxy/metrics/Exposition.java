package io.brainstorm.proxy.metrics;

import java.math.BigDecimal;

/**
 * Writes Prometheus' text exposition format 0.0.4: per family a {@code # HELP} and a {@code # TYPE}
 * line, then its samples, one a line, {@code name{label="value",…} value}.
 *
 * <p>Label values are escaped as the format asks ({@code \\}, {@code \"}, {@code \n}); HELP text
 * likewise ({@code \\}, {@code \n}). Numbers are written as Go's {@code strconv.ParseFloat}, which
 * Prometheus uses, reads them: integers as integers, decimals in plain notation where they are
 * exact (nano-USD, microseconds), {@code NaN}, {@code +Inf} and {@code -Inf} spelled so.
 *
 * <p><b>Threading:</b> one writer per scrape; not thread-safe.
 */
final class Exposition {
    /** The {@code Content-Type} of the text format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out;

    Exposition(int capacity) {
        out = new StringBuilder(capacity);
    }

    /**
     * Starts a family.
     *
     * @param type {@code counter}, {@code gauge}, {@code histogram} or {@code summary}
     */
    void family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ');
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
        out.append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /**
     * Starts a sample: its name and labels. The value follows with one of the {@code value} methods,
     * which ends the line.
     *
     * @param labels label names and values, alternating: {@code "model", "sim/alpha", "endpoint", "sim-east"}
     */
    Exposition sample(String name, String... labels) {
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"");
                escapeLabelValue(labels[i + 1]);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ');
        return this;
    }

    void value(long v) {
        out.append(v).append('\n');
    }

    /** {@code units / 10^scale}, exactly: {@code value(1500, 9)} writes {@code 0.0000015}. */
    void value(long units, int scale) {
        out.append(BigDecimal.valueOf(units, scale).stripTrailingZeros().toPlainString())
                .append('\n');
    }

    void value(double v) {
        if (Double.isNaN(v)) {
            out.append("NaN");
        } else if (Double.isInfinite(v)) {
            out.append(v > 0 ? "+Inf" : "-Inf");
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            out.append((long) v);
        } else {
            // Java's shortest round-trip form; "1.0E-5" is valid for Go's ParseFloat too
            out.append(v);
        }
        out.append('\n');
    }

    private void escapeLabelValue(String v) {
        int first = 0;
        while (first < v.length() && !needsEscape(v.charAt(first))) {
            first++;
        }
        if (first == v.length()) {
            // most values need none: one bulk copy
            out.append(v);
            return;
        }
        out.append(v, 0, first);
        for (int i = first; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    private static boolean needsEscape(char c) {
        return c == '\\' || c == '"' || c == '\n';
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
