package io.brainstorm.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.brainstorm.proxy.api.ApiError;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The route table against its contract, {@code docs/admin-api.md}, and its 404s and 405s. */
class AdminRoutesTest {
    private static final Pattern DOCUMENTED = Pattern.compile("`(GET|POST|PUT|PATCH|DELETE) (/admin/v1/[^` ?\\[]*)");
    private final AdminRoutes routes = AdminRoutes.standard(new AdminServices(null), new DashboardStats());

    @Test
    void theTableServesExactlyTheEndpointsTheDocumentationLists() throws Exception {
        Path doc = Path.of(System.getProperty("basedir", "."))
                .resolve("../docs/admin-api.md")
                .normalize();
        TreeSet<String> documented = new TreeSet<>();
        Matcher m = DOCUMENTED.matcher(Files.readString(doc));
        while (m.find()) {
            documented.add(m.group(1) + " " + variablesOf(m.group(2)));
        }
        TreeSet<String> served = new TreeSet<>();
        routes.endpoints().forEach(e -> served.add(variablesOf(e)));
        assertEquals(documented, served);
    }

    @Test
    void variablesArePassedDecodedInOrder() {
        AdminRoutes.Match match = routes.match(request(HttpMethod.PUT, "/admin/v1/tenants/ac%2Dme/providers/open%61i"));
        assertEquals(List.of("ac-me", "openai"), match.call().params());
    }

    @Test
    void anUnknownPathIs404AndAnotherMethod405WithTheMethodsOfThePath() {
        assertEquals(
                404,
                refusal(HttpMethod.GET, "/admin/v1/tenants/acme/nothing")
                        .status()
                        .code());
        assertEquals(
                404, refusal(HttpMethod.GET, "/admin/v1/stats/other").status().code());
        assertEquals(404, refusal(HttpMethod.GET, "/admin/v1//keys").status().code());
        ApiError e = refusal(HttpMethod.POST, "/admin/v1/keys/key_1");
        assertEquals(405, e.status().code());
        assertEquals("GET, PATCH, DELETE", e.allow());
        assertEquals("GET, POST", refusal(HttpMethod.PUT, "/admin/v1/tenants").allow());
    }

    private ApiError refusal(HttpMethod method, String uri) {
        return assertThrows(ApiError.class, () -> routes.match(request(method, uri)));
    }

    private static FullHttpRequest request(HttpMethod method, String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
    }

    /** {@code /tenants/{tenant}} and {@code /tenants/{id}} alike: variable names are the doc's choice. */
    private static String variablesOf(String endpoint) {
        return endpoint.replaceAll("\\{[^}]*}", "{}");
    }
}
