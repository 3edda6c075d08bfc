import Foundation
import Synchronization
import TroupeStore

/// Watches Swift's cooperative pool while the test suite runs, and names what holds it.
///
/// Scripts/test runs the library and CLI suites a second time with the pool held to one thread
/// (see Scripts/one-cpu) and `TROUPE_POOL_WATCH` set to a report file. From a thread of its own,
/// the watch enqueues an empty task on the pool every 50 ms. When one has waited half a second, the
/// pool thread is held by something: the watch takes the stacks of the process's threads (gdb) and
/// writes the pool thread's frames to the report, with how long the probe waited in the end. A
/// blocking call on the pool (a sleep, a process wait, a lock held across slow work, a
/// synchronous database call) thus shows up by name, instead of as a slow test somewhere else.
/// Scripts/pool-check reads the report and fails the run on a blocking call.
final class PoolWatch: Sendable {
    /// A probe that waits this long has its pool thread's stack taken.
    static let stallThreshold: Duration = .milliseconds(500)
    static let probeInterval: useconds_t = 50_000

    private let report: String

    init(report: String) { self.report = report }

    /// Probes forever (the process's end stops it).
    func run() -> Never {
        append("pool watch: pid \(getpid()), probing every \(Self.probeInterval / 1000) ms\n")
        while true {
            let answered = Flag()
            let sent = ContinuousClock.now
            Task.detached { answered.set() }
            var stacks: (text: String, blocking: String?)?
            while !answered.isSet {
                usleep(2_000)
                if stacks == nil, sent.duration(to: .now) >= Self.stallThreshold { stacks = poolStacks() }
            }
            if let stacks {
                let waited = sent.duration(to: .now).components
                let seconds = Double(waited.seconds) + Double(waited.attoseconds) / 1e18
                let kind = stacks.blocking.map { "blocked in \($0)" } ?? "busy"
                append("stall: \(String(format: "%.2f", seconds)) s, \(kind)\n\(stacks.text)\nend\n")
            }
            usleep(Self.probeInterval)
        }
    }

    /// libc's calls that wait in the kernel: a pool thread stalled in one of them is blocked, not
    /// busy. Matched against the innermost frame's name without glibc's prefixes (`__GI___`, `__libc_`).
    static let blockingCalls: Set<String> = [
        "clock_nanosleep", "nanosleep", "usleep", "sleep", "wait4", "waitpid", "waitid", "futex_wait", "futex_abstimed_wait_common",
        "futex_abstimed_wait_common64", "lll_lock_wait", "lll_lock_wait_private", "pthread_cond_wait", "pthread_cond_timedwait",
        "sem_wait", "sem_timedwait", "poll", "ppoll", "select", "pselect", "epoll_wait", "recv", "recvfrom", "read", "connect",
        "accept", "accept4", "flock", "fsync", "fdatasync",
    ]

    /// The blocking call a thread's innermost frame ("  #0 NAME at …") is in, if it is one.
    static func blockingCall(innermost frame: String) -> String? {
        let name = plainName(frame)
        return blockingCalls.contains(name) ? name : nil
    }

    /// A frame's function name without glibc's prefixes (`__GI___`, `__libc_`).
    static func plainName(_ frame: String) -> String {
        var name = Substring(frame.split(separator: " ").dropFirst().first ?? "")
        for prefix in ["_", "GI_", "_", "libc_"] {
            while prefix == "_" ? name.hasPrefix("_") : name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        }
        return String(name)
    }

    /// A wait for a mutex (glibc's allocator's arena locks, NIO's and our own lock-boxes): the
    /// holder is inside a short critical section, and on a loaded machine it may simply not be
    /// scheduled (seen: 8.5 s on NIO's event-loop lock with two CPU hogs running). Such a stall
    /// counts as busy, not blocked; a lock held across slow work is kept out by review (every
    /// lock is a `LockedBox` whose closures do no slow work), not by this watch.
    static let mutexFrames: Set<String> = ["lll_lock_wait", "lll_lock_wait_private", "lll_mutex_lock_optimized", "pthread_mutex_lock"]

    /// The blocking call a thread (its frames, innermost first) waits in, if any.
    static func blockingCall(frames: ArraySlice<String>) -> String? {
        guard let innermost = frames.first, let call = blockingCall(innermost: innermost) else { return nil }
        if frames.prefix(4).contains(where: { mutexFrames.contains(plainName($0)) }) { return nil }
        return call
    }

    /// The frames that cooperative-pool threads are running (those with `swift_job_run` on
    /// their stack), down to the job's entry, demangled; and the blocking call one of them
    /// waits in, if any.
    ///
    /// A thread the kernel had as runnable (state `R`) when the stall was seen is waiting for a
    /// CPU, not for a call to return: on a loaded machine it may be caught inside `read` of a
    /// file in the page cache. Its stall counts as busy. Blocked threads sleep (`S`: a futex, a
    /// poll, a sleep) or wait for the disk (`D`). The states are read before gdb stops the threads.
    private func poolStacks() -> (text: String, blocking: String?) {
        let states = Self.threadStates()
        let threads = poolThreads().map { thread -> [String] in
            guard let heading = thread.first, let lwp = Self.lwp(heading), let state = states[lwp] else { return thread }
            return ["\(heading) [state \(state)]"] + thread.dropFirst()
        }
        let blocking = threads.filter { !($0.first?.hasSuffix("[state R]") ?? false) }.compactMap { Self.blockingCall(frames: $0.dropFirst()) }.first
        return (threads.map { $0.joined(separator: "\n") }.joined(separator: "\n").demangledBySwift(), blocking)
    }

