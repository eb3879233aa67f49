package io.brainstorm.proxy.metrics;

import io.brainstorm.proxy.config.EndpointSpec;
import io.brainstorm.proxy.config.GatewayConfig;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.ProviderConfig;
import io.brainstorm.proxy.route.Router;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns a {@link io.brainstorm.proxy.settle.Completion}'s fields into label values from a bounded
 * vocabulary, so that what a client writes never becomes a label: a requested model name is
 * attacker-controlled, and every distinct value would be a new time series in Prometheus.
 *
 * <ul>
 *   <li>model: a catalog model id (an alias or a {@code :variant} suffix resolves to the id),
 *       {@code auto}, {@value #UNKNOWN} for a name the catalog does not have, {@value #NONE} when
 *       the request named none;</li>
 *   <li>endpoint: a configured endpoint id (a simulated endpoint or a provider account),
 *       {@value #UNKNOWN} otherwise, {@value #NONE} when no endpoint was tried;</li>
 *   <li>strategy: a loaded strategy or {@code direct}, {@value #OTHER} otherwise, {@value #NONE}
 *       when the request was refused before routing;</li>
 *   <li>status: the HTTP status code, {@value #OTHER} outside 100..599;</li>
 *   <li>error code: one of {@link #ERROR_CODES}, {@value #OTHER} otherwise (a provider's own code);</li>
 *   <li>format: one of {@link #FORMATS}.</li>
 * </ul>
 *
 * <p><b>Threading:</b> immutable; the strategy set is re-read from the router each call (one field read).
 */
final class Labels {
    static final String NONE = "none";
    static final String UNKNOWN = "unknown";
    static final String OTHER = "other";

    /**
     * The error codes the gateway itself answers ({@link io.brainstorm.proxy.api.ApiError}'s, and
     * {@code stream_broken} for a stream that ended with an error event), sorted.
     */
    static final List<String> ERROR_CODES = List.of(
            "budget_busy",
            "budget_exceeded",
            "conflict",
            "internal_error",
            "invalid_api_key",
            "invalid_request",
            "method_not_allowed",
            "model_not_allowed",
            "model_not_found",
            "no_healthy_endpoint",
            "not_found",
            "permission_error",
            "rate_limited",
            "request_too_large",
            "service_unavailable",
            "stream_broken",
            "upstream_error",
            "upstream_invalid_response",
            "upstream_timeout");

    /**
     * Answer formats ({@link io.brainstorm.proxy.settle.Completion#format()}), by index: {@value #NONE}
     * for embeddings and requests refused before their body was read, {@value #OTHER} for a value
     * this class does not know.
     */
    static final List<String> FORMATS = List.of(NONE, "plain", "json_object", "json_schema", "tools", OTHER);

    private static final String[] STATUS = new String[600];

    static {
        for (int i = 100; i < STATUS.length; i++) {
            STATUS[i] = Integer.toString(i);
        }
    }

    private final Map<String, String> models;
    private final Map<String, String> endpoints;
    private final Map<String, String> errorCodes;

    private Labels(Map<String, String> models, Map<String, String> endpoints) {
        this.models = models;
        this.endpoints = endpoints;
        Map<String, String> codes = new HashMap<>();
        ERROR_CODES.forEach(c -> codes.put(c, c));
        this.errorCodes = Map.copyOf(codes);
    }

    /** The vocabulary of {@code config}'s catalog and provider accounts (none when {@code config} is null). */
    static Labels of(GatewayConfig config) {
        Map<String, String> models = new HashMap<>();
        Map<String, String> endpoints = new HashMap<>();
        models.put(Router.AUTO, Router.AUTO);
        if (config != null) {
            for (ModelSpec m : config.catalog().models()) {
                models.put(m.id(), m.id());
                for (String alias : m.aliases()) {
                    models.putIfAbsent(alias, m.id());
                }
                for (EndpointSpec e : m.endpoints()) {
                    endpoints.put(e.id(), e.id());
                }
            }
            for (ProviderConfig p : config.providers()) {
                endpoints.put(p.name(), p.name());
            }
        }
        return new Labels(Map.copyOf(models), Map.copyOf(endpoints));
    }

    /** The model label: the selected model, else the requested one, each only as the catalog knows it. */
    String model(@Nullable String selected, @Nullable String requested) {
        if (selected != null) {
            String id = models.get(selected);
            return id != null ? id : UNKNOWN;
        }
        if (requested == null) {
            return NONE;
        }
        String id = models.get(requested);
        if (id != null) {
            return id;
        }
        int colon = requested.lastIndexOf(':');
        if (colon > 0) {
            id = models.get(requested.substring(0, colon));
        }
        return id != null ? id : UNKNOWN;
    }

    String endpoint(@Nullable String endpoint) {
        if (endpoint == null) {
            return NONE;
        }
        String id = endpoints.get(endpoint);
        return id != null ? id : UNKNOWN;
    }

    static String strategy(@Nullable String strategy, @Nullable Router router) {
        if (strategy == null) {
            return NONE;
        }
        if (strategy.equals(Router.DIRECT)) {
            return Router.DIRECT;
        }
        if (router != null) {
            Set<String> names = router.strategies().names();
            if (names.contains(strategy)) {
                return strategy;
            }
        }
        return OTHER;
    }

    /** The index in {@link #FORMATS} of {@code format}. */
    static int format(@Nullable String format) {
        if (format == null) {
            return 0;
        }
        return switch (format) {
            case "plain" -> 1;
            case "json_object" -> 2;
            case "json_schema" -> 3;
            case "tools" -> 4;
            default -> 5;
        };
    }

    static String status(int status) {
        return status >= 100 && status < STATUS.length ? STATUS[status] : OTHER;
    }

    /** The error code's label, or null for a request without an error. */
    @Nullable
    String errorCode(@Nullable String code) {
        if (code == null) {
            return null;
        }
        String known = errorCodes.get(code);
        return known != null ? known : OTHER;
    }
}
