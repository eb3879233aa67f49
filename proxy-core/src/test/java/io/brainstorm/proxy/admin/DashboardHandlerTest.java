package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.testing.TestRegistries;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link DashboardHandler} alone: what it answers, what it passes on, and that every request is released once. */
class DashboardHandlerTest {
    private final Registry registry =
            Registry.inMemory(TestRegistries.bootstrap(List.of(), List.of(), Set.of()), InstantSource.system());
    private final EmbeddedChannel channel = new EmbeddedChannel(new DashboardHandler(
            new DashboardSessions(() -> registry, InstantSource.system()), new LiveFeed(), 30_000, 8080));

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void theAdminApiPassesOnUntouched() {
        FullHttpRequest r = request(HttpMethod.GET, "/admin/v1/whoami", "");
        channel.writeInbound(r);
        FullHttpRequest passed = channel.readInbound();
        assertSame(r, passed);
        assertEquals(1, passed.refCnt(), "still the admin handler's to release");
        passed.release();
        FullHttpRequest lookalike = request(HttpMethod.GET, "/dashboardx", "");
        channel.writeInbound(lookalike);
        assertSame(lookalike, channel.readInbound());
        lookalike.release();
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void aFileIsAnsweredAndItsRequestReleased() {
        FullHttpRequest r = request(HttpMethod.GET, "/dashboard/app.css?v=1", "");
        channel.writeInbound(r);
        assertEquals(0, r.refCnt());
        assertNull(channel.readInbound());
        FullHttpResponse response = channel.readOutbound();
        assertEquals(200, response.status().code());
        assertEquals("text/css; charset=utf-8", response.headers().get("content-type"));
        assertEquals(DashboardHandler.CSP, response.headers().get("content-security-policy"));
        assertTrue(response.content().toString(StandardCharsets.UTF_8).contains("table-layout: fixed"));
        response.release();
        assertFalse(channel.finish());
    }

    @Test
    void aBadLoginIsReleasedAndAnsweredWithoutTheToken() {
        for (String body : List.of(
                "", "not json", "{\"token\":42}", "{\"token\":\"br_admin_wrongwrongwrongwrongwrongwrongwr\"}")) {
            FullHttpRequest r = request(HttpMethod.POST, "/dashboard/login", body);
            channel.writeInbound(r);
            assertEquals(0, r.refCnt(), body);
            FullHttpResponse response = channel.readOutbound();
            String text = response.content().toString(StandardCharsets.UTF_8);
            assertTrue(response.status().code() == 400 || response.status().code() == 401, body + ": " + text);
            assertFalse(text.contains("wrongwrong"), text);
            assertNull(response.headers().get("set-cookie"));
            response.release();
        }
        assertFalse(channel.finish());
    }

    private static FullHttpRequest request(HttpMethod method, String uri, String body) {
        FullHttpRequest r = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1, method, uri, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set("host", "127.0.0.1:8081");
        return r;
    }
}
