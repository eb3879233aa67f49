package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.brainstorm.proxy.admission.Admission;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.api.RoutingReport;
import io.brainstorm.proxy.api.UsageView;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.auth.ProviderKeyInfo;
import io.brainstorm.proxy.auth.Registry;
import io.brainstorm.proxy.auth.Tenant;
import io.brainstorm.proxy.config.ProviderConfig;
import io.brainstorm.proxy.metrics.Metrics;
import io.brainstorm.proxy.route.Router;
import io.brainstorm.proxy.server.Gateway;
import io.brainstorm.proxy.server.Responses;
import io.brainstorm.proxy.settle.audit.AuditLog;
import io.brainstorm.proxy.settle.audit.AuditReader;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of an admin connection: routes every endpoint of {@code docs/admin-api.md},
 * authenticates the caller and applies the tenant scope.
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
 * 404 a tenant or key that does not exist gets, so it cannot learn what other tenants exist; only
 * creating and deleting tenants and the audit trail's head (it covers every tenant) answer 403,
 * whatever the tenant. The audit query answers a tenant admin with its tenant's records only.
 *
 * <h2>Errors</h2>
 * An {@link ApiError} becomes OpenAI's error JSON with its status; anything else is logged with the
 * method and path (never a body or header: they hold secrets) and answered 500 without detail.
 */
