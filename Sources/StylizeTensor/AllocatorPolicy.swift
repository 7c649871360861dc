import CMalloc

/// How this process's C allocator treats large freed blocks.
///
/// By default glibc hands every large block back to the kernel when it is freed and maps fresh
/// pages for the next one, which the kernel must fault in and zero. Networks allocate and free
/// activations of tens of megabytes at every layer of every step, so under that policy a training
/// step spends a fifth of its time in page faults. Keeping freed memory in the heap for reuse
/// removes that cost at the price of a somewhat higher peak.
public enum AllocatorPolicy {
    /// Serves every allocation from the heap and keeps up to 1 GiB of freed memory there for
    /// reuse. Call once, at the start of a program that runs networks (the `stylize` command and
    /// the benchmarks do); it affects the whole process.
    public static func reuseFreedMemory() {
        mallopt(M_MMAP_MAX, 0)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
    }
}
