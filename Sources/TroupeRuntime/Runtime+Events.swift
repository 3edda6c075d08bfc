import Foundation
import TroupeCore
import TroupeStore

extension Runtime {
    /// While someone follows the events, tells of what other writers commit to the store (a
    /// session run's own runtime, another process on the home, a second server on PostgreSQL):
    /// once a second, the change feed since the last look; each record changed there whose
    /// version began after the look started is an event (`written`, `superseded`, `disputed`),
    /// each record removed a `forgotten`. This process's own commits are told by the write path,
    /// and the hub tells each version once. A conflict resolved elsewhere is not told (the feed
    /// does not carry it; the audit log has it).
    func tellOtherWritersCommits() async {
        // Where the last look ended, and when it was made; nil while nobody listens.
        var position: (cursor: Int64, since: Date)?
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
            guard events.count > 0 else {
                position = nil
                continue
            }
            defer { otherWritersLooks.ended() }
            do {
                guard let (from, since) = position else {
                    position = (try await store.changeCursor(), clock.now())
                    continue
                }
                let now = clock.now()
                let feed = try await store.changes(since: from, limit: 1000)
                if feed.mustReload {
                    position = (try await store.changeCursor(), now)
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
                // The next look starts where this one ended. A version dated a little before this
                // look may commit after it (its writer's clock ran first): versions from a few
                // seconds before count as new, and the hub tells none twice.
                position = (feed.cursor, max(since, now.addingTimeInterval(-10)))
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
