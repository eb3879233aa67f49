package io.brainstorm.proxy.admin;

import io.brainstorm.proxy.admin.AdminRoutes.Answer;
import io.brainstorm.proxy.admin.AdminRoutes.Match;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.Json;
import io.brainstorm.proxy.api.Responses;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.HttpPipeline;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The last handler of an admin connection, its transport: hands each request to the admin executor,
 * matches it in the route table ({@link AdminRoutes}), authenticates the caller, runs the resource
 * that answers it and maps what it throws to an answer. {@code GET /metrics} is served here too.
 * The resources ({@link TenantResource}, {@link KeyResource}, {@link ProviderKeyResource},
 * {@link StatsResource}, {@link AuditResource}) apply the tenant scope through {@link AdminServices}.
 *
 * <h2>Threading</h2>
 * Registry changes do file I/O under a file lock, so a request is served on the admin executor
 * (one thread, {@code br-admin}), never on the event loop: {@link #channelRead} turns auto-read off
 * and hands the request over; the executor builds the answer and writes it with
 * {@code ctx.writeAndFlush} (thread-safe); once written, auto-read comes back on. So a connection has
 * one request in flight, answers leave in order, and all admin changes of this process happen one
 * after the other.
 *
 * <h2>Reference counting</h2>
 * The {@link FullHttpRequest} passes to the executor's task, which releases it once the answer is
 * built, whatever happened; if the executor refuses the task (shutting down) it is released here and
 * the connection closed.
 *
 * <h2>Authentication</h2>
 * {@code Authorization: Bearer} with the admin token or an admin key; without that header, the
 * dashboard's {@code br_session} cookie ({@link DashboardSessions}), where a change (not GET) must
 * also carry the session's {@code X-CSRF-Token} and no foreign {@code Origin}, else 403
 * {@code csrf_failed}.
 *
 * <h2>Scope</h2>
 * A tenant admin asking for another tenant's tenant, keys, provider keys or usage gets exactly the
 * 404 a tenant or key that does not exist gets ({@link AdminServices}); only creating and deleting
 * tenants and the audit trail's head (it covers every tenant) answer 403, whatever the tenant.
 *
 * <h2>Errors</h2>
 * An {@link ApiError} becomes OpenAI's error JSON with its status; anything else is logged with the
 * method and path (never a body or header: they hold secrets) and answered 500 without detail.
 */
@ChannelHandler.Sharable
final class AdminHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger log = System.getLogger(AdminHandler.class.getName());

    private final Gateway gateway;
    private final Executor executor;
    private final DashboardSessions sessions;
    private final AdminServices services;
    private final AdminRoutes routes;

    /** @param executor where requests are served: the admin thread (tests may pass a direct executor) */
    AdminHandler(Gateway gateway, Executor executor) {
        this(gateway, executor, new DashboardSessions(gateway::registry, InstantSource.system()), new DashboardStats());
    }

    /**
     * @param sessions the dashboard's logins, whose cookie stands in for the bearer token
     * @param stats    what {@code GET /admin/v1/stats/models} shows
     */
    AdminHandler(Gateway gateway, Executor executor, DashboardSessions sessions, DashboardStats stats) {
        this.gateway = gateway;
        this.executor = executor;
        this.sessions = sessions;
        this.services = new AdminServices(gateway);
        this.routes = AdminRoutes.standard(services, stats);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        Serve task = new Serve(ctx, request);
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            task.drop();
        }
    }

    /** One request on its way through the admin executor; it owns the request until it runs or is dropped. */
    final class Serve implements Runnable {
        private final ChannelHandlerContext ctx;
        private final FullHttpRequest request;

        Serve(ChannelHandlerContext ctx, FullHttpRequest request) {
            this.ctx = ctx;
            this.request = request;
        }

        @Override
        public void run() {
            serve(ctx, request);
        }

        /** Never to run (the admin executor stopped): releases the request and closes the connection. */
        void drop() {
            request.release();
            ctx.close();
        }
    }

    /** On the admin executor: answers {@code request}, releases it and writes the answer. */
    private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        FullHttpResponse response;
        boolean close = false;
        try {
            if (request.decoderResult().isFailure()) {
                close = true;
                ApiError error = HttpPipeline.malformed(request.decoderResult().cause(), AdminServer.MAX_HEADER_BYTES);
                response = Responses.error(ctx, error, null);
            } else if (path(request.uri()).equals(Metrics.PATH)) {
                response = metrics(ctx, request);
            } else {
                Answer a = answer(request);
                response = Responses.json(ctx, a.status(), Json.MAPPER.writeValueAsString(a.body()));
            }
        } catch (ApiError e) {
            response = Responses.error(ctx, e, null);
            if (e.status().code() == 401) {
                response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"brainstorm-admin\"");
            }
        } catch (Exception e) {
            log.log(
                    System.Logger.Level.ERROR,
                    "admin API: " + request.method() + " " + path(request.uri()) + " failed inside the gateway",
                    e);
            response = Responses.error(
                    ctx,
                    ApiError.internal("Internal error in the admin API; the gateway's log" + " has the details."),
                    null);
        } finally {
            request.release();
        }
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        boolean closeAfter = close;
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            if (closeAfter || !f.isSuccess()) {
                f.channel().close();
            } else {
                f.channel().config().setAutoRead(true);
            }
        });
    }

    /**
     * {@code GET /metrics}: Prometheus' text exposition (docs/metrics.md), without a token (it holds no
     * key, tenant or secret; the admin listener is on loopback unless configured otherwise).
     */
    private FullHttpResponse metrics(ChannelHandlerContext ctx, FullHttpRequest request) {
        HttpMethod m = request.method();
        if (!m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD)) {
            throw ApiError.methodNotAllowed(
                    "Method " + m + " is not allowed on " + Metrics.PATH + " (expected: GET, HEAD).", "GET, HEAD");
        }
        Metrics metrics = gateway.metrics();
        if (metrics == null) {
            throw ApiError.notFound("This gateway keeps no metrics.");
        }
        byte[] body = metrics.render().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK,
                m.equals(HttpMethod.HEAD)
                        ? ctx.alloc().buffer(0)
                        : ctx.alloc().buffer(body.length).writeBytes(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, Metrics.CONTENT_TYPE)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return response;
    }

    private Answer answer(FullHttpRequest request) throws Exception {
        Match match = routes.match(request);
        AdminPrincipal who = authenticate(request);
        return match.action().answer(who, match.call());
    }

    /**
     * The caller: from {@code Authorization: Bearer}, or, when that header is absent, from the
     * dashboard's session cookie. A change made with the cookie must pass the CSRF checks
     * ({@link DashboardHandler#checkChange}); bearer callers (the CLI) have no cookie to abuse.
     */
    private AdminPrincipal authenticate(FullHttpRequest request) {
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        String cookie = request.headers().get(HttpHeaderNames.COOKIE);
        if (authorization == null && cookie != null && cookie.contains(DashboardSessions.COOKIE + "=")) {
            DashboardSessions.Session s = sessions.fromCookieHeader(cookie);
            if (s == null) {
                throw ApiError.invalidApiKey("The dashboard session ended (logged out, expired, or its key was"
                        + " revoked); log in again, or send 'Authorization: Bearer <admin token>'.");
            }
            HttpMethod m = request.method();
            if (!m.equals(HttpMethod.GET) && !m.equals(HttpMethod.HEAD)) {
                DashboardHandler.checkChange(request, s);
            }
            return s.principal();
        }
        return services.registry().authenticateAdmin(authorization);
    }

    /** {@code uri} without its query. */
    static String path(String uri) {
        int q = uri.indexOf('?');
        return q >= 0 ? uri.substring(0, q) : uri;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpPipeline.closeOnError(ctx, cause, log, "admin");
    }
}
