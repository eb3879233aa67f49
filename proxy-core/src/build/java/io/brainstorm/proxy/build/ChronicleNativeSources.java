package io.brainstorm.proxy.build;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes, at build time, the source of the classes Chronicle Values would otherwise compile with
 * javac each time the gateway starts, so that they go into the jar like any other class.
 *
 * <p>Chronicle Map asks for {@code net.openhft.chronicle.hash.VanillaGlobalMutableState$$Native}
 * every time it creates or opens a map file, and Chronicle Values compiles it at run time unless
 * the class loader already has it: that was most of each gateway start (1.7 to 2.8 s of CPU on
 * JDK 17 and 25: javac in the interpreter, the 24 MB jar read as a zip file system) and about
 * 50 MB of resident memory (1,272 javac classes, their JIT code and garbage). Built into the jar,
 * it loads like any other class and goes into the launcher's CDS archive.
 *
 * <p>Run by {@code exec-maven-plugin} in {@code generate-sources} (see {@code proxy-core/pom.xml})
 * as a single source file on the compile class path, so it generates with the Chronicle version
 * the gateway ships. The output goes to {@code target/generated-sources/chronicle}; a file is
 * rewritten only when its text changes, so an unchanged one is not recompiled.
 * {@code ChronicleGeneratedClassTest} checks that Chronicle uses the class from the jar and that
 * the generated source matches the Chronicle version the tests run with.
 *
 * <p>Usage: {@code java -cp <compile class path> ChronicleNativeSources.java <output directory>}
 */
public final class ChronicleNativeSources {
    /** The value interfaces Chronicle Map generates a native class for at run time. */
    private static final List<String> VALUE_TYPES = List.of("net.openhft.chronicle.hash.VanillaGlobalMutableState");

    private static final String HEADER = "// Generated at build time by proxy-core/src/build/java/"
            + "io/brainstorm/proxy/build/ChronicleNativeSources.java\n"
            + "// with Chronicle Values (Generators.generateNativeClass); do not edit.\n";

    /** Held so that the level set on it stays: Chronicle's start-up INFO lines are noise in a build. */
    private static final Logger CHRONICLE_LOG = Logger.getLogger("net.openhft");

    private ChronicleNativeSources() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("arguments: " + List.of(args) + " (expected: the output directory)");
        }
        CHRONICLE_LOG.setLevel(Level.WARNING);
        Path out = Path.of(args[0]);
        for (String type : VALUE_TYPES) {
            Class<?> valueType = Class.forName(type);
            String simpleName = valueType.getSimpleName() + "$$Native";
            String source = HEADER + generate(valueType, simpleName).strip() + "\n";
            Path file =
                    out.resolve(valueType.getPackageName().replace('.', '/')).resolve(simpleName + ".java");
            if (!Files.exists(file)
                    || !Files.readString(file, StandardCharsets.UTF_8).equals(source)) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, source, StandardCharsets.UTF_8);
            }
        }
    }

    /** What Chronicle Values compiles at run time for {@code valueType}; its generator is package-private. */
    static String generate(Class<?> valueType, String simpleName) throws ReflectiveOperationException {
        Class<?> modelType = Class.forName("net.openhft.chronicle.values.ValueModel");
        Object model = modelType.getMethod("acquire", Class.class).invoke(null, valueType);
        Method generate = Class.forName("net.openhft.chronicle.values.Generators")
                .getDeclaredMethod("generateNativeClass", modelType, String.class);
        generate.setAccessible(true);
        return (String) generate.invoke(null, model, simpleName);
    }
}
