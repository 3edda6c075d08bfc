import Foundation
import TroupeCore

/// Ids for a scripted session that do not depend on how concurrent turns interleave: each id is
/// drawn from the scope of the turn that writes it (`round 3, hestia`), as the n-th id of that
/// scope, from the session's seed and its run's id. A parallel round draws the same ids however
/// its personas' writes happen to interleave, so a replay (which takes the run id from the log)
/// gives the same memory, byte for byte; a new run of the same file draws new ones, so it never
/// meets the records of an earlier run in the same home.
public final class SessionIDs: IDGenerator {
    /// The scope ids are drawn in; a turn runs inside its own.
    @TaskLocal public static var scope = "session"

    private let seed: UInt64
    /// The run's id, as its log's header records it (empty in logs older than run ids).
    public let run: String
    /// Scope → ids drawn in it so far.
    private let counters = LockedBox<[String: Int]>([:])

    public init(seed: UInt64, run: String = "") {
        self.seed = seed
        self.run = run
    }

    /// A new run's id: random, 16 hex digits.
    public static func newRun() -> String { String(RandomIDs().next("run").dropFirst("run-".count).filter(\.isHexDigit).prefix(16)) }

    public func next(_ prefix: String) -> String {
        let scope = Self.scope
        let n = counters.withLock { counters in
            defer { counters[scope, default: 0] += 1 }
            return counters[scope, default: 0]
        }
        let key = run.isEmpty ? "\(seed)|\(scope)|\(n)" : "\(seed)|\(run)|\(scope)|\(n)"
        let digest = SHA256.hex(of: Array(key.utf8))
        return prefix + "-" + digest.prefix(32)
    }
}
