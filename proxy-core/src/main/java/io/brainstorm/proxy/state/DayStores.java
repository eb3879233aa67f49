package io.brainstorm.proxy.state;

import java.time.LocalDate;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The store of each day, for state kept per day (budgets): a heap map or a Chronicle file per day. */
@FunctionalInterface
interface DayStores {
    /** The store of {@code day}; with {@code create} false, null for a day nothing was written to. */
    @Nullable
    CellStore<String> forDay(LocalDate day, boolean create);

    /** The store of {@code day}, made if there is none yet. */
    default CellStore<String> forDay(LocalDate day) {
        return Objects.requireNonNull(forDay(day, true), "forDay(day, true) makes the store");
    }
}
