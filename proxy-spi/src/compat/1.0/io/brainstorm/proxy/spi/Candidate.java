package io.brainstorm.proxy.spi;

import java.util.Set;

/** SPI 1.0's surface, frozen: signatures only (see proxy-spi/src/compat/README.md). */
public final class Candidate {
    public static final long DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

    private Candidate() { throw null; }

    public static Builder builder() { throw null; }
    public String id() { throw null; }
    public String endpoint() { throw null; }
    public String model() { throw null; }
    public long inputNanoUsdPerMillion() { throw null; }
    public long outputNanoUsdPerMillion() { throw null; }
    public Set<String> capabilities() { throw null; }
    public long contextLength() { throw null; }
    public long maxOutputTokens() { throw null; }
    public EndpointStats stats() { throw null; }
    public boolean supports(String capability) { throw null; }
    public long expectedOutputTokens(RouteRequest request) { throw null; }
    public long expectedCostNanoUsd(RouteRequest request) { throw null; }
    public static long expectedCostNanoUsd(RouteRequest request, long in, long out, long maxOut) { throw null; }

    public static final class Builder {
        private Builder() { throw null; }

        public Builder id(String id) { throw null; }
        public Builder endpoint(String endpoint) { throw null; }
        public Builder model(String model) { throw null; }
        public Builder inputNanoUsdPerMillion(long nanoUsd) { throw null; }
        public Builder outputNanoUsdPerMillion(long nanoUsd) { throw null; }
        public Builder capabilities(Set<String> capabilities) { throw null; }
        public Builder contextLength(long tokens) { throw null; }
        public Builder maxOutputTokens(long tokens) { throw null; }
        public Builder stats(EndpointStats stats) { throw null; }
        public Candidate build() { throw null; }
    }
}
