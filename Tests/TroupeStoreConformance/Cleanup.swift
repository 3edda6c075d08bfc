import Testing
import TroupeCore

/// Runs `body`, then `cleanup`, also when `body` throws: what a `defer` does, for a cleanup that
/// must be awaited (a server's stop or a process's exit, waited for off the cooperative pool),
/// which a `defer` block cannot do.
public func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
    let result: Result<T, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    await cleanup()
    return try result.get()
}

/// A suite trait: cleanups that fixtures register while a test runs (``Cleanups/add(_:)``) are
/// awaited after the test, newest first, whether it passed or threw. For fixtures made in many
/// tests whose cleanup blocks (a managed redis-server's stop, a large home's removal) and so
/// runs off the pool, which neither a `defer` nor a `deinit` can await.
public struct Cleanups: SuiteTrait, TestTrait, TestScoping {
    /// Each test of the suite gets its own.
    public var isRecursive: Bool { true }

    final class Registry: Sendable {
        let actions = LockedBox<[@Sendable () async -> Void]>([])
    }

    @TaskLocal static var registry: Registry?

    /// Runs `action` after the current test. The test's suite must have the `.cleanups` trait
    /// (otherwise an issue is recorded and `action` does not run).
    public static func add(_ action: @escaping @Sendable () async -> Void) {
        guard let registry else {
            Issue.record("a cleanup was registered outside a test of a suite with the .cleanups trait")
            return
        }
        registry.actions.withLock { $0.append(action) }
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let registry = Registry()
        try await withCleanup {
            try await Self.$registry.withValue(registry) { try await function() }
        } cleanup: {
            let actions = registry.actions.withLock { actions in
                defer { actions = [] }
                return actions
            }
            for action in actions.reversed() { await action() }
        }
    }
}

extension Trait where Self == Cleanups {
    /// Awaits the cleanups each test registered (``Cleanups/add(_:)``) after it, also when it throws.
    public static var cleanups: Self { Cleanups() }
}
