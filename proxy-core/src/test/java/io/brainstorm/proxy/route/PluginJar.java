package io.brainstorm.proxy.route;

import io.brainstorm.proxy.spi.RoutingStrategyProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Builds a plugin jar the way a plugin author would: compiles Java sources with the JDK's compiler
 * ({@code --release 17}) against the proxy-spi classes only (plus what a test adds), and packs the
 * classes with their resources into a jar.
 */
final class PluginJar {
    static final String SERVICE_FILE = "META-INF/services/" + RoutingStrategyProvider.class.getName();

    private final Path work;
    private final List<Path> sourceFiles = new ArrayList<>();
    private final List<Path> classpath = new ArrayList<>(List.of(spiClasses()));
    /** jar entry → bytes, besides the compiled classes */
    private final Map<String, byte[]> entries = new TreeMap<>();

    private PluginJar(Path work) {
        this.work = work;
    }

    /** A jar built in a fresh folder under {@code work}. */
    static PluginJar in(Path work) {
        try {
            return new PluginJar(Files.createTempDirectory(work, "plugin-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the gateway's SPI classes are: {@code proxy-spi/target/classes} or the proxy-spi jar. */
    static Path spiClasses() {
        return classesOf(RoutingStrategyProvider.class);
    }

    /** The folder or jar a class was loaded from. */
    static Path classesOf(Class<?> type) {
        try {
            return Path.of(
                    type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A class to compile, by its full name. */
    PluginJar source(String className, String text) {
        Path file = work.resolve("src").resolve(className.replace('.', '/') + ".java");
        write(file, text.getBytes(StandardCharsets.UTF_8));
        sourceFiles.add(file);
        return this;
    }

    /** Every {@code .java} file under a source folder. */
    PluginJar sources(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(p -> p.toString().endsWith(".java")).sorted().forEach(sourceFiles::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Every file under a resources folder, at its relative path. */
    PluginJar resources(Path root) {
        addTree(root);
        return this;
    }

    /** {@code META-INF/services/io.brainstorm.proxy.spi.RoutingStrategyProvider} listing these classes. */
    PluginJar services(String... providerClasses) {
        return entry(SERVICE_FILE, String.join("\n", providerClasses) + "\n");
    }

    PluginJar entry(String name, String text) {
        entries.put(name, text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /**
     * Compiles against these SPI classes instead of the gateway's: a frozen surface of an older
     * SPI version, as a plugin built for that version was.
     */
    PluginJar againstSpi(Path spiClasses) {
        classpath.set(0, spiClasses);
        return this;
    }

    /** Compiles against this too (a folder of classes or a jar); it is not packed. */
    PluginJar compileAgainst(Path classesOrJar) {
        classpath.add(classesOrJar);
        return this;
    }

    /** Packs every file of a folder of classes or of a jar, as a plugin that bundles a library does. */
    PluginJar bundle(Path classesOrJar) {
        if (Files.isDirectory(classesOrJar)) {
            addTree(classesOrJar);
        } else {
            try (FileSystem zip = FileSystems.newFileSystem(classesOrJar)) {
                addTree(zip.getPath("/"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return this;
    }

    /** Compiles the sources and writes the jar. */
    Path writeTo(Path jar) {
        Path classes = work.resolve("classes");
        if (!sourceFiles.isEmpty()) {
            compile(sourceFiles, classpath, classes);
            addTree(classes);
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream jos = new JarOutputStream(out, manifest)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                if (e.getKey().equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                jos.putNextEntry(new JarEntry(e.getKey()));
                jos.write(e.getValue());
                jos.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /** Compiles {@code sourceFiles} with {@code --release 17} against {@code classpath} into {@code classes}. */
    static void compile(List<Path> sourceFiles, List<Path> classpath, Path classes) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no Java compiler in this runtime: the plugin tests need a JDK, not a JRE");
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            Files.createDirectories(classes);
            List<String> options = List.of(
                    "--release",
                    "17",
                    "-proc:none",
                    "-d",
                    classes.toString(),
                    "-classpath",
                    classpath.stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator)));
            boolean ok = javac.getTask(
                            null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sourceFiles))
                    .call();
            if (!ok) {
                StringBuilder sb = new StringBuilder("plugin sources do not compile:");
                for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                    sb.append('\n').append(d);
                }
                throw new AssertionError(sb.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void addTree(Path root) {
        Map<String, byte[]> found = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                found.put(root.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        entries.putAll(found);
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
