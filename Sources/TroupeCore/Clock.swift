import Foundation

/// The source of "now" for every piece of logic that depends on time (TTL, recency, validity).
///
/// Logic never calls `Date()` itself; it asks its clock, so tests can move time by hand.
public protocol WallClock: Sendable {
    /// The current time, truncated to whole milliseconds (the precision the store keeps).
    func now() -> Date
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date().truncatedToMilliseconds }
}

/// A clock that only moves when told to; for tests.
public final class ManualClock: WallClock {
    private let current: LockedBox<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = LockedBox(start.truncatedToMilliseconds)
    }

    public func now() -> Date { current.value }

    /// Moves the clock forward by `interval` seconds.
    public func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval).truncatedToMilliseconds }
    }
}

extension Date {
    /// Milliseconds since 1970, the representation used on disk and in ids.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// A date from milliseconds since 1970.
    public init(millisecondsSince1970 ms: Int64) {
        self.init(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// This date without its sub-millisecond part.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
