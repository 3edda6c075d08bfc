import Foundation
import TroupeCore
import TroupeStore

/// Follows a PostgreSQL store's change channel (LISTEN) on a connection and thread of its own,
/// so that a long-lived process learns of another process's commit as it happens, instead of at
/// its next poll. Each commit notifies its last change number (see ``PGChanges``).
///
/// The connection is reopened by itself when PostgreSQL goes away; waiters are woken then too,
/// since a notification may have been missed meanwhile, and at least once a second in any case.
public final class PostgresChangeListener: Sendable {
    private struct State {
        var latest: Int64 = 0
        var listening = false
        var waiters: [CheckedContinuation<Int64, Never>] = []
        var stopped = false
    }

    private let state = LockedBox(State())
    private let location: PostgresLocation
    private let channel: String

    /// Starts listening to `store`'s channel.
    public init(store: PostgresStore) {
        location = store.location
        channel = store.channel
        let thread = Thread { [self] in listen() }
        thread.name = "troupe.postgres.listen"
        thread.start()
    }

    /// Waits until a change numbered above `seen` is announced, or a second has passed, or the
    /// connection was lost and reopened; returns the latest number announced.
    public func next(after seen: Int64) async -> Int64 {
        await withCheckedContinuation { continuation in
            // The number to answer now; `nil` when the continuation waits to be woken.
            let now: Int64? = state.withLock { state in
                if state.latest > seen || state.stopped { return state.latest }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Stops the thread (within a second) and wakes every waiter.
    public func stop() {
        state.withLock { $0.stopped = true }
        wake()
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    /// Whether the channel is being listened to now: commits from here on are announced (until
    /// the connection is lost, when it is reopened by itself).
    public var isListening: Bool { state.withLock { $0.listening } }

    private func listen() {
        while !isStopped {
            guard let connection = try? PGConnection(location), (try? connection.script("LISTEN \(PostgresStore.quoted(channel))")) != nil
            else {
                wake()
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            state.withLock { $0.listening = true }
            while !isStopped {
                guard let payloads = try? connection.notifications(timeout: 1) else { break }
                let numbers = payloads.compactMap(Int64.init)
                if let top = numbers.max() { state.withLock { $0.latest = max($0.latest, top) } }
                wake()
            }
            state.withLock { $0.listening = false }
            wake()
        }
    }

    private func wake() {
        let (woken, value) = state.withLock { state in
            defer { state.waiters = [] }
            return (state.waiters, state.latest)
        }
        for waiter in woken { waiter.resume(returning: value) }
    }
}
