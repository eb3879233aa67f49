package io.brainstorm.proxy.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test's child JVM: this JVM's {@code java}, the test class path and the flags Chronicle Map
 * needs, a main class (or the shaded jar) and its arguments; optionally behind a prefix such as
 * {@code taskset -c 0} or {@code setpriv …}. The one way tests start a second process.
 *
 * <pre>{@code
 * ChildJvm child = ChildJvm.main(StateChild.class).args("hold", dir.toString()).start();
 * child.await("holding");
 * }</pre>
 *
 * {@link Command#processBuilder()} gives the command as a {@link ProcessBuilder} for a test that
 * sets the environment or sends the output to a file; {@link Command#start()} starts it with
 * standard error inherited and standard output readable line by line ({@link #await}).
 */
public final class ChildJvm {
    /** A small, quickly started JVM: the default flags beside {@link #inheritedFlags()}. */
    public static final List<String> SMALL = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final Process process;
    private final BufferedReader out;

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** A child running {@code mainClass} from the test class path. */
    public static Command main(Class<?> mainClass) {
        return main(mainClass.getName());
    }

    /** A child running the class named {@code mainClass} from the test class path. */
    public static Command main(String mainClass) {
        return new Command(List.of(mainClass));
    }

    /** A child running {@code java -jar jar}. */
    public static Command jar(Path jar) {
        return new Command(List.of("-jar", jar.toString()));
    }

    /**
     * The flags of this JVM (surefire's argLine) that a child needs for Chronicle Map, whatever the
     * JDK: the opens and exports, {@code -Dchronicle.*}, and the native-access ones of newer JDKs.
     */
    public static List<String> inheritedFlags() {
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")
                    || a.startsWith("-Dchronicle.")
                    || a.startsWith("--enable-native-access")
                    || a.startsWith("--sun-misc-unsafe")) {
                flags.add(a);
            }
        }
        return flags;
    }

    /** The class path of the tests: surefire's, or this JVM's outside surefire. */
    public static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    public Process process() {
        return process;
    }

    /** The next line the child printed that starts with {@code prefix}; fails if it exits first. */
    public String await(String prefix) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new IOException("child exited (" + process.onExit().join().exitValue() + ") before printing " + prefix);
    }

    /** Writes {@code line} and a newline to the child's standard input. */
    public void send(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** The command line of a child JVM, built up before it starts. */
    public static final class Command {
        private final List<String> what;
        private final List<String> prefix = new ArrayList<>();
        private final List<String> flags = new ArrayList<>(inheritedFlags());
        private final List<String> args = new ArrayList<>();
        private String classPath = testClassPath();

        private Command(List<String> what) {
            this.what = what;
            flags.addAll(SMALL);
        }

        /** Runs the JVM through {@code command} (say, {@code taskset -c 0}). */
        public Command prefix(List<String> command) {
            prefix.addAll(command);
            return this;
        }

        /** These JVM flags instead of {@link #inheritedFlags()} and {@link #SMALL}. */
        public Command flags(List<String> jvmFlags) {
            flags.clear();
            flags.addAll(jvmFlags);
            return this;
        }

        public Command classPath(String path) {
            classPath = path;
            return this;
        }

        public Command args(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        public List<String> command() {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.add(ProcessHandle.current()
                    .info()
                    .command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString()));
            cmd.addAll(flags);
            if (!what.get(0).equals("-jar")) {
                cmd.add("-cp");
                cmd.add(classPath);
            }
            cmd.addAll(what);
            cmd.addAll(args);
            return cmd;
        }

        public ProcessBuilder processBuilder() {
            return new ProcessBuilder(command());
        }

        /** Starts the child with standard error inherited and standard output for {@link ChildJvm#await}. */
        public ChildJvm start() throws IOException {
            return new ChildJvm(processBuilder()
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start());
        }
    }
}
