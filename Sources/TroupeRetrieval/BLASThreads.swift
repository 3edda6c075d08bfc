import Foundation

/// How many threads OpenBLAS uses for the embedder's and the scorer's products.
///
/// One, unless `OPENBLAS_NUM_THREADS` says otherwise. Measured on two cores (`troupe bench
/// load`, 10K memories): with OpenBLAS's default of one thread per core, recall took 10 ms at
/// p50 on a quiet machine and 750 ms at p99 while the chat model generated beside a CPU hog (a
/// product split over two threads waits for the one the OS did not schedule); with one thread,
/// 14 ms quiet and 52 ms loaded. A runtime shares its cores with the chat model and with other
/// requests, so it takes the bound. Without OpenBLAS (the reference BLAS) nothing changes.
public enum BLASThreads {
    private static let once: Void = apply(ProcessInfo.processInfo.environment)

    /// Sets OpenBLAS to one thread (once per process), unless the environment chose a number.
    public static func configure() { _ = once }

    private static func apply(_ environment: [String: String]) {
        // RTLD_NOLOAD: the library this process already links (through CBLAS), not a second copy.
        guard let handle = dlopen("libblas.so.3", RTLD_NOW | RTLD_NOLOAD) ?? dlopen("libblas.so", RTLD_NOW | RTLD_NOLOAD),
            let set = dlsym(handle, "openblas_set_num_threads")
        else { return }
        typealias SetThreads = @convention(c) (Int32) -> Void
        if environment["OPENBLAS_NUM_THREADS"] == nil { unsafeBitCast(set, to: SetThreads.self)(1) }
    }
}
