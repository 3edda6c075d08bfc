import Foundation
import Testing
@testable import TroupeRuntime

/// The mirror's lag as the runtime's looks at both stores tell it (``MirrorLagTracker``).
@Suite("Mirror lag")
struct MirrorLagTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// One look, begun and applied at once, `seconds` after the start.
    func look(_ tracker: inout MirrorLagTracker, mirrored: Int64?, latest: Int64, at seconds: Double) -> MirrorLag {
        tracker.observe(tracker.begin(), mirrored: mirrored, latest: latest, at: start.addingTimeInterval(seconds))
    }

    @Test func theLagIsTheAgeOfTheOldestChangeTheMirrorLacks() {
        var tracker = MirrorLagTracker()
        #expect(look(&tracker, mirrored: 10, latest: 10, at: 0) == MirrorLag(pendingChanges: 0, seconds: 0))
        // Change 11 first seen at 1 s, 12 and 13 at 3 s.
        #expect(look(&tracker, mirrored: 10, latest: 11, at: 1) == MirrorLag(pendingChanges: 1, seconds: 0))
        #expect(look(&tracker, mirrored: 10, latest: 13, at: 3) == MirrorLag(pendingChanges: 3, seconds: 2))
        #expect(look(&tracker, mirrored: 10, latest: 13, at: 4) == MirrorLag(pendingChanges: 3, seconds: 3))
        // 11 mirrored: the oldest lacking is 12, seen at 3 s.
        #expect(look(&tracker, mirrored: 11, latest: 13, at: 5) == MirrorLag(pendingChanges: 2, seconds: 2))
        #expect(look(&tracker, mirrored: 13, latest: 13, at: 6) == MirrorLag(pendingChanges: 0, seconds: 0))
        #expect(tracker.marks.isEmpty)
    }

    @Test func aMirrorThatStopsAnsweringCountsFromWhereItWasLastSeen() {
        var tracker = MirrorLagTracker()
        _ = look(&tracker, mirrored: 5, latest: 5, at: 0)
        #expect(look(&tracker, mirrored: nil, latest: 7, at: 1) == MirrorLag(pendingChanges: 2, seconds: 0))
        #expect(look(&tracker, mirrored: nil, latest: 9, at: 61) == MirrorLag(pendingChanges: 4, seconds: 60))
        #expect(look(&tracker, mirrored: 9, latest: 9, at: 62) == MirrorLag(pendingChanges: 0, seconds: 0))
    }

    @Test func aMirrorNeverReadStandsInAtTheFirstChangeSeen() {
        var tracker = MirrorLagTracker()
        // Down from the start: at least the changes since the first look.
        #expect(look(&tracker, mirrored: nil, latest: 40, at: 0) == MirrorLag(pendingChanges: 0, seconds: 0))
        #expect(look(&tracker, mirrored: nil, latest: 42, at: 10) == MirrorLag(pendingChanges: 2, seconds: 0))
        #expect(look(&tracker, mirrored: nil, latest: 42, at: 30) == MirrorLag(pendingChanges: 2, seconds: 20))
        // Read at last, further behind than the stand-in: its oldest change lacking was there
        // at the first look.
        #expect(look(&tracker, mirrored: 30, latest: 42, at: 31) == MirrorLag(pendingChanges: 12, seconds: 31))
        #expect(look(&tracker, mirrored: 42, latest: 42, at: 33) == MirrorLag(pendingChanges: 0, seconds: 0))
    }

    @Test func aStaleLookIsNotAppliedOverANewerOne() {
        var tracker = MirrorLagTracker()
        _ = look(&tracker, mirrored: 1, latest: 1, at: 0)
        let older = tracker.begin(), newer = tracker.begin()
        // The newer look saw the mirror caught up; the older one, begun first, read it behind.
        #expect(tracker.observe(newer, mirrored: 3, latest: 3, at: start.addingTimeInterval(2)) == MirrorLag(pendingChanges: 0, seconds: 0))
        #expect(tracker.observe(older, mirrored: 1, latest: 3, at: start.addingTimeInterval(2)) == MirrorLag(pendingChanges: 0, seconds: 0))
        #expect(tracker.marks.isEmpty)
    }

    @Test func marksAreBoundedAndTheOldestIsKept() {
        var tracker = MirrorLagTracker()
        _ = look(&tracker, mirrored: 0, latest: 0, at: 0)
        for second in 1...(MirrorLagTracker.maxMarks + 100) {
            _ = look(&tracker, mirrored: nil, latest: Int64(second), at: Double(second))
        }
        #expect(tracker.marks.count == MirrorLagTracker.maxMarks)
        #expect(tracker.marks.first?.cursor == 1 && tracker.marks.last?.cursor == Int64(MirrorLagTracker.maxMarks + 100))
        let end = Double(MirrorLagTracker.maxMarks + 100)
        #expect(look(&tracker, mirrored: nil, latest: Int64(end), at: end) == MirrorLag(pendingChanges: Int64(end), seconds: end - 1))
    }
}
