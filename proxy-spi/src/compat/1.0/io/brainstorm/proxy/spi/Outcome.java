package io.brainstorm.proxy.spi;

/** SPI 1.0's surface, frozen: signatures only. */
public final class Outcome {
    private Outcome() { throw null; }

    public static Builder builder() { throw null; }
    public String requestId() { throw null; }
    public String candidateId() { throw null; }
    public String endpoint() { throw null; }
    public String model() { throw null; }
    public TaskClass taskClass() { throw null; }
    public int status() { throw null; }
    public double score() { throw null; }
    public long latencyMicros() { throw null; }
    public long ttftMicros() { throw null; }
    public long costNanoUsd() { throw null; }
    public boolean answered() { throw null; }

    public static final class Builder {
        private Builder() { throw null; }

        public Builder requestId(String requestId) { throw null; }
        public Builder candidateId(String candidateId) { throw null; }
        public Builder endpoint(String endpoint) { throw null; }
        public Builder model(String model) { throw null; }
        public Builder taskClass(TaskClass taskClass) { throw null; }
        public Builder status(int status) { throw null; }
        public Builder score(double score) { throw null; }
        public Builder latencyMicros(long micros) { throw null; }
        public Builder ttftMicros(long micros) { throw null; }
        public Builder costNanoUsd(long nanoUsd) { throw null; }
        public Outcome build() { throw null; }
    }
}
