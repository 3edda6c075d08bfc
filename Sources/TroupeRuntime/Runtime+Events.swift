import Foundation
import TroupeCore
import TroupeStore

extension Runtime {
    /// A version dated a little before a look may commit after it (its writer read the clock
    /// first): versions from this many seconds before a look count as new to the next one, and
    /// the hub tells none twice.
    static let clockSlack: TimeInterval = 10

    /// While someone follows the events, tells of what other writers commit to the store (a
    /// session run's own runtime, another process on the home, a second server on PostgreSQL):
    /// once a second, the change feed since the last look (while nobody follows, only the
    /// feed's latest number is read); each record changed there whose version began after the
    /// look is an event (`written`, `superseded`, `disputed`), each record removed a
    /// `forgotten`. This process's own commits are told by the write path, and the hub tells each
    /// version once. A conflict resolved elsewhere is not told (the feed does not carry it; the
    /// audit log has it).
    func tellOtherWritersCommits() async {
        // Where the last look ended, and from when versions are new to it.
        var position: (cursor: Int64, since: Date)?
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
            do {
                let now = clock.now()
                guard let (from, since) = position, events.count > 0 else {
                    // Nobody listens: the place is kept current (the latest change read before
                    // the count), so that a subscriber who comes misses nothing after it.
                    let latest = try await store.changeCursor()
                    if events.count == 0 || position == nil { position = (latest, now.addingTimeInterval(-Self.clockSlack)) }
                    continue
                }
                defer { otherWritersLooks.ended() }
                let feed = try await store.changes(since: from, limit: 1000)
                if feed.mustReload {
                    position = (try await store.changeCursor(), now.addingTimeInterval(-Self.clockSlack))
                    continue
                }
                // A record whose version is older than the look is one whose vector or expiry moved.
                let changed = try await store.records(ids: feed.changed).filter { $0.validFrom >= since }
                var told = changed.map { MemoryEvent(committed: $0, at: $0.validFrom) }
                for id in feed.removed {
                    guard let receipt = try await store.history(id).forgotten, let slice = SliceKind(rawValue: receipt.slice) else { continue }
                    told.append(MemoryEvent(kind: .forgotten, id: id, owner: receipt.owner, slice: slice, version: receipt.versions, at: receipt.forgottenAt))
                }
                events.publish(told)
                // The next look starts where this one ended.
                position = (feed.cursor, max(since, now.addingTimeInterval(-Self.clockSlack)))
            } catch {
                logger.warning("memory events: cannot read the store's changes: \(error)")
            }
        }
    }
}

/// The looks at other writers' commits, for a test to wait for the next one to end (then a
/// subscriber's position in the change feed is set, and what other writers commit is told).
package final class LookCount: Sendable {
    private let waiting = LockedBox<[CheckedContinuation<Void, Never>]>([])

    package init() {}

    /// Returns when the next look ends.
    package func next() async {
        await withCheckedContinuation { continuation in waiting.withLock { $0.append(continuation) } }
    }

    func ended() {
        for continuation in waiting.withLock({ waiting in defer { waiting = [] }; return waiting }) { continuation.resume() }
    }
}
