package io.brainstorm.proxy.state;

import org.jspecify.annotations.Nullable;

/**
 * One file this process has mapped, or a heap map (no hold): closing unmaps, then releases the
 * hold on the file's byte of {@code open.lock}. Made by {@link StateFileOpener#open}.
 */
record OpenedFile(CellStore<String> cells, OpenLocks.@Nullable Hold hold) {
    void close() {
        try {
            if (cells instanceof ChronicleCellStore<?> c) {
                c.close();
            }
        } finally {
            if (hold != null) {
                hold.close();
            }
        }
    }
}
