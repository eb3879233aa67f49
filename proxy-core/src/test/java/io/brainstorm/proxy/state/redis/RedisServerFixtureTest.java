package io.brainstorm.proxy.state.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixture itself: a stop takes Redis away, a start brings it back on the same port with what the append-only file kept. */
class RedisServerFixtureTest {
    @TempDir
    Path tmp;

    @Test
    void stopsAndStartsAgainOnTheSamePortKeepingTheAppendOnlyFile() throws Exception {
        try (RedisServerFixture redis = RedisServerFixture.start(tmp, true)) {
            int port = redis.port();
            assertEquals(":1", redis.command("INCR", "acknowledged"));
            redis.stop();
            assertFalse(redis.running());
            assertNull(redis.command("PING"), "nothing answers on port " + port + " while it is stopped");
            redis.start();
            assertEquals(port, redis.port());
            assertEquals(
                    ":2", redis.command("INCR", "acknowledged"), "the acknowledged write survived SHUTDOWN NOSAVE");
        }
    }
}
