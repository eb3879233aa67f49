package io.brainstorm.proxy.state;

import io.brainstorm.proxy.route.Belief;
import io.brainstorm.proxy.spi.TaskClass;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The learnt posteriors of a state directory written before {@code beliefs.cm3}: {@code learning.cm3},
 * candidate id → 12 × (α, β, observations). {@link #importInto} carries them over once, as the
 * shared beliefs (docs/routing.md), so an upgrade does not start routing from the priors.
 *
 * <p>They mixed every tenant's answers and feedback, which the shared belief no longer takes; in a
 * tenant's view they count as at most {@code shared_weight} answers, and the tenant's own answers
 * and the change detector take over from there.
 *
 * <p><b>Errors:</b> a file that cannot be read (damaged, or its header never completed) is moved to
 * {@code learning.cm3.not-imported} with a warning; the store opens without it.
 *
 * <p><b>Threading:</b> called once by {@link StateStore#open}, before the store is used. The file
 * is first renamed to a name of this process's own, so of several processes opening the directory
 * at once only one imports it; it ends as {@code learning.cm3.imported}.
 */
final class LegacyLearning {
    private static final System.Logger log = System.getLogger(LegacyLearning.class.getName());
    private static final int OLD_LENGTH = 3 * TaskClass.COUNT;

    private LegacyLearning() {}

    /** Imports {@code stateDir/learning.cm3} into {@code beliefs} where a class is still unknown there; the candidates imported. */
    static int importInto(Path stateDir, CellStore<String> beliefs, long entries, String averageKey)
            throws IOException {
        Path old = stateDir.resolve("learning.cm3");
        if (!Files.exists(old)) {
            return 0;
        }
        Path claimed = stateDir.resolve(
                "learning.cm3.importing-" + ProcessHandle.current().pid());
        try {
            Files.move(old, claimed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return 0; // another process claimed it first
        }
        AtomicInteger candidates = new AtomicInteger();
        if (StateFileOpener.headerUnfinished(claimed)) {
            // Chronicle would wait a minute for a writer that is gone
            return notImported(stateDir, claimed, "its header was never completed");
        }
        try (ChronicleCellStore<byte[]> legacy =
                ChronicleCellStore.named(claimed, "learning", OLD_LENGTH, entries, averageKey)) {
            legacy.forEach((id, c) -> {
                beliefs.update(id, cell -> {
                    for (int k = 0; k < TaskClass.COUNT; k++) {
                        int at = Belief.LONGS * k;
                        if (c[3 * k] != 0 && cell[at] == 0) {
                            new Belief(
                                            Double.longBitsToDouble(c[3 * k]),
                                            Double.longBitsToDouble(c[3 * k + 1]),
                                            c[3 * k + 2],
                                            0,
                                            0,
                                            0,
                                            0,
                                            0,
                                            0,
                                            0,
                                            0,
                                            false,
                                            0,
                                            0,
                                            0)
                                    .write(cell, at);
                        }
                    }
                    return 0;
                });
                candidates.incrementAndGet();
            });
        } catch (IOException | RuntimeException e) {
            return notImported(stateDir, claimed, e.toString());
        }
        Files.move(claimed, stateDir.resolve("learning.cm3.imported"), StandardCopyOption.REPLACE_EXISTING);
        log.log(
                Level.INFO,
                "learning: imported the posteriors of " + candidates.get() + " candidates from " + old
                        + " (the layout before beliefs.cm3) as the shared beliefs; the file is now learning.cm3.imported");
        return candidates.get();
    }

    /** A legacy file that cannot be read: set aside, and routing starts from the priors; never fails the start. */
    private static int notImported(Path stateDir, Path claimed, String why) throws IOException {
        Path aside = stateDir.resolve("learning.cm3.not-imported");
        Files.move(claimed, aside, StandardCopyOption.REPLACE_EXISTING);
        log.log(
                Level.WARNING,
                "learning: the posteriors in " + stateDir.resolve("learning.cm3") + " (the layout before"
                        + " beliefs.cm3) could not be imported (" + why + "); routing learns anew. The file is now "
                        + aside.getFileName());
        return 0;
    }
}
