import Foundation
import TroupeCore
import TroupeStore

/// A few libpq connections, lent one caller at a time, each used on a thread of its own, since
/// libpq blocks (as GRDB's SQLite connections do); never on Swift's cooperative pool.
///
/// The pool has `size` slots. A slot is a serial dispatch queue (serial queues get threads of
/// their own; a concurrent queue or the global queues would share the cooperative pool's
/// threads on Linux) and the connection it holds, opened on first use. A caller borrows a free
/// slot, or waits (suspended) for one.
///
/// A connection found broken is dropped, and the slot's next caller opens a new one, so the
/// store reconnects by itself after PostgreSQL restarts. A transaction that loses its connection
/// before COMMIT was sent is run again on a new one (the server rolled it back) until the
/// reconnect window has passed; one that loses it during COMMIT is not, and is not
/// acknowledged: the caller is told it may not have landed.
final class PGPool: Sendable {
    /// A serial queue and its connection (`nil` until opened, or after it broke). The
    /// connection is used only on `queue`, by the one caller that borrowed the slot.
    private struct Slot: Sendable {
        let queue: DispatchQueue
        var connection: PGConnection?
    }

    private struct State {
        var free: [Slot]
        var waiters: [CheckedContinuation<Slot, Never>] = []
    }

    private let state: LockedBox<State>

    let location: PostgresLocation
    let size: Int
    /// How long a call keeps trying to reach a server that went away.
    let reconnectWindow: Double

    init(location: PostgresLocation, size: Int, reconnectWindow: Double, first: PGConnection? = nil) {
        self.location = location
        self.size = max(1, size)
        self.reconnectWindow = reconnectWindow
        let slots = (0..<max(1, size)).map { i in
            Slot(queue: DispatchQueue(label: "troupe.postgres.\(i)"), connection: i == 0 ? first : nil)
        }
        // Slot 0, with the connection the store opened, is lent first.
        state = LockedBox(State(free: slots.reversed()))
    }

    /// Runs `body` in one transaction: BEGIN, body, COMMIT; rolled back if it throws. A
    /// deadlock or serialization failure runs it again, as does a connection lost before COMMIT.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await reconnecting { connection in
            var attempt = 0
            while true {
                do {
                    try connection.execute("BEGIN")
                    let value = try body(connection)
                    do {
                        try connection.execute("COMMIT")
                    } catch var error as PGError where error.isConnectionLoss {
                        error.duringCommit = true
                        throw error
                    }
                    return value
                } catch let error as PGError where error.isRetryable && attempt < 50 {
                    _ = try? connection.execute("ROLLBACK")
                    attempt += 1
                    usleep(UInt32.random(in: 1_000...5_000) * UInt32(min(attempt, 10)))
                } catch {
                    if connection.isHealthy { _ = try? connection.execute("ROLLBACK") }
                    throw error
                }
            }
        }
    }

    /// Runs `body` (reads, or statements that commit on their own) on a connection, again on a
    /// new connection if this one is lost.
    func run<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await reconnecting(body)
    }

    private func reconnecting<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let deadline = Date().addingTimeInterval(reconnectWindow)
        while true {
            do {
                return try await withConnection(body)
            } catch let error as PGError where error.isConnectionLoss && !error.duringCommit && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        var slot = await borrow()
        let location = location
        let (result, kept): (Result<T, any Error>, PGConnection?) = await withCheckedContinuation { continuation in
            slot.queue.async { [slot] in
                let connection: PGConnection
                do {
                    connection = try slot.connection ?? PGConnection(location)
                } catch {
                    continuation.resume(returning: (.failure(error), nil))
                    return
                }
                let result = Result { try body(connection) }
                continuation.resume(returning: (result, connection.isHealthy ? connection : nil))
            }
        }
        slot.connection = kept
        giveBack(slot)
        return try result.get()
    }

    /// A free slot, waiting for one if all are lent.
    private func borrow() async -> Slot {
        await withCheckedContinuation { continuation in
            let slot = state.withLock { state -> Slot? in
                if let slot = state.free.popLast() { return slot }
                state.waiters.append(continuation)
                return nil
            }
            if let slot { continuation.resume(returning: slot) }  // else a `giveBack` resumes it
        }
    }

    /// Returns a slot: to the first caller waiting, else to the free ones.
    private func giveBack(_ slot: Slot) {
        let waiter = state.withLock { state -> CheckedContinuation<Slot, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.free.append(slot)
            return nil
        }
        waiter?.resume(returning: slot)
    }
}
