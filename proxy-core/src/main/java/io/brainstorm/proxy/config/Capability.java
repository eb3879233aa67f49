package io.brainstorm.proxy.config;

/** What a model can do beyond plain chat; requests that need one are only sent where it is present. */
public enum Capability {
    /** function / tool calls */
    TOOLS,
    /** {@code response_format} json_object and json_schema */
    JSON,
    /** image inputs */
    VISION,
    /** {@code /v1/embeddings} */
    EMBEDDINGS
}
