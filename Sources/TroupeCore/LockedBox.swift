import Synchronization

/// Shared mutable state behind a lock: Troupe's one lock type for state that several threads
/// or tasks touch (like swift-nio's `NIOLockedValueBox`), instead of a class with its own lock
/// per use.
///
/// Hold the lock only for the few instructions that read or change the value: never across I/O,
/// a process launch, a sleep, an `await` (the closure cannot suspend) or any other slow work. Do
/// the slow part outside, then take the lock again and re-check what the state says.
///
/// A reference type, so that one box is shared by whoever holds it; `Sendable` because every
/// access to the value goes through the `Mutex`.
public final class LockedBox<Value: ~Copyable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, holding the lock.
    @discardableResult
    public func withLock<Result: ~Copyable, Failure: Error>(
        _ body: (inout sending Value) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try mutex.withLock(body)
    }
}

extension LockedBox where Value: Copyable & Sendable {
    /// A copy of the value.
    public var value: Value { withLock { $0 } }
}
