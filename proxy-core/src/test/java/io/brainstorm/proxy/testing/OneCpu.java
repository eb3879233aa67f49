package io.brainstorm.proxy.testing;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** For tests that run a JVM held to one CPU by {@code taskset}, as a container with a one-CPU limit. */
public final class OneCpu {
    private OneCpu() {}

    /** Whether {@code taskset -c 0} is installed and may pin here. */
    public static boolean tasksetWorks() {
        try {
            Process p = new ProcessBuilder("taskset", "-c", "0", "true")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The launcher's JVM flags (bin/brainstorm-proxy): Chronicle Map's opens and exports, Netty's,
     * the small heap and serial collector, and the JDK-specific ones this JDK needs.
     */
    public static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(List.of(
                "-Dchronicle.analytics.disable=true",
                "-Dchronicle.announcer.disable=true",
                "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
                "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Dio.netty.tryReflectionSetAccessible=true",
                "-Dio.netty.jfr.enabled=false",
                "-Xms96m",
                "-Xmn24m",
                "-Xss512k",
                "-XX:+UseSerialGC"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--enable-native-access") || a.startsWith("--sun-misc-unsafe")) {
                flags.add(a);
            }
        }
        if (Runtime.version().feature() >= 22
                && flags.stream().noneMatch(f -> f.startsWith("--enable-native-access"))) {
            flags.add("--enable-native-access=ALL-UNNAMED");
        }
        if (Runtime.version().feature() >= 24 && flags.stream().noneMatch(f -> f.startsWith("--sun-misc-unsafe"))) {
            flags.add("--sun-misc-unsafe-memory-access=allow");
        }
        return flags;
    }
}
