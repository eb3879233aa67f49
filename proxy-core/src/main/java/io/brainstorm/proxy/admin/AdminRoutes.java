package io.brainstorm.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.AdminPrincipal;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * The admin API's table of contents: every method and path of {@code docs/admin-api.md} with the
 * resource method that answers it, listed once in {@link #standard}, and the matching of a request
 * to its entry ({@link #match}).
 *
 * <p>A path is a pattern of segments under {@value #PREFIX}; a segment in braces ({@code {id}})
 * matches any non-empty segment and is passed, percent-decoded, in {@link Call#params()}. A path
 * that no pattern matches is a 404; a path that matches with another method is a 405 whose
 * {@code Allow} lists the methods of that pattern in the order they are listed here. Paths and
 * methods are public, so matching comes before authentication.
 *
 * <p><b>Threading:</b> immutable once built; {@link #match} runs on the admin executor.
 */
final class AdminRoutes {
    static final String PREFIX = "/admin/v1/";

    /** What answers a route once the caller is known. */
    interface Action {
        Answer answer(AdminPrincipal who, Call call) throws Exception;
    }

    /** A request matched to its route; {@code params} are the path's decoded variable segments. */
    record Call(HttpMethod method, List<String> params, Map<String, List<String>> query, FullHttpRequest request) {
        String param(int i) {
            return params.get(i);
        }

        /** The first value of query parameter {@code name} (possibly empty), or null when it is absent. */
        @Nullable
        String first(String name) {
            List<String> v = query.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    /** An answer: status and JSON body. */
    record Answer(HttpResponseStatus status, JsonNode body) {
        static Answer ok(JsonNode body) {
            return new Answer(HttpResponseStatus.OK, body);
        }

        static Answer created(JsonNode body) {
            return new Answer(HttpResponseStatus.CREATED, body);
        }
    }

    /** A matched route: what to run, with the call it runs on. */
    record Match(Action action, Call call) {}

    private record Route(HttpMethod method, String pattern, String[] segments, Action action) {
        boolean matches(String[] path) {
            if (path.length != segments.length) {
                return false;
            }
            for (int i = 0; i < path.length; i++) {
                if (!isVariable(segments[i]) && !segments[i].equals(path[i])) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Route> routes = new ArrayList<>();

    private AdminRoutes() {}

    /** Every endpoint of the admin API but {@code /metrics}, which the handler serves itself. */
    static AdminRoutes standard(AdminServices services, DashboardStats stats) {
        TenantResource tenants = new TenantResource(services);
        KeyResource keys = new KeyResource(services);
        ProviderKeyResource providerKeys = new ProviderKeyResource(services);
        StatsResource statistics = new StatsResource(services, stats);
        AuditResource audit = new AuditResource(services);
        return new AdminRoutes()
                .add(HttpMethod.GET, "whoami", (who, call) -> Answer.ok(AdminJson.whoami(who)))
                .add(HttpMethod.GET, "tenants", tenants::list)
                .add(HttpMethod.POST, "tenants", tenants::create)
                .add(HttpMethod.GET, "tenants/{tenant}", tenants::show)
                .add(HttpMethod.DELETE, "tenants/{tenant}", tenants::delete)
                .add(HttpMethod.GET, "tenants/{tenant}/keys", keys::listOfTenant)
                .add(HttpMethod.POST, "tenants/{tenant}/keys", keys::create)
                .add(HttpMethod.GET, "tenants/{tenant}/providers", providerKeys::list)
                .add(HttpMethod.PUT, "tenants/{tenant}/providers/{provider}", providerKeys::set)
                .add(HttpMethod.DELETE, "tenants/{tenant}/providers/{provider}", providerKeys::delete)
                .add(HttpMethod.GET, "tenants/{tenant}/usage", tenants::usage)
                .add(HttpMethod.GET, "keys", keys::list)
                .add(HttpMethod.GET, "keys/{key}", keys::show)
                .add(HttpMethod.PATCH, "keys/{key}", keys::update)
                .add(HttpMethod.DELETE, "keys/{key}", keys::revoke)
                .add(HttpMethod.GET, "keys/{key}/usage", keys::usage)
                .add(HttpMethod.GET, "routing", statistics::routing)
                .add(HttpMethod.GET, "state", statistics::state)
                .add(HttpMethod.GET, "stats/models", statistics::models)
                .add(HttpMethod.GET, "audit", audit::page)
                .add(HttpMethod.GET, "audit/head", audit::head);
    }

    private AdminRoutes add(HttpMethod method, String pattern, Action action) {
        routes.add(new Route(method, pattern, pattern.split("/"), action));
        return this;
    }

    /** Every endpoint as {@code GET /admin/v1/tenants/{tenant}}, in the table's order. */
    List<String> endpoints() {
        return routes.stream()
                .map(r -> r.method().name() + " " + PREFIX + r.pattern())
                .toList();
    }

    /**
     * The route of {@code request}: 404 for a path the API does not have, 405 (with {@code Allow})
     * for a method the path does not accept, 400 for a variable segment that does not decode.
     */
    Match match(FullHttpRequest request) {
        HttpMethod method = request.method();
        String path = AdminHandler.path(request.uri());
        if (!path.startsWith(PREFIX)) {
            throw notFound(method, path);
        }
        String[] segments = path.substring(PREFIX.length()).split("/", -1);
        for (String segment : segments) {
            if (segment.isEmpty()) {
                throw notFound(method, path);
            }
        }
        Route found = null;
        StringJoiner allow = new StringJoiner(", ");
        for (Route r : routes) {
            if (r.matches(segments)) {
                allow.add(r.method().name());
                if (r.method().equals(method)) {
                    found = r;
                }
            }
        }
        if (allow.length() == 0) {
            throw notFound(method, path);
        }
        if (found == null) {
            throw ApiError.methodNotAllowed(
                    "Method " + method + " is not allowed on " + path + " (expected: " + allow + ").",
                    allow.toString());
        }
        List<String> params = new ArrayList<>(2);
        for (int i = 0; i < segments.length; i++) {
            if (isVariable(found.segments()[i])) {
                params.add(decode(segments[i]));
            }
        }
        return new Match(
                found.action(), new Call(method, params, new QueryStringDecoder(request.uri()).parameters(), request));
    }

    private static boolean isVariable(String segment) {
        return segment.startsWith("{");
    }

    private static ApiError notFound(HttpMethod method, String path) {
        return ApiError.notFound("Invalid URL (" + method + " " + path + "). The admin API's resources are under "
                + PREFIX + ": whoami, tenants, keys, routing, stats/models, audit (see docs/admin-api.md).");
    }

    private static String decode(String segment) {
        try {
            return QueryStringDecoder.decodeComponent(segment);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalidRequest(null, "Malformed percent-encoding in the URL.");
        }
    }
}
