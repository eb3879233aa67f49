package io.brainstorm.proxy.bench;

import io.brainstorm.proxy.relay.SseEventSplitter;
import io.brainstorm.proxy.relay.SseEvents;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The stream relay's per-event hot path, as {@code relay.StreamRelay#feed/onEvent} runs
 * it: {@link SseEventSplitter#feed} cuts the upstream body into events, each event gets
 * {@link SseEvents#isDone} and {@link SseEvents#hasUsage}, and is released (where the relay would
 * write it to the client, which then releases it). The one usage event's JSON parse is not
 * included: it happens once per stream, not per event.
 *
 * <p>The stream is {@value #EVENTS} events of a realistic OpenAI {@code chat.completion.chunk}
 * stream with {@code include_usage} (so every chunk carries {@code "usage":null}, which
 * {@code hasUsage} must scan past), ending in a usage chunk and {@code [DONE]}. It lives in one
 * pooled direct buffer; each invocation cuts it into {@code chunkBytes}-sized retained slices, the
 * way socket reads hand the relay pooled direct buffers. Scores are per event. {@code splitOnly}
 * runs the splitter alone, so {@code relay - splitOnly} is what the two checks cost.
 *
 * <p><b>Leaks.</b> Every slice and every event (slice or composite) holds a reference on the
 * stream buffer, so after each iteration its reference count must be back to 1; the teardown
 * fails the run otherwise.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
public class SseRelayBenchmark {
    static final int EVENTS = 200;

    /** 1448: one TCP segment's payload at MTU 1500 with timestamps; 16: pathological tiny reads. */
    @Param({"1448", "16"})
    public int chunkBytes;

    private ByteBuf stream;
    private SseEventSplitter splitter;
    private EventSink sink;
    private final Consumer<ByteBuf> releaseOnly = ByteBuf::release;

    /** What the relay does with each event; a field so no lambda is allocated per invocation. */
    static final class EventSink implements Consumer<ByteBuf> {
        final Blackhole bh;
        int events;
        int done;
        int usage;

        EventSink(Blackhole bh) {
            this.bh = bh;
        }

        @Override
        public void accept(ByteBuf event) {
            events++;
            if (SseEvents.isDone(event)) {
                done++;
            } else if (SseEvents.hasUsage(event)) {
                usage++;
            } else {
                bh.consume(event.readableBytes());
            }
            event.release();
        }
    }

    @Setup(Level.Trial)
    public void setUp(Blackhole bh) {
        byte[] bytes = openAiStream(EVENTS).getBytes(StandardCharsets.UTF_8);
        stream = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        stream.writeBytes(bytes);
        splitter = new SseEventSplitter(1 << 20);
        sink = new EventSink(bh);
        // Sanity: the stream splits into exactly the events we built, one [DONE], one usage chunk.
        relay();
        if (sink.events != EVENTS || sink.done != 1 || sink.usage != 1) {
            throw new IllegalStateException("stream split into " + sink.events + " events, " + sink.done + " [DONE], "
                    + sink.usage + " usage (expected: " + EVENTS + ", 1, 1)");
        }
    }

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public int relay() {
        return feedAll(sink);
    }

    /** The splitter alone (events released unread), to tell its share from the checks'. */
    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public int splitOnly() {
        return feedAll(releaseOnly);
    }

    private int feedAll(Consumer<ByteBuf> consumer) {
        final ByteBuf s = stream;
        final int size = s.readableBytes();
        final int step = chunkBytes;
        for (int off = 0; off < size; off += step) {
            splitter.feed(s.retainedSlice(off, Math.min(step, size - off)), consumer);
        }
        ByteBuf rest = splitter.takeRemainder();
        int leftover = rest.readableBytes();
        rest.release();
        return leftover;
    }

    @TearDown(Level.Iteration)
    public void checkNoLeak() {
        if (stream.refCnt() != 1) {
            throw new IllegalStateException("leak: stream buffer refCnt " + stream.refCnt() + " (expected: 1)");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        splitter.release();
        stream.release();
    }

    /**
     * An OpenAI chat stream as api.openai.com sends it with {@code stream_options.include_usage}:
     * a role chunk, content chunks of one token each, a finish chunk, the usage chunk, [DONE].
     */
    static String openAiStream(int events) {
        String head = "data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\","
                + "\"created\":1741570283,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\","
                + "\"system_fingerprint\":\"fp_fc9f1d7035\",\"choices\":[";
        String[] words = {" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."};
        StringBuilder sb = new StringBuilder(events * 320);
        sb.append(head)
                .append("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
                        + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        int contentEvents = events - 4;
        for (int i = 0; i < contentEvents; i++) {
            sb.append(head)
                    .append("{\"index\":0,\"delta\":{\"content\":\"")
                    .append(words[i % words.length])
                    .append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        }
        sb.append(head)
                .append("{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                        + "\"usage\":null}\n\n");
        sb.append(head)
                .append("],\"usage\":{\"prompt_tokens\":212,\"completion_tokens\":")
                .append(contentEvents)
                .append(",\"total_tokens\":")
                .append(212 + contentEvents)
                .append(",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                        + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                        + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n");
        sb.append("data: [DONE]\n\n");
        return sb.toString();
    }
}
