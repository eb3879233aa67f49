package io.brainstorm.proxy.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kind and size of a request, the unit of learning: quality is learnt per endpoint and task
 * class. The classes are fixed (their {@link #key()}s are persisted): three kinds × four prompt
 * sizes. Immutable, one instance per class: made only by {@link #of} and listed by {@link #all()}.
 */
public final class TaskClass {

    /** What the answer must be. */
    public enum Kind {
        /** free text */
        PLAIN,
        /** JSON ({@code response_format} json_object or json_schema) */
        JSON,
        /** tool calls (the request declares tools); wins over JSON */
        TOOLS
    }

    /** Estimated prompt tokens. */
    public enum Size {
        /** fewer than 1,000 */
        UNDER_1K,
        /** 1,000 to 7,999 */
        UNDER_8K,
        /** 8,000 to 31,999 */
        UNDER_32K,
        /** 32,000 or more */
        LARGE
    }

    /** How many classes there are; {@link #index()} is below this. */
    public static final int COUNT = Kind.values().length * Size.values().length;

    private static final List<TaskClass> ALL;

    private final Kind kind;
    private final Size size;

    static {
        List<TaskClass> all = new ArrayList<>(COUNT);
        for (Kind k : Kind.values()) {
            for (Size s : Size.values()) {
                all.add(new TaskClass(k, s));
            }
        }
        ALL = List.copyOf(all);
    }

    private TaskClass(Kind kind, Size size) {
        this.kind = kind;
        this.size = size;
    }

    /** The class of a request. */
    public static TaskClass of(boolean tools, boolean json, long estimatedInputTokens) {
        Kind k = tools ? Kind.TOOLS : json ? Kind.JSON : Kind.PLAIN;
        Size s = estimatedInputTokens < 1_000
                ? Size.UNDER_1K
                : estimatedInputTokens < 8_000
                        ? Size.UNDER_8K
                        : estimatedInputTokens < 32_000 ? Size.UNDER_32K : Size.LARGE;
        return ALL.get(k.ordinal() * Size.values().length + s.ordinal());
    }

    /** Every class, in {@link #index()} order. */
    public static List<TaskClass> all() {
        return ALL;
    }

    /** What the answer must be. */
    public Kind kind() {
        return kind;
    }

    /** The estimated prompt size. */
    public Size size() {
        return size;
    }

    /** 0 .. {@link #COUNT} - 1, for arrays indexed by class. */
    public int index() {
        return kind.ordinal() * Size.values().length + size.ordinal();
    }

    /** A stable name such as {@code json/1k-8k}, used as a persisted key and in read-outs. */
    public String key() {
        String s = switch (size) {
            case UNDER_1K -> "0-1k";
            case UNDER_8K -> "1k-8k";
            case UNDER_32K -> "8k-32k";
            case LARGE -> "32k+";
        };
        return kind.name().toLowerCase(Locale.ROOT) + "/" + s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TaskClass t && kind == t.kind && size == t.size;
    }

    @Override
    public int hashCode() {
        return index();
    }

    @Override
    public String toString() {
        return key();
    }
}
