package io.brainstorm.proxy.route;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.config.Capability;
import io.brainstorm.proxy.config.ModelSpec;
import org.jspecify.annotations.Nullable;

/**
 * Whether a model has what a request needs: embeddings or chat, tools, JSON output, a context
 * long enough for the prompt. {@link Router} checks the model asked for, and skips models that
 * fail here when it builds the pool of {@code auto} and the fallback list.
 */
final class CapabilityCheck {
    private CapabilityCheck() {}

    /** Throws {@link #problem} when there is one. */
    static void check(ModelSpec model, RequestFeatures f) {
        ApiError problem = problem(model, f);
        if (problem != null) {
            throw problem;
        }
    }

    /** Why the model cannot serve the request (400 naming the field), or null. */
    static @Nullable ApiError problem(ModelSpec model, RequestFeatures f) {
        boolean embeddingModel = model.supports(Capability.EMBEDDINGS);
        if (f.embeddings() && !embeddingModel) {
            return ApiError.invalidRequest("model", "The model '" + model.id() + "' does not create embeddings.");
        }
        if (!f.embeddings() && embeddingModel && model.capabilities().size() == 1) {
            return ApiError.invalidRequest(
                    "model", "The model '" + model.id() + "' is an embeddings model; use POST /v1/embeddings.");
        }
        if (f.tools() && !model.supports(Capability.TOOLS)) {
            return ApiError.invalidRequest("tools", "The model '" + model.id() + "' does not support tools.");
        }
        if (f.json() && !model.supports(Capability.JSON)) {
            return ApiError.invalidRequest(
                    "response_format", "The model '" + model.id() + "' does not support JSON response formats.");
        }
        if (f.estimatedInputTokens() > model.contextLength()) {
            return ApiError.invalidRequest(
                    "messages",
                    "The request needs about " + f.estimatedInputTokens() + " tokens; the model '" + model.id()
                            + "' has a context of " + model.contextLength() + ".");
        }
        return null;
    }
}
