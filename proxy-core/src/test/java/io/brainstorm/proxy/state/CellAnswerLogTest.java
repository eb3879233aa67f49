package io.brainstorm.proxy.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.route.AnswerLog;
import io.brainstorm.proxy.route.AnswerLog.Answer;
import io.brainstorm.proxy.route.InMemoryAnswerLog;
import io.brainstorm.proxy.spi.TaskClass;
import io.brainstorm.proxy.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which endpoint answered which request, in the answer day files: found again after a restart, by
 * another store or process on the directory, only by the tenant that asked and for 7 days; a full
 * day file drops answers instead of failing requests. (Old day files go: {@link StateStorePurgeTest}.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CellAnswerLogTest {
    private static final long DAY = 24L * 3600 * 1000;
    private static final long NOW = System.currentTimeMillis();
    private static final LocalDate TODAY = LocalDate.now(ZoneOffset.UTC);
    private static final TaskClass JSON_1K = TaskClass.of(false, true, 2_000);
    private static final TaskClass TOOLS_LARGE = TaskClass.of(true, false, 100_000);
    private static final String EAST = "openai/gpt-4o-mini@openai-east";
    private static final String WEST = "anthropic/claude-3-5-haiku-20241022@bedrock-us-west-2";

    @TempDir
    Path dir;

    @Test
    void answersAreFoundAfterAReopenAndByASecondStoreOnTheDirectory() throws Exception {
        Answer first = new Answer("acme", EAST, JSON_1K, NOW - 1_000);
        Answer second = new Answer("acme", WEST, TOOLS_LARGE, NOW);
        try (StateStore a = StateStore.open(dir)) {
            a.answers().remember("req_first", first);
            assertEquals(first, a.answers().find("req_first", "acme", NOW));
            try (StateStore b = StateStore.open(dir)) {
                // b has never met EAST: it reads the endpoint names a wrote
                // and once a's timer has written it (every 100 ms)
                assertEquals(first, eventually(() -> b.answers().find("req_first", "acme", NOW)));
                b.answers().remember("req_second", second);
                assertEquals(second, b.answers().find("req_second", "acme", NOW), "at once in b");
                // in a once b's timer has written it (every 100 ms)
                assertEquals(second, eventually(() -> a.answers().find("req_second", "acme", NOW)));
            }
        }
        try (StateStore again = StateStore.open(dir)) {
            assertEquals(first, again.answers().find("req_first", "acme", NOW));
            assertEquals(second, again.answers().find("req_second", "acme", NOW));
            assertNull(again.answers().find("req_third", "acme", NOW));
        }
    }

    @Test
    void anAnswerRememberedByAnotherProcessIsFoundHere() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            ChildJvm child = ChildJvm.main(StateChild.class)
                    .args("answer", dir.toString(), "req_child", "acme", WEST)
                    .start();
            assertEquals("remembered", child.await("remembered"));
            assertEquals(0, child.process().waitFor());
            Answer a = store.answers().find("req_child", "acme", System.currentTimeMillis());
            assertEquals(WEST, a == null ? null : a.candidateId(), "found: " + a);
            assertEquals(JSON_1K, a.taskClass());
            assertNull(store.answers().find("req_child", "globex", System.currentTimeMillis()));
        }
    }

    @Test
    void onlyTheTenantThatAskedFindsItAndTheFirstAnswerStands() throws Exception {
        try (StateStore store = StateStore.open(dir)) {
            AnswerLog log = store.answers();
            Answer acme = new Answer("acme", EAST, JSON_1K, NOW);
            log.remember("req_1", acme);
            log.remember("req_1", new Answer("acme", WEST, TOOLS_LARGE, NOW + 5));
            assertEquals(acme, log.find("req_1", "acme", NOW));
            assertNull(log.find("req_1", "globex", NOW));
            assertNull(log.find("req_1", "acm", NOW));
            assertNull(log.find("req_1", "", NOW));
        }
    }

    @Test
    void anAnswerCanBeScoredForSevenDaysAndNoLonger() throws Exception {
        long threeDaysAgo = NOW - 3 * DAY;
        try (StateStore store = StateStore.open(dir)) {
            AnswerLog log = store.answers();
            log.remember("req_old", new Answer("acme", EAST, JSON_1K, threeDaysAgo));
            log.remember("req_new", new Answer("acme", WEST, JSON_1K, NOW));
            store.flush();
            assertTrue(Files.exists(dayFile(TODAY.minusDays(3))), "kept in the file of its own UTC day");

            assertEquals(EAST, log.find("req_old", "acme", NOW).candidateId());
            assertEquals(
                    EAST,
                    log.find("req_old", "acme", threeDaysAgo + AnswerLog.RETENTION_MILLIS)
                            .candidateId());
            assertNull(log.find("req_old", "acme", threeDaysAgo + AnswerLog.RETENTION_MILLIS + 1));
            assertEquals(
                    WEST,
                    log.find("req_new", "acme", NOW + AnswerLog.RETENTION_MILLIS)
                            .candidateId());
            assertNull(log.find("req_new", "acme", NOW + AnswerLog.RETENTION_MILLIS + 1));
            assertNull(log.find("req_new", "acme", NOW + 30 * DAY));
        }
    }

    @Test
    void aFullDayFileDropsAnswersWithoutFailingAndTheNextDayKeepsThemAgain() throws Exception {
        try (StateStore store = StateStore.open(dir, new StateStore.Options(35, 100))) {
            AnswerLog log = store.answers();
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                log.remember("req_" + i, new Answer("acme", EAST, JSON_1K, NOW));
            }
            int kept = 0;
            for (int i = 0; i < n; i++) {
                kept += log.find("req_" + i, "acme", NOW) != null ? 1 : 0;
            }
            System.out.println("a day file sized for 100 answers kept " + kept + " of " + n);
            assertTrue(kept >= 100 && kept < n, "kept " + kept);
            assertEquals(EAST, log.find("req_0", "acme", NOW).candidateId(), "the first answers stay");
            assertNull(log.find("req_" + (n - 1), "acme", NOW));

            log.remember("req_tomorrow", new Answer("acme", WEST, JSON_1K, NOW + DAY));
            assertEquals(WEST, log.find("req_tomorrow", "acme", NOW + DAY).candidateId());
        }
    }

    @Test
    void feedbackRightAfterAnAnswerFindsItAndCloseWritesEveryAnswer() throws Exception {
        int n = 3_000;
        try (StateStore store = StateStore.open(dir)) {
            AnswerLog log = store.answers();
            for (int i = 0; i < n; i++) {
                Answer a = new Answer("acme", i % 2 == 0 ? EAST : WEST, JSON_1K, NOW + i);
                log.remember("req_" + i, a);
                assertEquals(a, log.find("req_" + i, "acme", NOW + i), "at once: req_" + i);
                assertNull(log.find("req_" + i, "globex", NOW + i), "only for its tenant: req_" + i);
            }
            assertEquals(0, store.answersDropped());
        }
        try (StateStore again = StateStore.open(dir)) {
            for (int i = 0; i < n; i++) {
                Answer a = again.answers().find("req_" + i, "acme", NOW + n);
                assertEquals(i % 2 == 0 ? EAST : WEST, a == null ? null : a.candidateId(), "after a reopen: req_" + i);
            }
        }
    }

    @Test
    void theHeapStoreKeepsTheLastAnswersForTheirTenant() {
        AnswerLog log = StateStore.inMemory().answers();
        assertInstanceOf(InMemoryAnswerLog.class, log);
        Answer a = new Answer("acme", EAST, JSON_1K, NOW);
        log.remember("req_1", a);
        assertEquals(a, log.find("req_1", "acme", NOW));
        assertNull(log.find("req_1", "globex", NOW));
        assertNull(log.find("req_1", "acme", NOW + AnswerLog.RETENTION_MILLIS + 1));
    }

    /** What {@code find} returns once it is not null, or null after 5 s. */
    private static Answer eventually(java.util.function.Supplier<Answer> find) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Answer a = find.get();
        while (a == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
            a = find.get();
        }
        return a;
    }

    private Path dayFile(LocalDate day) {
        return dir.resolve("answers").resolve(day + ".cm3");
    }
}
