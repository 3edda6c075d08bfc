import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// A small tmpfs of the test's own (as root), to fill or to make read-only. `mount` and
/// `umount` are processes the test waits for: they run off the cooperative pool.
final class Tmpfs: Sendable {
    let url: URL

    /// Mounts one; the caller unmounts it (``unmount()``).
    private init(kilobytes: Int) async throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard await Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", url.path]) else {
            throw TroupeError(.unavailable, "cannot mount a tmpfs")
        }
    }

    /// One for the current test, unmounted and removed after it (the suite has the `.cleanups` trait).
    static func forTest(kilobytes: Int) async throws -> Tmpfs {
        let tmpfs = try await Tmpfs(kilobytes: kilobytes)
        Cleanups.add { await tmpfs.unmount() }
        return tmpfs
    }

    func remountReadOnly() async -> Bool { await Self.run("/bin/mount", ["-o", "remount,ro", url.path]) }

    func unmount() async {
        _ = await Self.run("/bin/umount", ["-l", url.path])
        try? FileManager.default.removeItem(at: url)
    }

    /// Whether this process may mount (root, in a sandbox that allows it).
    static func available() async -> Bool {
        guard geteuid() == 0, let probe = try? await Tmpfs(kilobytes: 64) else { return false }
        await probe.unmount()
        return true
    }

    /// Runs `tool` and waits for it, off the pool; whether it succeeded.
    static func run(_ tool: String, _ arguments: [String]) async -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let succeeded = try? await offThePool("troupe-test.mount") {
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        return succeeded ?? false
    }
}

/// A full disk and a read-only home give `error:` lines that say so, and change nothing.
@Suite("troupe on a full or read-only disk", .serialized, .cleanups, .enabled("needs root to mount a tmpfs") { await Tmpfs.available() })
struct FileSystemFaultCLITests {
    @Test func aFullDiskIsReportedAsSuchAndLosesNothing() async throws {
        let disk = try await Tmpfs.forTest(kilobytes: 600)
        let (work, config) = try HostileInputCLITests.home()
        let home = disk.url.appendingPathComponent("home")
        let file = work.appendingPathComponent("big.jsonl")
        var text = ""
        for i in 0..<3000 { text += #"{"persona":"athena","slice":"semantic","content":"memory \#(i) \#(String(repeating: "x", count: 300))"}"# + "\n" }
        try text.writeUnsynced(to: file)
        let first = try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "kept before"], home: home, config: config, in: work)
        #expect(first.status == 0, "\(first.stderr)")
        let run = try await CLITests.troupe(["memory", "import", "--no-embed", file.path], home: home, config: config, in: work)
        #expect(run.status == 1)
        #expect(run.stderr.contains("error: ") && run.stderr.contains("disk full ("), "\(run.stderr)")
        #expect(!run.stderr.contains("disk I/O error"), "\(run.stderr)")
        let stats = try await CLITests.troupe(["memory", "export"], home: home, config: config, in: work)
        #expect(stats.stdout.contains("kept before"))
    }

    @Test func aReadOnlyHomeCanStillBeRecalledFromAndExported() async throws {
        let disk = try await Tmpfs.forTest(kilobytes: 8192)
        let (work, config) = try HostileInputCLITests.home()
        let home = disk.url.appendingPathComponent("home")
        let added = try await CLITests.troupe(
            ["memory", "add", "--persona", "athena", "--slice", "semantic", "the rover lands at dawn"], home: home, config: config, in: work)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(await disk.remountReadOnly())
        let recalled = try await CLITests.troupe(["memory", "recall", "--persona", "athena", "rover"], home: home, config: config, in: work)
        #expect(recalled.status == 0 && recalled.stdout.contains("the rover lands at dawn"), "\(recalled.stderr)")
        let exported = try await CLITests.troupe(["memory", "export"], home: home, config: config, in: work)
        #expect(exported.status == 0 && exported.stdout.contains("the rover lands at dawn"))
        let write = try await CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "x"], home: home, config: config, in: work)
        #expect(write.status == 1 && write.stderr.contains("error: ") && write.stderr.contains("read-only"), "\(write.stderr)")
        #expect(!write.stderr.contains("Error Domain"))
        let doctor = try await CLITests.troupe(["doctor"], home: home, config: config, in: work)
        #expect(doctor.stdout.contains("read-only"), "\(doctor.stdout)")
    }
}
