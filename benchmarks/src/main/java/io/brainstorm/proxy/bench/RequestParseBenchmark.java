package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.api.ParsedRequest;
import io.brainstorm.proxy.config.Catalog;
import io.brainstorm.proxy.config.ModelSpec;
import io.brainstorm.proxy.config.Timeouts;
import io.brainstorm.proxy.route.Endpoint;
import io.brainstorm.proxy.upstream.Origin;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A chat body read and rewritten for the upstream, as the gateway does it for every request:
 * {@link ParsedRequest#parse} of the client's bytes (from a pooled direct buffer, as the request
 * aggregator leaves them) and {@link ParsedRequest#upstreamBody} for one endpoint, whose upstream
 * model name differs from the client's so the rename is real work.
 *
 * <p>{@code body}: {@code plain} is the load run's body ({@code BODY_PREFIX} of
 * {@code benchmarks/load/run.sh}, ~1 KB), {@code stream} the same asking for a stream with usage,
 * {@code tools} the same with two function tools (~2 KB), which scoring reads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RequestParseBenchmark {

    @Param({"plain", "stream", "tools"})
    public String body = "plain";

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf content;
    private Endpoint endpoint;
    private ParsedRequest parsed;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = body(body).getBytes(StandardCharsets.UTF_8);
        content = alloc.directBuffer(bytes.length);
        content.writeBytes(bytes);
        ModelSpec model = Catalog.builtIn().find("sim/alpha").orElseThrow();
        endpoint = new Endpoint(
                "bench",
                model,
                model.price(),
                new Origin("127.0.0.1", 19090, null),
                "/v1",
                "sk-bench",
                Timeouts.DEFAULT,
                true);
        parsed = ParsedRequest.parse(ParsedRequest.Kind.CHAT, content);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (content.refCnt() != 1) {
            throw new IllegalStateException("leak: body refCnt " + content.refCnt() + " (expected: 1)");
        }
        content.release();
    }

    /** Parse, then the body for one endpoint: what every request pays before its first upstream byte. */
    @Benchmark
    public int parseAndPatch() {
        return sent(ParsedRequest.parse(ParsedRequest.Kind.CHAT, content).upstreamBody(alloc, endpoint));
    }

    @Benchmark
    public ParsedRequest parse() {
        return ParsedRequest.parse(ParsedRequest.Kind.CHAT, content);
    }

    /** One more body from a parsed request, as each failover attempt makes. */
    @Benchmark
    public int patch() {
        return sent(parsed.upstreamBody(alloc, endpoint));
    }

    private static int sent(ByteBuf out) {
        int n = out.readableBytes();
        out.release();
        return n;
    }

    /** The load run's {@code BODY_PREFIX}, closed as {@code body} asks. */
    static String body(String kind) {
        String prefix = prefix("alpha");
        return switch (kind) {
            case "plain" -> prefix + "}";
            case "stream" -> prefix + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
            case "tools" ->
                prefix + ",\"tools\":[" + tool("order_status", "Where an order's parcels are") + ","
                        + tool("change_address", "Change the delivery address of an order")
                        + "],\"tool_choice\":\"auto\"}";
            default -> throw new IllegalArgumentException("body: " + kind + " (expected: plain, stream or tools)");
        };
    }

    /** {@code BODY_PREFIX} of {@code benchmarks/load/run.sh} with {@code model}, unclosed. */
    static String prefix(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are a concise assistant for an online bookshop. Answer in"
                + " the customer's language, cite the order number when there is one, and never promise delivery"
                + " dates you cannot see in the order data.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi, I ordered two books last week (order 48213) and only one"
                + " arrived. The parcel looked fine. What should I do?\"},"
                + "{\"role\":\"assistant\",\"content\":\"Sorry about that! Order 48213 was shipped in two parcels;"
                + " the second one left our warehouse two days after the first. Could you tell me which title you"
                + " are still waiting for?\"},"
                + "{\"role\":\"user\",\"content\":\"It is 'The Pragmatic Programmer'. Can you check where it is and"
                + " whether I can still change the delivery address to my office?\"}],"
                + "\"temperature\":0.7,\"top_p\":1,\"max_tokens\":256,\"n\":1,\"presence_penalty\":0,"
                + "\"frequency_penalty\":0,\"user\":\"customer-48213\"";
    }

    private static String tool(String name, String description) {
        return "{\"type\":\"function\",\"function\":{\"name\":\"" + name + "\",\"description\":\"" + description
                + "\",\"parameters\":{\"type\":\"object\",\"properties\":{\"order\":{\"type\":\"integer\","
                + "\"description\":\"The order number\"},\"address\":{\"type\":\"string\"},\"parcel\":{\"type\":"
                + "\"integer\",\"minimum\":1}},\"required\":[\"order\"],\"additionalProperties\":false},"
                + "\"strict\":true}}";
    }
}
