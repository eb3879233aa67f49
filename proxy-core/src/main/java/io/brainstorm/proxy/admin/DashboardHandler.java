package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.Responses;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Locale;
import java.util.Map;

/**
 * The dashboard (docs/dashboard.md) on the admin listener, in front of {@link AdminHandler}: its
 * static files, login and logout, the session read-out and the live feed's event stream, all under
 * {@code /dashboard}. Every other request goes on to the admin API.
 * <pre>
 *   GET  /dashboard, /dashboard/          index.html (Cache-Control: no-store)
 *   GET  /dashboard/app.js, app.css       the page's script and style, from the jar
 *   POST /dashboard/login  {"token":…}    a session: Set-Cookie br_session (HttpOnly, SameSite=Strict),
 *                                         {"principal":…,"csrf_token":…,"api_port":…}
 *   GET  /dashboard/session               the same body for the cookie's session (a page reload)
 *   POST /dashboard/logout                ends the cookie's session (X-CSRF-Token)
 *   GET  /dashboard/events                server-sent events: {@link DashboardEvents}
 * </pre>
 * Every answer carries a strict {@code Content-Security-Policy} (the page loads nothing but its own
 * files, runs no inline script or style and cannot be framed), {@code X-Content-Type-Options:
 * nosniff} and {@code Referrer-Policy: no-referrer}.
 *
 * <p><b>Threading.</b> Served on the event loop: nothing here blocks (the files are in memory, a
 * login reads the registry's snapshot and the session map). Above all the event stream, which stays
 * open for hours, must not take the admin thread.
 *
 * <p><b>Reference counting.</b> A request under {@code /dashboard} is released here once answered;
 * others pass on untouched. On a connection carrying an event stream, later requests are released
 * unanswered (a browser never sends any there).
 */
@ChannelHandler.Sharable
final class DashboardHandler extends ChannelInboundHandlerAdapter {
    static final String PREFIX = "/dashboard";
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final long MAX_HEARTBEAT_MILLIS = 15_000;

    /** A static file: its bytes, content type and cache policy. */
    private record Asset(byte[] bytes, String contentType, String cacheControl) {}

    private final Map<String, Asset> assets;
    private final DashboardSessions sessions;
    private final LiveFeed feed;
    private final long heartbeatMillis;
    private final int apiPort;

    /**
     * @param idleMillis the admin connections' idle timeout: heartbeats come at least twice as often
     * @param apiPort    the client listener's port, which the page names in its empty state (0 if unknown)
     */
    DashboardHandler(DashboardSessions sessions, LiveFeed feed, long idleMillis, int apiPort) {
        this.sessions = sessions;
        this.feed = feed;
        this.heartbeatMillis = Math.max(100, Math.min(MAX_HEARTBEAT_MILLIS, idleMillis / 2));
        this.apiPort = apiPort;
        Asset index = asset("index.html", "text/html; charset=utf-8", "no-store");
        this.assets = Map.of(
                PREFIX,
                index,
                PREFIX + "/",
                index,
                PREFIX + "/index.html",
                index,
                PREFIX + "/app.js",
                asset("app.js", "text/javascript; charset=utf-8", "no-cache"),
                PREFIX + "/app.css",
                asset("app.css", "text/css; charset=utf-8", "no-cache"));
    }

