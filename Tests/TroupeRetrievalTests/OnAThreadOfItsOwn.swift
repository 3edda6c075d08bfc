import TroupeCore

/// Runs `body` on a thread of its own instead of Swift's cooperative pool: nonisolated code, and
/// the default actors it calls, follow the task's executor preference. For test bodies that
/// compute for seconds in a debug build (or wait for a kernel's threads), so that the pool stays
/// free for the suites running beside them; `#expect` works in `body` as in the test itself.
func onAThreadOfItsOwn<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
    let executor = ThreadExecutor(name: name)
    defer { executor.stop() }
    return try await withTaskExecutorPreference(executor, operation: body)
}
