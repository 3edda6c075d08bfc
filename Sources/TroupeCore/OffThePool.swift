import Foundation

/// Runs blocking work — a process launch and its wait, a poll with sleeps, loading a model file —
/// on a thread of its own, and suspends the caller until it is done.
///
/// Swift's cooperative pool has one thread per core (two here): a blocked pool thread halves the
/// process's concurrency, and two stop every task, including a consumer's cancellation. A thread
/// per call costs tens of microseconds, nothing beside the work that needs it. The work is not
/// cancelled with the caller: it runs to its end, as it would have on the pool.
public func offThePool<T: Sendable>(
    _ name: String = "troupe.blocking", _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread(name) { continuation.resume(with: Result { try body() }) }
    }
}

/// A value made once, on first use, by blocking work that runs off the pool (``offThePool(_:_:)``).
/// Callers that arrive while it is being made wait for the same outcome, suspended; a failure is
/// kept and given to every later caller too (as a made value is).
public final class MadeOnce<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case making([CheckedContinuation<Result<Value, any Error>, Never>])
        case made(Result<Value, any Error>)
    }

    private let name: String
    private let make: @Sendable () throws -> Value
    private let state = LockedBox(State.idle)

    /// `make` runs at most once, on a thread named `name`.
    public init(_ name: String, _ make: @escaping @Sendable () throws -> Value) {
        self.name = name
        self.make = make
    }

    /// The value, made now if nobody has started making it.
    public func value() async throws -> Value {
        let outcome: Result<Value, any Error> = await withCheckedContinuation { continuation in
            let start: Bool = state.withLock { state in
                switch state {
                case .made(let result):
                    continuation.resume(returning: result)
                    return false
                case .making(let waiting):
                    state = .making(waiting + [continuation])
                    return false
                case .idle:
                    state = .making([continuation])
                    return true
                }
            }
            guard start else { return }
            startThread(name) { [self] in
                let result = Result { try make() }
                let waiting: [CheckedContinuation<Result<Value, any Error>, Never>] = state.withLock { state in
                    guard case .making(let waiting) = state else { return [] }
                    state = .made(result)
                    return waiting
                }
                for waiter in waiting { waiter.resume(returning: result) }
            }
        }
        return try outcome.get()
    }

    /// The value if it was made already, and made without error (nothing is started).
    public var existing: Value? {
        state.withLock { state in
            guard case .made(.success(let value)) = state else { return nil }
            return value
        }
    }
}

/// Runs `body` on a new thread named `name` (as it shows in gdb and `top -H`; Linux keeps 15
/// bytes of a name, so a longer one is cut).
func startThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
    var cut = Substring(name)
    while cut.utf8.count > 15 { cut = cut.dropLast() }
    let short = String(cut)
    Thread {
        // Foundation's `Thread.name` does not reach the OS thread here: the thread would keep
        // the name of the one that started it (a pool thread's).
        Thread.current.name = short
        body()
    }.start()
}
