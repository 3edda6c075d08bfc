import Foundation
import TroupeCore

/// Ids for a scripted session that do not depend on how concurrent turns interleave: each id is
/// drawn from the scope of the turn that writes it (`round 3, hestia`), as the n-th id of that
/// scope, from the session's seed. A parallel round draws the same ids however its personas'
/// writes happen to interleave, so a replay gives the same memory, byte for byte.
public final class SessionIDs: IDGenerator {
    /// The scope ids are drawn in; a turn runs inside its own.
    @TaskLocal public static var scope = "session"

    private let seed: UInt64
    /// Scope → ids drawn in it so far.
    private let counters = LockedBox<[String: Int]>([:])

    public init(seed: UInt64) { self.seed = seed }

    public func next(_ prefix: String) -> String {
        let scope = Self.scope
        let n = counters.withLock { counters in
            defer { counters[scope, default: 0] += 1 }
            return counters[scope, default: 0]
        }
        let digest = SHA256.hex(of: Array("\(seed)|\(scope)|\(n)".utf8))
        return prefix + "-" + digest.prefix(32)
    }
}
