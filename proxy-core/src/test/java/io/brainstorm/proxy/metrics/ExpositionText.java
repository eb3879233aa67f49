package io.brainstorm.proxy.metrics;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads numbers back out of a text exposition, for assertions. */
public final class ExpositionText {
    private ExpositionText() {}

    /**
     * The sample's value as written, or null when the exposition has no such sample.
     *
     * @param nameAndLabels exactly as written: {@code brainstorm_ready} or {@code name{a="b",c="d"}}
     */
    public static String sample(String exposition, String nameAndLabels) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(nameAndLabels + " ")) {
                return line.substring(nameAndLabels.length() + 1);
            }
        }
        return null;
    }

    /** The sum of every sample named {@code name}, whatever its labels (0 with none). */
    public static double sum(String exposition, String name) {
        double total = 0;
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(\\{.*})? (\\S+)$", Pattern.MULTILINE)
                .matcher(exposition);
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }
}
