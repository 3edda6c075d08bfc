import Foundation
import TroupeCore
import TroupeStore

/// How far the mirror (`storage.mirror`) is behind the primary.
public struct MirrorLag: Sendable, Hashable {
    /// The primary's changes the mirror has not applied yet.
    public var pendingChanges: Int64
    /// How long the oldest of them has waited, in seconds; 0 when the mirror is caught up.
    public var seconds: Double

    public init(pendingChanges: Int64, seconds: Double) {
        self.pendingChanges = pendingChanges
        self.seconds = seconds
    }
}

/// What this process has seen of the mirror's position, to tell the age of the oldest change
/// the mirror lacks.
///
/// The change feed numbers changes but keeps no times, so each look notes when the primary's
/// latest change was first seen; the lag is the age of the first note past the mirror's cursor.
/// It is as precise as the looks are frequent: the runtime looks before each catch-up (every
/// half second while it runs) and at each scrape of the metrics. A change made while the
/// runtime was not looking counts from the first look that saw it.
struct MirrorLagTracker: Sendable {
    struct Mark: Sendable, Hashable {
        /// Changes up to this one existed at `seen`.
        var cursor: Int64
        var seen: Date
    }

    /// Ascending; none at or before the mirror's cursor as last read.
    private(set) var marks: [Mark] = []
    /// The mirror's cursor when last read (0: it was never caught up); `nil` until read.
    private(set) var mirrored: Int64?
    /// The primary's latest change, at the first look and at the last.
    private var first: Int64?, latest: Int64?
    /// Looks begun, and the last one applied: a look that began before it is stale.
    private var begun = 0, applied = 0
    /// The most marks kept (a mirror down for hours while writes go on): past it, the newest
    /// takes on later changes with its earlier time, and the oldest, which is the lag, stays.
    static let maxMarks = 512

    /// A ticket for a look about to read both stores.
    mutating func begin() -> Int {
        begun += 1
        return begun
    }

    /// The lag after look `ticket` found the primary at change `latest` and the mirror at
    /// `mirrored` (`nil`: it did not answer, and its last known cursor stands) at `now`.
    mutating func observe(_ ticket: Int, mirrored observed: Int64?, latest: Int64, at now: Date) -> MirrorLag {
        // Two looks may overlap (a scrape beside the catch-up loop): the older one's reads are
        // not applied over the newer one's.
        if ticket > applied {
            applied = ticket
            self.latest = latest
            if first == nil { first = latest }
            if let observed {
                mirrored = observed
                marks.removeAll { $0.cursor <= observed }
            }
            if latest > (marks.last?.cursor ?? mirrored ?? .min) {
                if marks.count < Self.maxMarks {
                    marks.append(Mark(cursor: latest, seen: now))
                } else {
                    marks[marks.count - 1].cursor = latest
                }
            }
        }
        return lag(at: now)
    }

    /// The lag as last seen, its age counted to `now`. A mirror never read stands in at the
    /// primary's latest change at the first look, so that one down from the start shows a lag
    /// that grows (the least it can be); read at last, it counts from that first look.
    func lag(at now: Date) -> MirrorLag {
        guard let latest else { return MirrorLag(pendingChanges: 0, seconds: 0) }
        let behind = mirrored ?? first ?? latest
        let pending = max(0, latest - behind)
        guard pending > 0, let oldest = marks.first(where: { $0.cursor > behind }) else { return MirrorLag(pendingChanges: pending, seconds: 0) }
        return MirrorLag(pendingChanges: pending, seconds: max(0, now.timeIntervalSince(oldest.seen)))
    }
}

extension Runtime {
    /// How far the mirror is behind the primary, looked at now, with the gauges
    /// `troupe_mirror_pending_changes` and `troupe_mirror_lag_seconds` set to it; `nil` without a
    /// mirror, or when the primary does not answer. A mirror that does not answer counts from
    /// where it was last seen, so its lag grows while it is down.
    @discardableResult
    public func mirrorLag() async -> MirrorLag? {
        guard let link = mirrorLink else { return nil }
        let ticket = link.lag.withLock { $0.begin() }
        // The primary first: a catch-up between the two reads shows as caught up, never as
        // changes the mirror already has.
        guard let latest = try? await store.changeCursor() else { return nil }
        // The mirror as the catch-up opened it: a look never waits to open one that does not
        // answer. Never caught up, it lacks every change.
        var mirrored: Int64?
        if let mirror = link.existing {
            do { mirrored = try await mirror.mirroredCursor() ?? 0 } catch { mirrored = nil }
        }
        let now = clock.now()
        let lag = link.lag.withLock { $0.observe(ticket, mirrored: mirrored, latest: latest, at: now) }
        RuntimeMetrics.mirror(lag, name: link.name)
        return lag
    }
}
