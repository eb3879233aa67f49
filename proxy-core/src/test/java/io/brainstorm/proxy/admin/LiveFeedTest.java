package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.settle.Completion;
import io.brainstorm.proxy.settle.ScoreOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link LiveFeed} without a network: who sees what, the replay, and a subscriber that never reads. */
class LiveFeedTest {
    private static final AdminPrincipal ACME = new AdminPrincipal("acme", "key_acme");

    @Test
    void aSubscriberThatNeverReadsCostsABoundedQueueAndIsToldWhatItLost() throws Exception {
        LiveFeed feed = new LiveFeed();
        AtomicInteger wakeUps = new AtomicInteger();
        LiveFeed.Subscriber stuck = feed.subscribe(AdminPrincipal.SUPER, wakeUps::incrementAndGet);
        int n = 100_000;
        Thread[] loops = new Thread[4];
        CountDownLatch done = new CountDownLatch(loops.length);
        long t0 = System.nanoTime();
        for (int i = 0; i < loops.length; i++) {
            int id = i;
            loops[i] = new Thread(() -> {
                for (int j = 0; j < n / loops.length; j++) {
                    feed.accept(completion("req_" + id + "_" + j, "acme"));
                }
                done.countDown();
            });
            loops[i].start();
        }
        assertTrue(done.await(20, TimeUnit.SECONDS), "accept() never waits for a subscriber");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(LiveFeed.QUEUE, stuck.waiting(), "the queue stops at its bound");
        assertEquals(n - LiveFeed.QUEUE, stuck.takeDropped());
        assertEquals(0, stuck.takeDropped(), "counted once");
        assertEquals(1, wakeUps.get(), "woken once: the sender never came");
        assertTrue(millis < 10_000, n + " completions took " + millis + " ms");
    }

    @Test
    void aSubscriberThatFellBehindKeepsTheNewestAndLosesTheOldest() {
        LiveFeed feed = new LiveFeed();
        LiveFeed.Subscriber behind = feed.subscribe(ACME, 3, () -> {});
        for (int i = 0; i < 5; i++) {
            feed.accept(completion("req_" + i, "acme"));
        }
        // what a page that reads again gets: the latest, so a completion made now is never the one lost
        assertEquals(2, behind.takeDropped());
        List<String> got = new ArrayList<>();
        for (LiveFeed.Entry e = behind.poll(); e != null; e = behind.poll()) {
            got.add(e.completion().requestId());
        }
        assertEquals(List.of("req_2", "req_3", "req_4"), got);
        assertEquals(0, behind.waiting());
    }

    @Test
    void aSenderThatKeepsUpGetsEverythingInOrder() {
        LiveFeed feed = new LiveFeed();
        List<Runnable> scheduled = new ArrayList<>();
        LiveFeed.Subscriber[] holder = new LiveFeed.Subscriber[1];
        List<String> got = new ArrayList<>();
        Runnable drain = () -> {
            for (boolean more = true; more; ) {
                LiveFeed.Entry e = holder[0].poll();
                if (e == null) {
                    more = holder[0].sleep();
                } else {
                    got.add(e.completion().requestId());
                }
            }
        };
        holder[0] = feed.subscribe(ACME, () -> scheduled.add(drain));
        for (int i = 0; i < 1000; i++) {
            feed.accept(completion("req_" + i, i % 2 == 0 ? "acme" : "other"));
            if (i % 7 == 0) {
                scheduled.forEach(Runnable::run);
                scheduled.clear();
            }
        }
        scheduled.forEach(Runnable::run);
        assertEquals(500, got.size(), "acme's half");
        for (int i = 0; i < got.size(); i++) {
            assertEquals("req_" + 2 * i, got.get(i));
        }
        assertEquals(0, holder[0].takeDropped());
    }

    @Test
    void theReplayIsTheLastFiftyThePrincipalMaySee() {
        LiveFeed feed = new LiveFeed();
        for (int i = 0; i < 300; i++) {
            feed.accept(completion("req_" + i, i % 3 == 0 ? "acme" : i % 3 == 1 ? "other" : null));
        }
        List<LiveFeed.Entry> acme = feed.replay(ACME);
        assertEquals(LiveFeed.REPLAY, acme.size());
        assertEquals("req_150", acme.get(0).completion().requestId());
        assertEquals("req_297", acme.get(acme.size() - 1).completion().requestId());
        assertTrue(acme.stream().allMatch(e -> "acme".equals(e.completion().tenant())));
        List<LiveFeed.Entry> all = feed.replay(AdminPrincipal.SUPER);
        assertEquals(LiveFeed.REPLAY, all.size());
        assertEquals("req_250", all.get(0).completion().requestId());
        assertTrue(feed.replay(new AdminPrincipal("nobody", "k")).isEmpty());
    }

    @Test
    void theJsonLeavesOutContentAndTheTenantForATenantAdmin() {
        LiveFeed feed = new LiveFeed();
        feed.accept(completion("req_1", "acme"));
        LiveFeed.Entry e = feed.replay(ACME).get(0);
        String mine = e.json(false);
        String all = e.json(true);
        assertFalse(mine.contains("\"tenant\""), mine);
        assertTrue(all.contains("\"tenant\":\"acme\""), all);
        assertFalse(all.contains("secret"), all);
        assertTrue(all.contains("\"cost_usd\":0.000046"), all);
        assertTrue(all.contains("\"ttft_ms\":null"), all);
        assertNull(feed.replay(ACME).get(0).completion().app());
    }

    static Completion completion(String id, String tenant) {
        return Completion.builder(id, 0)
                .atMillis(1_700_000_000_000L)
                .key(tenant, tenant == null ? null : "key_" + tenant)
                .operation("chat")
                .requestedModel("sim/alpha")
                .strategy("floor")
                .selected("sim/alpha", "sim-alpha-1")
                .status(200, null)
                .tokens(10, 20)
                .cost(46_000, false)
                .latencyMicros(12_500)
                .score(1.0, ScoreOutcome.PLAIN_OK)
                .prompt("secret prompt")
                .answer("secret answer")
                .build();
    }
}
