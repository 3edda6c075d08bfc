import Foundation
import TroupeCore
import TroupeRedis
import TroupeStore
import TroupeStoreConformance

/// A managed redis-server's start (a file lock, a launch, then a poll for up to 5 s), stop (a
/// wait for the process to exit) and crash (a wait for the killed process to be gone) block
/// the calling thread: tests run them off the cooperative pool.
extension ManagedRedis {
    /// ``start(timeout:)``, off the pool.
    @discardableResult
    public func startOffThePool() async throws -> RedisEndpoint {
        try await offThePool("troupe-test.redis.start") { try start() }
    }

    /// ``stop(timeout:)``, off the pool.
    public func stopOffThePool() async {
        _ = try? await offThePool("troupe-test.redis.stop") { stop() }
    }

    /// ``crash()``, off the pool.
    public func crashOffThePool() async {
        _ = try? await offThePool("troupe-test.redis.crash") { crash() }
    }

    /// Whether something answers PING (``answers()``: a connect and a command with timeouts), off the pool.
    public func answersOffThePool() async -> Bool {
        (try? await offThePool("troupe-test.redis.ping") { answers() }) ?? false
    }

    /// Runs `body`, then stops the server (off the pool), also when `body` throws.
    public func stoppingAfterwards<T>(_ body: () async throws -> T) async throws -> T {
        try await withCleanup(body) { await stopOffThePool() }
    }
}
