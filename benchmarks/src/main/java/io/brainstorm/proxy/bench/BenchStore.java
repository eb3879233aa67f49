package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.state.StateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** A state store for a benchmark: Chronicle files in a fresh directory in /tmp, deleted at close, or the heap. */
final class BenchStore implements AutoCloseable {
    final StateStore state;
    /** The Chronicle files' directory; null for the heap store. */
    private final @Nullable Path dir;

    private BenchStore(StateStore state, @Nullable Path dir) {
        this.state = state;
        this.dir = dir;
    }

    /** @param kind {@code chronicle} or {@code heap} */
    static BenchStore open(String kind, StateStore.Options options) throws IOException {
        if (!kind.equals("chronicle")) {
            return new BenchStore(StateStore.inMemory(), null);
        }
        Path dir = Files.createTempDirectory("br-bench-state");
        return new BenchStore(StateStore.open(dir, options), dir);
    }

    @Override
    public void close() throws IOException {
        state.close();
        if (dir != null) {
            deleteTree(dir);
        }
    }

    /** Deletes {@code dir} and everything in it: a benchmark's state directory when it is done. */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
