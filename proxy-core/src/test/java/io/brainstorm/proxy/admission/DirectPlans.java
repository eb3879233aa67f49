package io.brainstorm.proxy.admission;

import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Access;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.route.RoutePlan;
import io.brainstorm.proxy.spi.RouteRequest;
import io.brainstorm.proxy.upstream.Origin;
import java.util.List;

/** The route plan the admission tests admit against: {@code sim/alpha} at one endpoint, tenant {@code default}. */
final class DirectPlans {
    static final ModelSpec ALPHA = Catalog.builtIn().find("sim/alpha").orElseThrow();

    private DirectPlans() {}

    /** A {@code direct} plan for a request of 10 prompt tokens asking for at most {@code maxTokens}. */
    static RoutePlan alpha(long maxTokens) {
        return alpha(maxTokens, ALPHA.endpoints().get(0).price());
    }

    /** The same at {@code price}. */
    static RoutePlan alpha(long maxTokens, io.brainstorm.proxy.config.Price price) {
        Endpoint e = new Endpoint(
                "sim-east", ALPHA, price, new Origin("127.0.0.1", 9, null), "/v1", "k", Timeouts.DEFAULT, true);
        RouteRequest r = RouteRequest.builder()
                .requestId("req")
                .tenant("default")
                .model(ALPHA.id())
                .variant("direct")
                .estimatedInputTokens(10)
                .maxTokens(maxTokens)
                .build();
        return new RoutePlan("direct", null, r, List.of(e), 0.5, "", Access.all("default"));
    }
}
