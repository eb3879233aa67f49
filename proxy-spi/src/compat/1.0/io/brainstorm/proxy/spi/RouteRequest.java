package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public final class RouteRequest {
    private RouteRequest() { throw null; }

    public static Builder builder() { throw null; }
    public String requestId() { throw null; }
    public String tenant() { throw null; }
    public String model() { throw null; }
    public String variant() { throw null; }
    public TaskClass taskClass() { throw null; }
    public boolean stream() { throw null; }
    public boolean tools() { throw null; }
    public boolean json() { throw null; }
    public long estimatedInputTokens() { throw null; }
    public long maxTokens() { throw null; }
    public String user() { throw null; }

    public static final class Builder {
        private Builder() { throw null; }

        public Builder requestId(String requestId) { throw null; }
        public Builder tenant(String tenant) { throw null; }
        public Builder model(String model) { throw null; }
        public Builder variant(String variant) { throw null; }
        public Builder taskClass(TaskClass taskClass) { throw null; }
        public Builder stream(boolean stream) { throw null; }
        public Builder tools(boolean tools) { throw null; }
        public Builder json(boolean json) { throw null; }
        public Builder estimatedInputTokens(long tokens) { throw null; }
        public Builder maxTokens(long tokens) { throw null; }
        public Builder user(String user) { throw null; }
        public RouteRequest build() { throw null; }
    }
}
