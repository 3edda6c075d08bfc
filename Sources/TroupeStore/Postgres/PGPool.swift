import Foundation

/// A few libpq connections, lent one caller at a time and run on threads of their own, since
/// libpq blocks (as GRDB's SQLite connections do); never on Swift's cooperative pool.
///
/// A connection found broken is dropped, and the next caller opens a new one, so the store
/// reconnects by itself after PostgreSQL restarts. A transaction that loses its connection
/// before COMMIT was sent is run again on a new one (the server rolled it back) until the
/// reconnect window has passed; one that loses it during COMMIT is not, and is not
/// acknowledged: the caller is told it may not have landed.
final class PGPool: @unchecked Sendable {
    // Safe: `idle`, `open` and `waiters` are only touched under `lock`; a connection is used
    // by the one caller it is lent to.
    private let lock = NSLock()
    private var idle: [PGConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<PGConnection?, Never>] = []
    private let queue = DispatchQueue(label: "troupe.postgres", attributes: .concurrent)

    let location: PostgresLocation
    let size: Int
    /// How long a call keeps trying to reach a server that went away.
    let reconnectWindow: Double

    init(location: PostgresLocation, size: Int, reconnectWindow: Double, first: PGConnection? = nil) {
        self.location = location
        self.size = max(1, size)
        self.reconnectWindow = reconnectWindow
        if let first {
            idle = [first]
            open = 1
        }
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
        let lent = await acquire()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                let connection: PGConnection
                do {
                    connection = try lent ?? PGConnection(location)
                } catch {
                    release(nil)
                    continuation.resume(throwing: error)
                    return
                }
                let result = Result { try body(connection) }
                release(connection.isHealthy ? connection : nil)
                continuation.resume(with: result)
            }
        }
    }

    /// An idle connection; `nil` when the caller may open a new one.
    private func acquire() async -> PGConnection? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let connection = idle.popLast() {
                lock.unlock()
                continuation.resume(returning: connection)
            } else if open < size {
                open += 1
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    /// Gives a connection back; `nil` for one that failed to open or broke, whose place the
    /// next caller opens anew.
    private func release(_ connection: PGConnection?) {
        lock.lock()
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            lock.unlock()
            waiter.resume(returning: connection)
            return
        }
        if let connection { idle.append(connection) } else { open -= 1 }
        lock.unlock()
    }
}
