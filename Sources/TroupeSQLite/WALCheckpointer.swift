import Foundation
import GRDB
import TroupeCore
import TroupeStore

/// Runs WAL checkpoints beside the writer instead of inside a commit.
///
/// SQLite's automatic checkpoint runs in whichever commit pushes the WAL past 1,000 pages, and
/// that commit then copies the pages back and fsyncs the database file: a few milliseconds added
/// to an unlucky write. Here the store's connections never checkpoint; after enough writes a
/// PASSIVE checkpoint runs on a connection of its own, on a utility queue, while writers go on.
///
/// A PASSIVE checkpoint never makes the WAL start over while writes keep arriving, so once the
/// file passes `restartBytes` a RESTART checkpoint is tried, with a short busy timeout: it waits
/// for the writer in flight, finishes the few frames left and lets the next writer rewind.
final class WALCheckpointer: Sendable {
    private struct State {
        /// Writes since the last checkpoint started.
        var pending = 0
        /// Light commits (see ``noteLightCommit()``) so far.
        var light = 0
        var running = false
        /// The checkpoint's own connection, opened by the first checkpoint; only the one
        /// checkpoint running (on `queue`) uses it.
        var connection: DatabaseQueue?
    }

    private let path: String
    private let configuration: Configuration
    /// Write transactions between two checkpoints.
    private let interval: Int
    private let queue = DispatchQueue(label: "troupe.wal-checkpoint", qos: .utility)
    private let state = LockedBox(State())

    private let restartBytes: Int64

    init(path: String, configuration: Configuration, interval: Int = 100, restartBytes: Int64 = 32 << 20) {
        self.path = path
        var configuration = configuration
        configuration.busyMode = .timeout(0.25)
        self.configuration = configuration
        self.interval = interval
        self.restartBytes = restartBytes
    }

    /// Counts a small bookkeeping commit (an access mark): twenty count as one write, so that
    /// recalls rarely wake the checkpointer but a long run of them still gets checkpointed.
    func noteLightCommit() {
        let full = state.withLock { state in
            state.light += 1
            return state.light % 20 == 0
        }
        if full { noteCommits() }
    }

    /// Counts `transactions` committed writes; starts a checkpoint once enough have piled up.
    func noteCommits(_ transactions: Int = 1) {
        let start = state.withLock { state in
            state.pending += transactions
            guard state.pending >= interval && !state.running else { return false }
            state.pending = 0
            state.running = true
            return true
        }
        guard start else { return }
        queue.async { self.checkpoint() }
    }

    /// Runs on `queue`, one at a time (`running`); opens and uses the connection outside the lock.
    private func checkpoint() {
        var connection = state.withLock { $0.connection }
        defer {
            state.withLock { state in
                state.connection = connection
                state.running = false
            }
        }
        do {
            if connection == nil { connection = try DatabaseQueue(path: path, configuration: configuration) }
            let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.int64Value ?? 0
            let mode = walBytes > restartBytes ? "RESTART" : "PASSIVE"
            try connection?.writeWithoutTransaction { db in
                _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(\(mode))")
            }
        } catch {
            // A failed checkpoint loses nothing (the frames stay in the WAL) and the next one
            // retries; SQLite also checkpoints when the last connection closes.
        }
    }
}

extension SQLiteStore {
    /// Copies the WAL back into the database and empties it (`wal_checkpoint(TRUNCATE)`), on
    /// the caller's thread: blocking work, for a thread of its own. A runtime calls it when it
    /// shuts down, so that closing the store later — SQLite checkpoints and fsyncs when its last
    /// connection closes, on whichever thread lets go of the store last, often a pool thread
    /// ending a task — finds nothing left to copy or sync. A failure loses nothing: the frames
    /// stay in the WAL.
    public func settleBeforeClose() {
        guard !isReadOnly else { return }
        try? pool.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
