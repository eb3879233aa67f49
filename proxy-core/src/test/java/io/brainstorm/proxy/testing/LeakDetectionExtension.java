package io.brainstorm.proxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class that leaked a Netty {@link ByteBuf}, deterministically. Netty's
 * {@code PARANOID} leak detection only notices a leak after the leaked buffer has been garbage
 * collected and another buffer is allocated, and then only logs it; a test would pass anyway.
 *
 * <p>Registered for every test class through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true} in {@code junit-platform.properties}.
 * Its static initialiser, which runs when JUnit loads the extension at engine start (before any
 * test touches Netty's buffer classes), installs a {@link ResourceLeakDetectorFactory} whose
 * detectors record every leak report in a global queue, and raises the leak detection level to
 * {@code PARANOID} if it is lower. After each test class it forces garbage collection (bounded to
 * about a second), allocates and releases a few buffers so the detectors look at their queues,
 * and fails the class with the leak records if there are any.
 *
 * <p>A leak is reported after the class in which the leaked buffer became garbage, which is
 * almost always the class that leaked it; the records name the allocation site and every touch.
 *
 * <h2>Threading</h2>
 * Leak reports arrive on whatever thread allocates; the queue is concurrent.
 */
public final class LeakDetectionExtension implements AfterAllCallback {
    private static final Queue<String> LEAKS = new ConcurrentLinkedQueue<>();
    /** Resource types of detectors made by our factory; "ByteBuf" proves we were in time. */
    private static final Set<String> DETECTOR_TYPES = ConcurrentHashMap.newKeySet();

    private static final long GC_BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);
    private static final int GC_ROUNDS = 3;

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        checkForLeaks();
    }

    /**
     * Forces garbage collection, lets the detectors report, and throws an {@link AssertionError}
     * listing every leak recorded since the last check. The records are cleared either way.
     */
    public static void checkForLeaks() {
        List<String> leaks = collectLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError(
                    leaks.size() + " leaked buffer(s) (expected: none):\n\n" + String.join("\n\n", leaks));
        }
    }

    /** Forces garbage collection, lets the detectors report, and returns and clears the records. */
    public static List<String> collectLeaks() {
        forceGcAndDetect();
        if (!DETECTOR_TYPES.contains("ByteBuf")) {
            throw new AssertionError("Netty's ByteBuf leak detector was created before "
                    + LeakDetectionExtension.class.getSimpleName() + " installed its factory "
                    + "(expected: extension loaded before any buffer class); leaks cannot be caught");
        }
        List<String> leaks = new ArrayList<>();
        for (String leak; (leak = LEAKS.poll()) != null; ) {
            leaks.add(leak);
        }
        return leaks;
    }

    /** Drops recorded leaks without failing; for tests that leak on purpose. */
    public static void clear() {
        LEAKS.clear();
    }

    private static void forceGcAndDetect() {
        long deadline = System.nanoTime() + GC_BUDGET_NANOS;
        for (int round = 0; round < GC_ROUNDS; round++) {
            ReferenceQueue<Object> queue = new ReferenceQueue<>();
            WeakReference<Object> canary = new WeakReference<>(new Object(), queue);
            System.gc();
            // Some churn, so collectors that skip an explicit System.gc() still run a cycle.
            byte[][] churn = new byte[64][];
            for (int i = 0; i < churn.length; i++) {
                churn[i] = new byte[16 * 1024];
            }
            Reference.reachabilityFence(churn);
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMillis <= 0) {
                detect();
                break;
            }
            try {
                // The canary is enqueued once the reference handler has processed this cycle's
                // cleared references; the short sleep lets it finish the rest of its batch.
                queue.remove(Math.min(leftMillis, 300));
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                detect();
                break;
            }
            Reference.reachabilityFence(canary);
            detect();
        }
    }

    /** Detectors drain their reference queues when a new resource is tracked, so allocate some. */
    private static void detect() {
        ByteBuf[] bufs = {
            PooledByteBufAllocator.DEFAULT.heapBuffer(1),
            PooledByteBufAllocator.DEFAULT.directBuffer(1),
            UnpooledByteBufAllocator.DEFAULT.directBuffer(1),
            ByteBufAllocator.DEFAULT.buffer(1),
            ByteBufAllocator.DEFAULT.compositeBuffer(),
        };
        for (ByteBuf buf : bufs) {
            buf.release();
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            DETECTOR_TYPES.add(resource.getSimpleName());
            return new RecordingDetector<>(resource, samplingInterval);
        }

        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                Class<T> resource, int samplingInterval, long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<?> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        /** Report even when the logger is off: the queue, not the log, is what fails tests. */
        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected." + records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                    + " (no records: raise io.netty.leakDetection.level to PARANOID to see where)");
            super.reportUntracedLeak(resourceType);
        }
    }
}