    /// Each thread's state letter (`R`, `S`, `D`, …) by its id, from /proc/self/task/ID/stat.
    static func threadStates() -> [Int: Character] {
        var states: [Int: Character] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
            guard let tid = Int(name), let stat = try? String(contentsOfFile: "/proc/self/task/\(name)/stat", encoding: .utf8),
                let close = stat.range(of: ")", options: .backwards)
            else { continue }
            // "TID (NAME) STATE …": the name may hold spaces and parentheses; the state follows the last ')'.
            if let state = stat[close.upperBound...].first(where: { $0 != " " }) { states[tid] = state }
        }
        return states
    }

    /// The thread id in gdb's heading `Thread 4 (Thread 0x… (LWP 27119) "name"):`.
    static func lwp(_ heading: String) -> Int? {
        guard let start = heading.range(of: "(LWP ") else { return nil }
        return Int(heading[start.upperBound...].prefix { $0.isNumber })
    }

    private func poolThreads() -> [[String]] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pool-watch-\(getpid())-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try? Spawn.run("/usr/bin/gdb", [
            "-p", String(getpid()), "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt",
        ], output: output)
        guard status == 0, let text = try? String(contentsOfFile: output, encoding: .utf8) else {
            return [["  (no stacks: gdb exited with \(status.map(String.init) ?? "an error"))"]]
        }
        return Self.poolFrames(inBacktraces: text)
    }

    /// Frames where a pool thread's work starts: a Swift job, or a block of a dispatch queue.
    static let workEntries = ["runJobInEstablishedExecutorContext", "swift_job_run", "_dispatch_client_callout", "_dispatch_call_block_and_release"]

    /// For each thread of gdb's `thread apply all bt` doing the pool's work, its heading and its
    /// frames above the work's entry, innermost first ("  #3 name at file:line"). The pool's work
    /// is a Swift job, or a block of a concurrent dispatch queue, on a libdispatch worker thread
    /// that is not an overcommit one (on Linux the global and concurrent queues share the
    /// cooperative pool's threads; serial queues have threads of their own). A custom executor's
    /// thread (a `ThreadExecutor`'s) runs Swift jobs too, but is no worker: it is not the pool.
    static func poolFrames(inBacktraces text: String) -> [[String]] {
        var threads: [[String]] = [], current: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("Thread ") {
                threads.append(current)
                current = [line]
            } else if line.hasPrefix("#") {
                current.append(line)
            }
        }
        threads.append(current)
        let pool = threads.filter { thread in
            guard let heading = thread.first else { return false }
            return !heading.contains("overcommit") && thread.contains { $0.contains("_dispatch_worker_thread") }
                && thread.contains { frame in workEntries.contains { frame.contains($0) } }
        }
        return pool.map { thread in
            let frames = thread.dropFirst().prefix { frame in !workEntries.contains { frame.contains($0) } }
            return [thread[0]] + frames.map { "  " + Self.shortFrame($0) }
        }
    }

    /// "#3  0x00… in NAME (args…) at FILE:LINE" → "#3 NAME at FILE:LINE".
    private static func shortFrame(_ frame: String) -> String {
        let number = frame.prefix { $0 != " " }
        // gdb leaves the address out ("#0  NAME (args…) at …") when the pc is at a line's start,
        // and for inlined frames.
        var rest = frame.dropFirst(number.count).drop { $0 == " " }
        if rest.hasPrefix("0x"), let r = rest.range(of: " in ") { rest = rest[r.upperBound...] }
        let name = rest.prefix { $0 != " " }
        let place = frame.range(of: " at ", options: .backwards).map { " at " + frame[$0.upperBound...] }
            ?? frame.range(of: " from ", options: .backwards).map { " from " + frame[$0.upperBound...] } ?? ""
        return "\(number) \(name)\(place)"
    }

    private func append(_ text: String) {
        guard let handle = FileHandle(forWritingAtPath: report) ?? {
            _ = FileManager.default.createFile(atPath: report, contents: nil)
            return FileHandle(forWritingAtPath: report)
        }() else { return }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try? handle.close()
    }
}

extension String {
    /// The text with Swift symbols demangled (swift-demangle from the toolchain), or as it is.
    fileprivate func demangledBySwift() -> String {
        let text = self
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("pool-watch-\(UUID().uuidString).in").path
        let output = input + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        guard FileManager.default.createFile(atPath: input, contents: Data(text.utf8)),
            let tool = ["/opt/swift/usr/bin/swift-demangle", "/usr/bin/swift-demangle"].first(where: FileManager.default.isExecutableFile),
            (try? Spawn.run("/bin/sh", ["-c", "\"$0\" --simplified < \"$1\"", tool, input], output: output)) == 0,
            let demangled = try? String(contentsOfFile: output, encoding: .utf8)
        else { return text }
        return demangled
    }
}

/// Set once by the probe task, read by the watch's thread.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Called by Tests/PoolWatchStart's constructor, on a thread of its own, when
/// `TROUPE_POOL_WATCH` names a report file.
@_cdecl("troupe_pool_watch_run")
public func troupePoolWatchRun(_ report: UnsafePointer<CChar>) {
    PoolWatch(report: String(cString: report)).run()
}