    private static Asset asset(String name, String type, String cache) {
        try (InputStream in = DashboardHandler.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard/" + name + " is missing from the jar (expected: in "
                        + "io/brainstorm/proxy/admin/dashboard/)");
            }
            return new Asset(in.readAllBytes(), type, cache);
        } catch (IOException e) {
            throw new UncheckedIOException("reading dashboard/" + name + " from the jar failed", e);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (ctx.channel().hasAttr(DashboardEvents.KEY)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof FullHttpRequest request)
                || request.decoderResult().isFailure()
                || !isDashboard(request.uri())) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            serve(ctx, request);
        } finally {
            request.release();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        DashboardEvents events = ctx.channel().attr(DashboardEvents.KEY).get();
        if (events != null) {
            events.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    static boolean isDashboard(String uri) {
        String path = path(uri);
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        String path = path(request.uri());
        HttpMethod m = request.method();
        try {
            Asset asset = assets.get(path);
            if (asset != null) {
                requireMethod(m, path, HttpMethod.GET);
                send(ctx, file(asset));
                return;
            }
            switch (path) {
                case PREFIX + "/login" -> {
                    requireMethod(m, path, HttpMethod.POST);
                    login(ctx, request);
                }
                case PREFIX + "/logout" -> {
                    requireMethod(m, path, HttpMethod.POST);
                    logout(ctx, request);
                }
                case PREFIX + "/session" -> {
                    requireMethod(m, path, HttpMethod.GET);
                    DashboardSessions.Session s = session(request);
                    send(ctx, json(ctx, HttpResponseStatus.OK, sessionJson(s)));
                }
                case PREFIX + "/events" -> {
                    requireMethod(m, path, HttpMethod.GET);
                    events(ctx, session(request));
                }
                default ->
                    throw ApiError.notFound("Invalid URL (" + m + " " + path + "). The dashboard is at " + PREFIX
                            + "/ (see docs/dashboard.md).");
            }
        } catch (ApiError e) {
            send(ctx, secured(Responses.error(ctx, e, null), "no-store"));
        }
    }

    private void login(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!sameOrigin(request)) {
            throw ApiError.csrfFailed("Cross-origin login refused: Origin does not match Host.");
        }
        DashboardSessions.Session s = sessions.login(token(request));
        FullHttpResponse r = json(ctx, HttpResponseStatus.OK, sessionJson(s));
        DefaultCookie c = new DefaultCookie(DashboardSessions.COOKIE, s.id());
        c.setPath("/");
        c.setHttpOnly(true);
        c.setSameSite(CookieHeaderNames.SameSite.Strict);
        c.setMaxAge(DashboardSessions.IDLE.toSeconds());
        // the admin listener speaks plain HTTP (loopback); a TLS listener would add Secure
        r.headers().add(HttpHeaderNames.SET_COOKIE, ServerCookieEncoder.STRICT.encode(c));
        send(ctx, r);
    }

    /** The login body's token; never repeated in a message. */
    private static String token(FullHttpRequest request) {
        JsonNode root;
        try {
            root = Json.read(request.content());
        } catch (IOException e) {
            root = null;
        }
        JsonNode token = root == null || !root.isObject() ? null : root.get("token");
        if (token == null || !token.isTextual() || token.textValue().isBlank()) {
            throw ApiError.invalidRequest(
                    "token", "The login body must be {\"token\": \"<admin token or br_admin_ key>\"}.");
        }
        return token.textValue().trim();
    }

    private void logout(ChannelHandlerContext ctx, FullHttpRequest request) {
        DashboardSessions.Session s = session(request);
        checkChange(request, s);
        sessions.logout(s);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "logout");
        o.put("ok", true);
        FullHttpResponse r = json(ctx, HttpResponseStatus.OK, o);
        DefaultCookie c = new DefaultCookie(DashboardSessions.COOKIE, "");
        c.setPath("/");
        c.setHttpOnly(true);
        c.setSameSite(CookieHeaderNames.SameSite.Strict);
        c.setMaxAge(0);
        r.headers().add(HttpHeaderNames.SET_COOKIE, ServerCookieEncoder.STRICT.encode(c));
        send(ctx, r);
    }

    private void events(ChannelHandlerContext ctx, DashboardSessions.Session s) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        head.headers().set("X-Accel-Buffering", "no");
        HttpUtil.setTransferEncodingChunked(head, true);
        secure(head.headers(), "no-store");
        ctx.write(head);
        DashboardEvents.start(ctx, sessions, s, feed, heartbeatMillis);
    }

    /** The cookie's live session, else 401. */
    private DashboardSessions.Session session(HttpRequest request) {
        DashboardSessions.Session s =
                sessions.fromCookieHeader(request.headers().get(HttpHeaderNames.COOKIE));
        if (s == null) {
            throw ApiError.invalidApiKey("Not logged in, or the session ended (logged out, expired, or its key was"
                    + " revoked); log in at " + PREFIX + "/.");
        }
        return s;
    }

    private ObjectNode sessionJson(DashboardSessions.Session s) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "dashboard_session");
        o.set("principal", AdminJson.whoami(s.principal()));
        o.put("csrf_token", s.csrfToken());
        if (apiPort > 0) {
            o.put("api_port", apiPort);
        } else {
            o.putNull("api_port");
        }
        return o;
    }

    /**
     * A change (not GET or HEAD) made with a session cookie: it must carry the session's
     * {@code X-CSRF-Token}, and an {@code Origin}, if sent, must be this listener's.
     *
     * @throws ApiError 403 {@code csrf_failed}
     */
    static void checkChange(HttpRequest request, DashboardSessions.Session s) {
        if (!sameOrigin(request)) {
            throw ApiError.csrfFailed("Cross-origin request refused: Origin '"
                    + request.headers().get(HttpHeaderNames.ORIGIN) + "' does not match Host.");
        }
        if (!s.csrfMatches(request.headers().get(CSRF_HEADER))) {
            throw ApiError.csrfFailed("Missing or wrong " + CSRF_HEADER + " header: a change made with the dashboard's"
                    + " session cookie must carry the session's CSRF token.");
        }
    }

    /** True when the request has no {@code Origin}, or one whose host and port are the {@code Host} header's. */
    static boolean sameOrigin(HttpRequest request) {
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return true;
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null) {
            return false;
        }
        try {
            URI o = new URI(origin);
            if (o.getHost() == null || !("http".equals(o.getScheme()) || "https".equals(o.getScheme()))) {
                return false; // "null" and other opaque origins
            }
            int port = o.getPort() >= 0 ? o.getPort() : "https".equals(o.getScheme()) ? 443 : 80;
            return authority(o.getHost(), port).equals(hostAuthority(host, "https".equals(o.getScheme()) ? 443 : 80));
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static String hostAuthority(String host, int defaultPort) {
        int bracket = host.lastIndexOf(']');
        int colon = host.lastIndexOf(':');
        if (colon > bracket) {
            try {
                return authority(host.substring(0, colon), Integer.parseInt(host.substring(colon + 1)));
            } catch (NumberFormatException e) {
                return "";
            }
        }
        return authority(host, defaultPort);
    }

    private static String authority(String host, int port) {
        return host.toLowerCase(Locale.ROOT) + ":" + port;
    }

    private static void requireMethod(HttpMethod m, String path, HttpMethod expected) {
        if (!m.equals(expected)) {
            throw ApiError.methodNotAllowed(
                    "Method " + m + " is not allowed on " + path + " (expected: " + expected + ").", expected.name());
        }
    }

    private static FullHttpResponse file(Asset a) {
        FullHttpResponse r = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(a.bytes()));
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, a.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, a.bytes().length);
        return secured(r, a.cacheControl());
    }

    private static FullHttpResponse json(ChannelHandlerContext ctx, HttpResponseStatus status, ObjectNode body) {
        return secured(Responses.json(ctx, status, Json.write(body)), "no-store");
    }

    private static FullHttpResponse secured(FullHttpResponse r, String cacheControl) {
        secure(r.headers(), cacheControl);
        return r;
    }

    /** The headers every dashboard answer carries. */
    static void secure(HttpHeaders h, String cacheControl) {
        h.set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
        h.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CSP);
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        h.set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r) {
        ctx.writeAndFlush(r);
    }

    private static String path(String uri) {
        int q = uri.indexOf('?');
        return q >= 0 ? uri.substring(0, q) : uri;
    }
}
