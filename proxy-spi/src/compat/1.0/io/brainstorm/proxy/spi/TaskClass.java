package io.brainstorm.proxy.spi;

import java.util.List;

/** SPI 1.0's surface, frozen: signatures only. */
public final class TaskClass {
    /** Not a compile-time constant in the SPI either: plugins read it at run time. */
    public static final int COUNT = frozen();

    public enum Kind { PLAIN, JSON, TOOLS }

    public enum Size { UNDER_1K, UNDER_8K, UNDER_32K, LARGE }

    private TaskClass() { throw null; }

    private static int frozen() { throw null; }

    public static TaskClass of(boolean tools, boolean json, long estimatedInputTokens) { throw null; }
    public static List<TaskClass> all() { throw null; }
    public Kind kind() { throw null; }
    public Size size() { throw null; }
    public int index() { throw null; }
    public String key() { throw null; }
}
