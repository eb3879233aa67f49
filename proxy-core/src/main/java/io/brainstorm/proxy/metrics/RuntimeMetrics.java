package io.brainstorm.proxy.metrics;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The process's own families, read when scraped: JVM memory, garbage collection and threads, the
 * process's resident memory, CPU, open files and uptime, Netty's allocator and direct memory, and
 * the JDK's buffer pools.
 *
 * <p>A reading the platform does not offer (resident memory off Linux, a JVM memory area with no
 * maximum, Netty's direct-memory counter when Netty does not count) is left out rather than written
 * as {@code -1}.
 *
 * <p><b>Threading:</b> stateless; called on the scraping thread.
 */
final class RuntimeMetrics {
    private static final Path PROC_STATUS = Path.of("/proc/self/status");

    private RuntimeMetrics() {}

    /** Adds every runtime family's writer to {@code families}, keyed by name. */
    static void addTo(Map<String, Runnable> families, Exposition x) {
        families.put(
                "brainstorm_jvm_memory_used_bytes",
                () -> memory(
                        x, "brainstorm_jvm_memory_used_bytes", "JVM memory in use, by area (heap, nonheap).", false));
        families.put(
                "brainstorm_jvm_memory_max_bytes",
                () -> memory(
                        x,
                        "brainstorm_jvm_memory_max_bytes",
                        "The most memory the JVM may use, by area (heap, nonheap); absent where the JVM sets no limit.",
                        true));
        families.put("brainstorm_jvm_gc_collections_total", () -> gc(x, false));
        families.put("brainstorm_jvm_gc_collection_seconds_total", () -> gc(x, true));
        families.put("brainstorm_jvm_threads", () -> {
            x.family("brainstorm_jvm_threads", "gauge", "Live JVM threads, daemon or not.");
            x.sample("brainstorm_jvm_threads")
                    .value(ManagementFactory.getThreadMXBean().getThreadCount());
        });
        families.put("brainstorm_process_uptime_seconds", () -> {
            x.family("brainstorm_process_uptime_seconds", "gauge", "Seconds since the JVM started.");
            x.sample("brainstorm_process_uptime_seconds")
                    .value(ManagementFactory.getRuntimeMXBean().getUptime(), 3);
        });
        families.put("brainstorm_process_start_time_seconds", () -> {
            x.family("brainstorm_process_start_time_seconds", "gauge", "When the JVM started, in Unix seconds.");
            x.sample("brainstorm_process_start_time_seconds")
                    .value(ManagementFactory.getRuntimeMXBean().getStartTime(), 3);
        });
        long rss = residentBytes();
        if (rss >= 0) {
            families.put("brainstorm_process_resident_memory_bytes", () -> {
                x.family(
                        "brainstorm_process_resident_memory_bytes",
                        "gauge",
                        "Resident set size of the process (VmRSS of /proc/self/status).");
                x.sample("brainstorm_process_resident_memory_bytes").value(rss);
            });
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long cpuNanos = os.getProcessCpuTime();
            if (cpuNanos >= 0) {
                families.put("brainstorm_process_cpu_seconds_total", () -> {
                    x.family(
                            "brainstorm_process_cpu_seconds_total",
                            "counter",
                            "CPU time the process used, user and system.");
                    x.sample("brainstorm_process_cpu_seconds_total").value(cpuNanos, 9);
                });
            }
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            families.put("brainstorm_process_open_fds", () -> {
                x.family("brainstorm_process_open_fds", "gauge", "Open file descriptors (sockets included).");
                x.sample("brainstorm_process_open_fds").value(os.getOpenFileDescriptorCount());
            });
            families.put("brainstorm_process_max_fds", () -> {
                x.family("brainstorm_process_max_fds", "gauge", "The process's limit of open file descriptors.");
                x.sample("brainstorm_process_max_fds").value(os.getMaxFileDescriptorCount());
            });
        }
        families.put("brainstorm_buffer_pool_used_bytes", () -> bufferPools(x, false));
        families.put("brainstorm_buffer_pool_capacity_bytes", () -> bufferPools(x, true));
        addNetty(families, x);
    }

    private static void memory(Exposition x, String name, String help, boolean max) {
        var bean = ManagementFactory.getMemoryMXBean();
        MemoryUsage heap = bean.getHeapMemoryUsage();
        MemoryUsage nonHeap = bean.getNonHeapMemoryUsage();
        long h = max ? heap.getMax() : heap.getUsed();
        long n = max ? nonHeap.getMax() : nonHeap.getUsed();
        if (h < 0 && n < 0) {
            return;
        }
        x.family(name, "gauge", help);
        if (h >= 0) {
            x.sample(name, "area", "heap").value(h);
        }
        if (n >= 0) {
            x.sample(name, "area", "nonheap").value(n);
        }
    }

    private static void gc(Exposition x, boolean time) {
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .sorted(Comparator.comparing(GarbageCollectorMXBean::getName))
                .toList();
        String name = time ? "brainstorm_jvm_gc_collection_seconds_total" : "brainstorm_jvm_gc_collections_total";
        x.family(
                name,
                "counter",
                time ? "Time spent in garbage collection, by collector." : "Garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : gcs) {
            long v = time ? gc.getCollectionTime() : gc.getCollectionCount();
            if (v < 0) {
                continue;
            }
            if (time) {
                x.sample(name, "gc", gc.getName()).value(v, 3);
            } else {
                x.sample(name, "gc", gc.getName()).value(v);
            }
        }
    }

    private static void bufferPools(Exposition x, boolean capacity) {
        List<BufferPoolMXBean> pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .sorted(Comparator.comparing(BufferPoolMXBean::getName))
                .toList();
        String name = capacity ? "brainstorm_buffer_pool_capacity_bytes" : "brainstorm_buffer_pool_used_bytes";
        x.family(
                name,
                "gauge",
                capacity
                        ? "Capacity of the buffers in the JDK's buffer pools, by pool."
                        : "Memory the JDK's buffer pools use, by pool (direct: ByteBuffer.allocateDirect, Netty's included;"
                                + " mapped: memory-mapped files).");
        for (BufferPoolMXBean p : pools) {
            x.sample(name, "pool", p.getName()).value(capacity ? p.getTotalCapacity() : p.getMemoryUsed());
        }
    }

    /**
     * Netty's counter of the direct memory it allocated itself (when it bypasses the JDK's cleaner),
     * and what the default allocator holds: the adaptive allocator by default in Netty 4.2, the
     * pooled one when {@code io.netty.allocator.type=pooled}, whose arenas are shown too.
     */
    private static void addNetty(Map<String, Runnable> families, Exposition x) {
        long direct = PlatformDependent.usedDirectMemory();
        if (direct >= 0) {
            families.put("brainstorm_netty_direct_memory_used_bytes", () -> {
                x.family(
                        "brainstorm_netty_direct_memory_used_bytes",
                        "gauge",
                        "Direct memory Netty allocated without the JDK's cleaner (its own count).");
                x.sample("brainstorm_netty_direct_memory_used_bytes").value(direct);
            });
        }
        families.put("brainstorm_netty_direct_memory_max_bytes", () -> {
            x.family(
                    "brainstorm_netty_direct_memory_max_bytes",
                    "gauge",
                    "The most direct memory Netty may allocate (-XX:MaxDirectMemorySize or io.netty.maxDirectMemory).");
            x.sample("brainstorm_netty_direct_memory_max_bytes").value(PlatformDependent.maxDirectMemory());
        });
        ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
        if (!(allocator instanceof ByteBufAllocatorMetricProvider provider)) {
            return;
        }
        ByteBufAllocatorMetric m = provider.metric();
        String kind = allocator
                .getClass()
                .getSimpleName()
                .replace("ByteBufAllocator", "")
                .toLowerCase(Locale.ROOT);
        families.put("brainstorm_netty_allocator_used_bytes", () -> {
            x.family(
                    "brainstorm_netty_allocator_used_bytes",
                    "gauge",
                    "Memory Netty's default allocator holds (buffers in use and its caches), by area.");
            x.sample("brainstorm_netty_allocator_used_bytes", "allocator", kind, "area", "direct")
                    .value(m.usedDirectMemory());
            x.sample("brainstorm_netty_allocator_used_bytes", "allocator", kind, "area", "heap")
                    .value(m.usedHeapMemory());
        });
        if (m instanceof PooledByteBufAllocatorMetric pooled) {
            families.put("brainstorm_netty_pooled_arenas", () -> {
                x.family("brainstorm_netty_pooled_arenas", "gauge", "Arenas of Netty's pooled allocator, by area.");
                x.sample("brainstorm_netty_pooled_arenas", "area", "direct").value(pooled.numDirectArenas());
                x.sample("brainstorm_netty_pooled_arenas", "area", "heap").value(pooled.numHeapArenas());
            });
        }
    }

    /** VmRSS of {@code /proc/self/status} in bytes, or -1 off Linux or when unreadable. */
    static long residentBytes() {
        if (!Files.isReadable(PROC_STATUS)) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(PROC_STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    long v = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
