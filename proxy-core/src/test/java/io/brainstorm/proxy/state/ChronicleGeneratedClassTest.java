package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.hash.VanillaGlobalMutableState;
import net.openhft.chronicle.values.Values;
import org.junit.jupiter.api.Test;

/**
 * The class Chronicle Map would otherwise compile with javac at every start
 * ({@code net.openhft.chronicle.hash.VanillaGlobalMutableState$$Native}) is built into the jar, is
 * the one Chronicle uses, and is what the Chronicle version on the class path generates: the build
 * writes its source into {@code target/generated-sources/chronicle} (see
 * {@code src/build/java/io/brainstorm/proxy/build/ChronicleNativeSources.java}).
 */
class ChronicleGeneratedClassTest {
    private static final String NAME = "VanillaGlobalMutableState$$Native";
    private static final Path SOURCE =
            Path.of("target/generated-sources/chronicle/net/openhft/chronicle/hash/" + NAME + ".java");

    @Test
    void chronicleUsesTheClassFromTheJarInsteadOfCompilingOne() {
        Class<?> used = Values.nativeClassFor(VanillaGlobalMutableState.class);
        assertEquals("net.openhft.chronicle.hash." + NAME, used.getName());
        // a class javac made at run time has no code source; ours comes from target/classes
        assertEquals(
                StateStore.class.getProtectionDomain().getCodeSource().getLocation(),
                used.getProtectionDomain().getCodeSource() == null
                        ? null
                        : used.getProtectionDomain().getCodeSource().getLocation());
    }

    @Test
    void theGeneratedSourceIsWhatChronicleGeneratesNow() throws Exception {
        Class<?> modelType = Class.forName("net.openhft.chronicle.values.ValueModel");
        Object model = modelType.getMethod("acquire", Class.class).invoke(null, VanillaGlobalMutableState.class);
        Method generate = Class.forName("net.openhft.chronicle.values.Generators")
                .getDeclaredMethod("generateNativeClass", modelType, String.class);
        generate.setAccessible(true);
        String generated = ((String) generate.invoke(null, model, NAME)).strip();

        String built = Files.readString(SOURCE, StandardCharsets.UTF_8);
        built = built.substring(built.indexOf("package ")).strip();
        if (!built.equals(generated)) {
            fail(SOURCE + " differs from what Chronicle Values on the test class path generates (a stale"
                    + " build?): run the build again from generate-sources");
        }
    }
}