@ChannelHandler.Sharable
final class AdminHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger log = System.getLogger(AdminHandler.class.getName());
    static final String PREFIX = "/admin/v1/";
    private static final Set<String> TENANT_FIELDS = Set.of("id", "name");
    private static final Set<String> KEY_FIELDS =
            Set.of("name", "kind", "daily_budget_usd", "rpm", "tpm", "allowed_models", "time_zone");
    private static final Set<String> KEY_UPDATE_FIELDS =
            Set.of("name", "daily_budget_usd", "rpm", "tpm", "allowed_models", "time_zone");
    private static final Set<String> PROVIDER_KEY_FIELDS = Set.of("api_key");

    /** The resources, each with the methods it accepts (its {@code Allow} header). */
    private enum Route {
        WHOAMI("GET"), TENANTS("GET, POST"), TENANT("GET, DELETE"), TENANT_KEYS("GET, POST"),
        PROVIDER_KEYS("GET"), PROVIDER_KEY("PUT, DELETE"), TENANT_USAGE("GET"), KEYS("GET"),
        KEY("GET, PATCH, DELETE"), KEY_USAGE("GET"), ROUTING("GET"), MODEL_STATS("GET"), AUDIT("GET"),
        AUDIT_HEAD("GET");

        final String allow;

        Route(String allow) {
            this.allow = allow;
        }

        boolean accepts(HttpMethod method) {
            return List.of(allow.split(", ")).contains(method.name());
        }
    }

    /** A request matched to its route; {@code params} are the path's decoded variable segments. */
    private record Call(Route route, HttpMethod method, List<String> params,
                        Map<String, List<String>> query, FullHttpRequest request) {
        String param(int i) {
            return params.get(i);
        }
    }

    /** An answer: status and JSON body. */
    private record Answer(HttpResponseStatus status, JsonNode body) {
        static Answer ok(JsonNode body) {
            return new Answer(HttpResponseStatus.OK, body);
        }

        static Answer created(JsonNode body) {
            return new Answer(HttpResponseStatus.CREATED, body);
        }
    }

    private final Gateway gateway;
    private final Executor executor;
    private final DashboardSessions sessions;
    private final DashboardStats stats;

    /** @param executor where requests are served: the admin thread (tests may pass a direct executor) */
    AdminHandler(Gateway gateway, Executor executor) {
        this(gateway, executor, new DashboardSessions(gateway::registry, java.time.InstantSource.system()),
                new DashboardStats());
    }

    /**
     * @param sessions the dashboard's logins, whose cookie stands in for the bearer token
     * @param stats    what {@code GET /admin/v1/stats/models} shows
     */
    AdminHandler(Gateway gateway, Executor executor, DashboardSessions sessions, DashboardStats stats) {
        this.gateway = gateway;
        this.executor = executor;
        this.sessions = sessions;
        this.stats = stats;
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
                Throwable cause = request.decoderResult().cause();
                ApiError error = cause instanceof TooLongHttpHeaderException
                        ? ApiError.headersTooLarge(AdminServer.MAX_HEADER_BYTES)
                        : cause instanceof TooLongFrameException
                        ? ApiError.invalidRequest(null, "The request line is too long.")
                        : ApiError.invalidRequest(null, "Malformed HTTP request.");
                response = Responses.error(ctx, error, null);
            } else if (path(request.uri()).equals(Metrics.PATH)) {
                response = metrics(ctx, request);
            } else {
                Answer a = answer(request);
                response = Responses.json(ctx, a.status(), ParsedRequest.JSON.writeValueAsString(a.body()));
            }
        } catch (ApiError e) {
            response = Responses.error(ctx, e, null);
            if (e.status().code() == 401) {
                response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"brainstorm-admin\"");
            }
        } catch (Exception e) {
            log.log(System.Logger.Level.ERROR, "admin API: " + request.method() + " " + path(request.uri())
                    + " failed inside the gateway", e);
            response = Responses.error(ctx, ApiError.internal("Internal error in the admin API; the gateway's log"
                    + " has the details."), null);
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
            throw ApiError.methodNotAllowed("Method " + m + " is not allowed on " + Metrics.PATH
                    + " (expected: GET, HEAD).", "GET, HEAD");
        }
        Metrics metrics = gateway.metrics();
        if (metrics == null) {
            throw ApiError.notFound("This gateway keeps no metrics.");
        }
        byte[] body = metrics.render().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                m.equals(HttpMethod.HEAD) ? ctx.alloc().buffer(0) : ctx.alloc().buffer(body.length).writeBytes(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, Metrics.CONTENT_TYPE)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return response;
    }

    private Answer answer(FullHttpRequest request) throws Exception {
        Call call = match(request);
        AdminPrincipal who = authenticate(request);
        HttpMethod m = call.method();
        return switch (call.route()) {
            case WHOAMI -> Answer.ok(whoami(who));
            case TENANTS -> m.equals(HttpMethod.GET) ? Answer.ok(tenants(who)) : createTenant(who, call);
            case TENANT -> m.equals(HttpMethod.GET) ? Answer.ok(tenant(who, call.param(0)))
                    : Answer.ok(deleteTenant(who, call.param(0)));
            case TENANT_KEYS -> m.equals(HttpMethod.GET) ? Answer.ok(keysOf(who, call.param(0)))
                    : Answer.created(createKey(who, call));
            case PROVIDER_KEYS -> Answer.ok(providerKeys(who, call.param(0)));
            case PROVIDER_KEY -> m.equals(HttpMethod.PUT) ? setProviderKey(who, call)
                    : Answer.ok(deleteProviderKey(who, call.param(0), call.param(1)));
            case TENANT_USAGE -> Answer.ok(tenantUsage(who, call.param(0)));
            case KEYS -> Answer.ok(keys(who, call));
            case KEY -> m.equals(HttpMethod.GET) ? Answer.ok(AdminJson.key(visibleKey(who, call.param(0))))
                    : m.equals(HttpMethod.PATCH) ? Answer.ok(updateKey(who, call))
                    : Answer.ok(revokeKey(who, call.param(0)));
            case KEY_USAGE -> Answer.ok(UsageView.json(visibleKey(who, call.param(0)), admission()));
            case ROUTING -> Answer.ok(RoutingReport.json(router()));
            case MODEL_STATS -> Answer.ok(modelStats(who, call));
            case AUDIT -> Answer.ok(audit(who, call));
            case AUDIT_HEAD -> Answer.ok(auditHead(who));
        };
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
        return registry().authenticateAdmin(authorization);
    }

    // ---- routing ----

    /**
     * The route of {@code request}'s path: 404 for a path the API does not have, 405 (with
     * {@code Allow}) for a method the path does not accept. Paths and methods are public, so this
     * comes before authentication.
     */
    private static Call match(FullHttpRequest request) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = path(request.uri());
        if (!path.startsWith(PREFIX)) {
            throw notFound(request.method(), path);
        }
        String[] s = path.substring(PREFIX.length()).split("/", -1);
        for (String segment : s) {
            if (segment.isEmpty()) {
                throw notFound(request.method(), path);
            }
        }
        Route route = switch (s.length) {
            case 1 -> switch (s[0]) {
                case "whoami" -> Route.WHOAMI;
                case "tenants" -> Route.TENANTS;
                case "keys" -> Route.KEYS;
                case "routing" -> Route.ROUTING;
                case "audit" -> Route.AUDIT;
                default -> null;
            };
            case 2 -> switch (s[0]) {
                case "tenants" -> Route.TENANT;
                case "keys" -> Route.KEY;
                case "stats" -> s[1].equals("models") ? Route.MODEL_STATS : null;
                case "audit" -> s[1].equals("head") ? Route.AUDIT_HEAD : null;
                default -> null;
            };
            case 3 -> s[0].equals("tenants") ? switch (s[2]) {
                case "keys" -> Route.TENANT_KEYS;
                case "providers" -> Route.PROVIDER_KEYS;
                case "usage" -> Route.TENANT_USAGE;
                default -> null;
            } : s[0].equals("keys") && s[2].equals("usage") ? Route.KEY_USAGE : null;
            case 4 -> s[0].equals("tenants") && s[2].equals("providers") ? Route.PROVIDER_KEY : null;
            default -> null;
        };
        if (route == null) {
            throw notFound(request.method(), path);
        }
        if (!route.accepts(request.method())) {
            throw ApiError.methodNotAllowed("Method " + request.method() + " is not allowed on " + path
                    + " (expected: " + route.allow + ").", route.allow);
        }
        List<String> params = new ArrayList<>(2);
        if (s.length >= 2 && route != Route.AUDIT_HEAD) {
            params.add(decode(s[1]));
        }
        if (s.length == 4) {
            params.add(decode(s[3]));
        }
        return new Call(route, request.method(), params, uri.parameters(), request);
    }

    private static ApiError notFound(HttpMethod method, String path) {
        return ApiError.notFound("Invalid URL (" + method + " " + path + "). The admin API's resources are under "
                + PREFIX + ": whoami, tenants, keys, routing, stats/models, audit (see docs/admin-api.md).");
    }

    private static String path(String uri) {
        int q = uri.indexOf('?');
        return q >= 0 ? uri.substring(0, q) : uri;
    }

    private static String decode(String segment) {
        try {
            return QueryStringDecoder.decodeComponent(segment);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalidRequest(null, "Malformed percent-encoding in the URL.");
        }
    }

    // ---- principal and tenants ----

    static ObjectNode whoami(AdminPrincipal who) {
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "principal");
        o.put("role", who.superAdmin() ? "super_admin" : "tenant_admin");
        o.put("tenant", who.tenant());
        o.put("key_id", who.keyId());
        return o;
    }

    private ObjectNode tenants(AdminPrincipal who) {
        List<ObjectNode> out = new ArrayList<>();
        for (Tenant t : registry().tenants()) {
            if (who.canAccess(t.id())) {
                out.add(tenantJson(t));
            }
        }
        return AdminJson.list(out);
    }

    private ObjectNode tenant(AdminPrincipal who, String id) {
        return tenantJson(visibleTenant(who, id));
    }

    private Answer createTenant(AdminPrincipal who, @Nullable Call call) {
        requireSuperAdmin(who, "create tenants");
        JsonBody body = JsonBody.parse(call.request().content(), TENANT_FIELDS);
        String id = body.requiredString("id");
        String name = body.string("name", id);
        Tenant t = registry().createTenant(id, name);
        log.log(System.Logger.Level.INFO, "admin API: {0} created tenant {1}", who.keyId(), t.id());
        return Answer.created(tenantJson(t));
    }

    private ObjectNode deleteTenant(AdminPrincipal who, String id) {
        requireSuperAdmin(who, "delete tenants");
        registry().deleteTenant(id);
        log.log(System.Logger.Level.INFO, "admin API: {0} deleted tenant {1}", who.keyId(), id);
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "tenant");
        o.put("id", id);
        o.put("deleted", true);
        return o;
    }

    private ObjectNode tenantJson(Tenant t) {
        Registry r = registry();
        int active = (int) r.keys(t.id()).stream().filter(k -> !k.revoked()).count();
        return AdminJson.tenant(t, active, r.providerKeys(t.id()).size());
    }

    /**
     * The tenant {@code id} if it exists and {@code who} may see it; otherwise the same 404 either
     * way, so a tenant admin cannot tell another tenant from none.
     */
    private Tenant visibleTenant(AdminPrincipal who, String id) {
        if (who.canAccess(id)) {
            var t = registry().tenant(id);
            if (t.isPresent()) {
                return t.get();
            }
        }
        throw ApiError.notFound("tenant '" + id + "' not found");
    }

    private static void requireSuperAdmin(AdminPrincipal who, String what) {
        if (!who.superAdmin()) {
            throw ApiError.permissionDenied("Only the super-admin (the admin token) may " + what
                    + "; this admin key belongs to tenant '" + who.tenant() + "'.");
        }
    }

    // ---- keys ----

    private ObjectNode keys(AdminPrincipal who, Call call) {
        List<String> tenant = call.query().get("tenant");
        List<ApiKey> keys;
        if (tenant != null && !tenant.isEmpty()) {
            keys = registry().keys(visibleTenant(who, tenant.get(0)).id());
        } else {
            keys = registry().allKeys().stream().filter(k -> who.canAccess(k.tenant())).toList();
        }
        return AdminJson.list(keys.stream().map(AdminJson::key).toList());
    }

    private ObjectNode keysOf(AdminPrincipal who, String tenant) {
        return AdminJson.list(registry().keys(visibleTenant(who, tenant).id()).stream().map(AdminJson::key).toList());
    }

    /** The answer holds the secret, {@code "key"}: the one time it is shown. */
    private ObjectNode createKey(AdminPrincipal who, Call call) {
        Tenant tenant = visibleTenant(who, call.param(0));
        JsonBody body = JsonBody.parse(call.request().content(), KEY_FIELDS);
        String name = body.requiredString("name");
        KeyKind kind = body.kind("kind");
        KeyLimits limits = new KeyLimits(body.usdNano("daily_budget_usd", KeyLimits.UNLIMITED),
                (int) body.limit("rpm", Integer.MAX_VALUE), body.limit("tpm", Long.MAX_VALUE));
        Registry.KeySpec spec = new Registry.KeySpec(name, kind, limits, body.strings("allowed_models"),
                body.zone("time_zone", null));
        Registry.Created created = registry().createKey(tenant.id(), spec);
        log.log(System.Logger.Level.INFO, "admin API: {0} created {1} key {2} of tenant {3}", who.keyId(),
                kind.name().toLowerCase(java.util.Locale.ROOT), created.key().id(), tenant.id());
        ObjectNode o = AdminJson.key(created.key());
        o.put("key", created.secret());
        return o;
    }

    /** The key {@code id} if it exists and {@code who} may see it; otherwise one 404 either way. */
    private ApiKey visibleKey(AdminPrincipal who, String id) {
        var key = registry().key(id);
        if (key.isPresent() && who.canAccess(key.get().tenant())) {
            return key.get();
        }
        throw ApiError.notFound("key '" + id + "' not found");
    }

    /** Fields left out stay; {@code null} clears a limit (budget, rpm, tpm, models, zone back to UTC). */
    private ObjectNode updateKey(AdminPrincipal who, Call call) {
        ApiKey key = visibleKey(who, call.param(0));
        JsonBody body = JsonBody.parse(call.request().content(), KEY_UPDATE_FIELDS);
        String name = body.has("name") ? body.requiredString("name") : null;
        KeyLimits now = key.limits();
        KeyLimits limits = null;
        if (body.has("daily_budget_usd") || body.has("rpm") || body.has("tpm")) {
            limits = new KeyLimits(
                    body.has("daily_budget_usd") ? body.usdNano("daily_budget_usd", KeyLimits.UNLIMITED)
                            : now.dailyBudgetNano(),
                    body.has("rpm") ? (int) body.limit("rpm", Integer.MAX_VALUE) : now.rpm(),
                    body.has("tpm") ? body.limit("tpm", Long.MAX_VALUE) : now.tpm());
        }
        List<String> models = body.has("allowed_models") ? body.strings("allowed_models") : null;
        var zone = body.has("time_zone") ? body.zone("time_zone", ZoneOffset.UTC) : null;
        ApiKey updated = registry().updateKey(key.id(), new Registry.KeyUpdate(name, limits, models, zone));
        log.log(System.Logger.Level.INFO, "admin API: {0} updated key {1}", who.keyId(), key.id());
        return AdminJson.key(updated);
    }

    private ObjectNode revokeKey(AdminPrincipal who, String id) {
        ApiKey key = visibleKey(who, id);
        ApiKey revoked = registry().revokeKey(key.id());
        log.log(System.Logger.Level.INFO, "admin API: {0} revoked key {1}", who.keyId(), key.id());
        return AdminJson.key(revoked);
    }

    // ---- provider keys ----

    private ObjectNode providerKeys(AdminPrincipal who, String tenant) {
        String id = visibleTenant(who, tenant).id();
        ObjectNode o = AdminJson.list(registry().providerKeys(id).stream().map(AdminJson::providerKey).toList());
        var names = o.putArray("providers");
        gateway.config().providers().stream().map(ProviderConfig::name).forEach(names::add);
        return o;
    }

    /** 201 when the tenant had no key for the provider, 200 when it replaced one. */
    private Answer setProviderKey(AdminPrincipal who, Call call) {
        String tenant = visibleTenant(who, call.param(0)).id();
        String provider = call.param(1);
        JsonBody body = JsonBody.parse(call.request().content(), PROVIDER_KEY_FIELDS);
        String secret = body.requiredString("api_key");
        boolean existed = registry().providerKeys(tenant).stream().anyMatch(p -> p.provider().equals(provider));
        ProviderKeyInfo info = registry().setProviderKey(tenant, provider, secret);
        log.log(System.Logger.Level.INFO, "admin API: {0} {1} the {2} key of tenant {3} ({4})", who.keyId(),
                existed ? "replaced" : "set", provider, tenant, info.fingerprint());
        ObjectNode o = AdminJson.providerKey(info);
        return existed ? Answer.ok(o) : Answer.created(o);
    }

    private ObjectNode deleteProviderKey(AdminPrincipal who, String tenant, String provider) {
        String id = visibleTenant(who, tenant).id();
        registry().deleteProviderKey(id, provider);
        log.log(System.Logger.Level.INFO, "admin API: {0} deleted the {1} key of tenant {2}", who.keyId(), provider,
                id);
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "provider_key");
        o.put("tenant", id);
        o.put("provider", provider);
        o.put("deleted", true);
        return o;
    }

    // ---- usage and routing ----

    /** Today's use summed over the tenant's API keys that are not revoked, and each of them. */
    private ObjectNode tenantUsage(AdminPrincipal who, String tenant) {
        String id = visibleTenant(who, tenant).id();
        Admission admission = admission();
        long spent = 0;
        long reserved = 0;
        long requests = 0;
        List<ObjectNode> perKey = new ArrayList<>();
        for (ApiKey k : registry().keys(id)) {
            if (k.revoked() || k.kind() != KeyKind.API) {
                continue;
            }
            var u = admission.usage(k);
            spent += u.spentNano();
            reserved += u.reservedNano();
            requests += u.requests();
            perKey.add(UsageView.json(k, admission));
        }
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "tenant_usage");
        o.put("tenant", id);
        o.putRawValue("spent_usd", UsageView.usd(spent));
        o.putRawValue("reserved_usd", UsageView.usd(reserved));
        o.put("requests", requests);
        o.putArray("keys").addAll(perKey);
        return o;
    }

    /**
     * Since start, per model and endpoint: the caller's tenant's figures for a tenant admin; for the
     * super-admin all tenants' summed, or one tenant's with {@code ?tenant=}.
     */
    private ObjectNode modelStats(AdminPrincipal who, Call call) {
        List<String> tenant = call.query().get("tenant");
        if (tenant != null && !tenant.isEmpty()) {
            return stats.json(visibleTenant(who, tenant.get(0)).id());
        }
        return stats.json(who.superAdmin() ? null : who.tenant());
    }

    // ---- audit trail ----

    /**
     * The audit trail's head: the last record written, to pass to {@code audit verify --head}. Only
     * the super-admin: the head covers every tenant's records, so a tenant admin gets 403.
     */
    private ObjectNode auditHead(AdminPrincipal who) {
        requireSuperAdmin(who, "read the audit trail's head");
        AuditLog a = auditLog();
        AuditLog.Head h = a.head();
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "audit_head");
        o.put("slot", h.slot());
        o.put("file", h.file());
        o.put("seq", h.seq());
        o.put("mac", h.mac());
        o.put("time", h.time());
        o.put("written", a.written());
        o.put("lost", a.lost());
        o.put("write_errors", a.writeErrors());
        o.put("queued", a.queued());
        return o;
    }

    /** A page of audit records, oldest first; a tenant admin sees only its tenant's. */
    private ObjectNode audit(AdminPrincipal who, Call call) throws java.io.IOException {
        AuditLog a = auditLog();
        java.time.Instant now = java.time.Instant.now();
        java.time.Instant to = instant(call, "to", null);
        java.time.Instant from = instant(call, "from", null);
        if (to == null) {
            to = from != null && from.isAfter(now) ? from.plusMillis(1) : now.plusMillis(1);
        }
        if (from == null) {
            from = to.minusMillis(1).atZone(ZoneOffset.UTC).toLocalDate().atStartOfDay(ZoneOffset.UTC).toInstant();
        }
        if (!from.isBefore(to)) {
            throw ApiError.invalidRequest("from", "from: " + from + " is not before to: " + to + ".");
        }
        int limit = (int) Math.min(integer(call, "limit", 100), Integer.MAX_VALUE);
        if (limit < 1 || limit > 1000) {
            throw ApiError.invalidRequest("limit", "limit: " + limit + " (expected: 1 to 1000).");
        }
        String status = query(call, "status");
        Integer st = status == null ? null : (int) integer(call, "status", 0);
        AuditReader.Query q = new AuditReader.Query(from, to, who.superAdmin() ? null : who.tenant(),
                query(call, "key_id"), query(call, "model"), st);
        AuditReader.Page page;
        try {
            page = AuditReader.page(a.dir(), q, query(call, "cursor"), limit);
        } catch (AuditReader.BadCursorException e) {
            throw ApiError.invalidRequest("cursor", e.getMessage() + ".");
        }
        ObjectNode o = ParsedRequest.JSON.createObjectNode();
        o.put("object", "list");
        o.putArray("data").addAll(page.records());
        o.put("next_cursor", page.nextCursor());
        return o;
    }

    private static @Nullable String query(Call call, String name) {
        List<String> v = call.query().get(name);
        return v == null || v.isEmpty() || v.get(0).isEmpty() ? null : v.get(0);
    }

    private static long integer(Call call, String name, long dflt) {
        String v = query(call, name);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.invalidRequest(name, name + ": '" + v + "' (expected: an integer).");
        }
    }

    /** An ISO-8601 instant ({@code 2025-01-01T12:00:00Z}) or a UTC day ({@code 2025-01-01}, its start). */
    private static java.time.@Nullable Instant instant(Call call, String name, java.time.@Nullable Instant dflt) {
        String v = query(call, name);
        if (v == null) {
            return dflt;
        }
        try {
            return v.length() == 10 ? java.time.LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : java.time.OffsetDateTime.parse(v).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw ApiError.invalidRequest(name, name + ": '" + v + "' (expected: an ISO-8601 time such as"
                    + " 2025-01-01T12:00:00Z, or a day such as 2025-01-01).");
        }
    }

    private AuditLog auditLog() {
        AuditLog a = gateway.audit();
        if (a == null) {
            throw ApiError.notFound("The audit trail is disabled (audit.enabled: false in conf/brainstorm.yaml)"
                    + " or the gateway is starting.");
        }
        return a;
    }

    private Registry registry() {
        Registry r = gateway.registry();
        if (r == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        return r;
    }

    private Admission admission() {
        Admission a = gateway.admission();
        if (a == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        return a;
    }

    private Router router() {
        Router r = gateway.router();
        if (r == null) {
            throw ApiError.unavailable("The gateway is starting; try again in a moment.", 1);
        }
        return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.log(System.Logger.Level.DEBUG, "admin connection error: {0}", cause.toString());
        } else {
            log.log(System.Logger.Level.WARNING, "unexpected error on an admin connection", cause);
        }
        ctx.close();
    }
}
