import Foundation

/// The source of new record ids, injected beside the clock: with a seeded generator and a fixed
/// clock, the same operations give the same ids (and so the same export, byte for byte), which
/// is what makes a scripted session replayable.
public protocol IDGenerator: Sendable {
    /// A new id, `prefix-` and 32 lower-case hex digits.
    func next(_ prefix: String) -> String
}

/// Random ids (version-4 UUIDs, without their dashes' meaning): different every run.
public struct RandomIDs: IDGenerator {
    public init() {}

    public func next(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.lowercased() }
}

/// Ids drawn from a seeded SplitMix64 sequence: the n-th id of two generators with the same seed
/// is the same.
public final class SeededIDs: IDGenerator {
    private let generator: LockedBox<SplitMix64>

    public init(seed: UInt64) { generator = LockedBox(SplitMix64(seed: seed)) }

    public func next(_ prefix: String) -> String {
        let (a, b) = generator.withLock { ($0.next(), $0.next()) }
        return prefix + "-" + Self.hex(a) + Self.hex(b)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
