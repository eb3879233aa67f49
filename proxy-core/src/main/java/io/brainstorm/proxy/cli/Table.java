package io.brainstorm.proxy.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Text laid out in aligned columns, for people: a table under a header row ({@link #of}), or a
 * block of {@code label: value} lines ({@link #fields}). Columns are two spaces apart; no line
 * ends in spaces.
 */
final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;
    private final boolean labels;

    private Table(int columns, boolean labels) {
        this.columns = columns;
        this.labels = labels;
    }

    /** A table whose first row is {@code headers}. */
    static Table of(String... headers) {
        Table t = new Table(headers.length, false);
        t.rows.add(headers);
        return t;
    }

    /** {@code label: value} lines, the values aligned. */
    static Table fields() {
        return new Table(2, true);
    }

    /** Adds a row of {@code cells} ({@code toString()}; null is {@code -}). */
    Table row(Object... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("cells: " + cells.length + " (expected: " + columns + ")");
        }
        String[] row = new String[columns];
        for (int i = 0; i < columns; i++) {
            row[i] = cells[i] == null ? "-" : cells[i].toString();
        }
        if (labels) {
            row[0] = row[0] + ":";
        }
        rows.add(row);
        return this;
    }

    /** Adds a {@code label: value} line. */
    Table field(String label, Object value) {
        return row(label, value);
    }

    void print(PrintStream out) {
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder line = new StringBuilder();
        for (String[] row : rows) {
            line.setLength(0);
            for (int i = 0; i < columns; i++) {
                line.append(row[i]);
                if (i < columns - 1) {
                    line.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
