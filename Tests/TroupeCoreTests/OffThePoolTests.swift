import Foundation
import Synchronization
import Testing
import TroupeCore

@Suite("Off the pool")
struct OffThePoolTests {
    @Test func blockingWorkHoldsNoThreadOfThePool() async throws {
        // More blocking calls than the pool has threads, each held until a task that needs the
        // pool has seen them all start: on the pool's threads this would never end.
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = LockedBox(0)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await offThePool("troupe.test") {
                        started.withLock { $0 += 1 }
                        gate.wait()
                    }
                }
            }
            group.addTask {
                while started.value < count { await Task.yield() }
                gate.open()
            }
            try await group.waitForAll()
        }
        #expect(started.value == count)
    }

    @Test func anErrorOfTheWorkReachesTheCaller() async {
        await #expect(throws: TroupeError.self) {
            try await offThePool { () throws -> Int in throw TroupeError(.unavailable, "no server") }
        }
    }

    @Test func aValueIsMadeOnceForCallersArrivingTogetherAndKept() async throws {
        let makes = Atomic<Int>(0)
        // The make is held until a task on the pool sees it started: the callers wait for it
        // suspended (callers blocking the pool's threads would keep that task from running).
        let gate = Gate()
        let once = MadeOnce("troupe.make") { () -> String in
            makes.add(1, ordering: .relaxed)
            gate.wait()
            return "the value"
        }
        #expect(once.existing == nil)
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await once.value() } }
            while makes.load(ordering: .relaxed) == 0 { await Task.yield() }
            gate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: "the value", count: 8))
        #expect(makes.load(ordering: .relaxed) == 1)
        #expect(try await once.value() == "the value")
        #expect(once.existing == "the value")
    }

    @Test func aFailureToMakeIsKeptAndGivenToEveryCaller() async {
        let makes = Atomic<Int>(0)
        let once = MadeOnce("troupe.test.fail") { () throws -> Int in
            makes.add(1, ordering: .relaxed)
            throw TroupeError(.notFound, "no model file")
        }
        for _ in 0..<3 { await #expect(throws: TroupeError.self) { try await once.value() } }
        #expect(makes.load(ordering: .relaxed) == 1)
        #expect(once.existing == nil)
    }

    @Test func aLockedBoxSerialisesItsChanges() async {
        let box = LockedBox([Int]())
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<100 { group.addTask { box.withLock { $0.append(i) } } }
        }
        #expect(box.value.sorted() == Array(0..<100))
    }
}

/// A gate a thread waits at until it is opened (for holding a blocking make).
private final class Gate: Sendable {
    private let opened = LockedBox(false)
    func open() { opened.withLock { $0 = true } }
    func wait() { while !opened.value { usleep(1_000) } }
}
