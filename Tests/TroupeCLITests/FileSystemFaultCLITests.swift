import Foundation
import Testing
import TroupeCore

/// A small tmpfs of the test's own (as root), to fill or to make read-only.
final class Tmpfs: @unchecked Sendable {
    // Safe: immutable after init.
    let url: URL

    init(kilobytes: Int) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", url.path]) else {
            throw TroupeError(.unavailable, "cannot mount a tmpfs")
        }
    }

    func remountReadOnly() -> Bool { Self.run("/bin/mount", ["-o", "remount,ro", url.path]) }

    deinit {
        _ = Self.run("/bin/umount", ["-l", url.path])
        try? FileManager.default.removeItem(at: url)
    }

    /// Whether this process may mount (root, in a sandbox that allows it).
    static let available: Bool = {
        guard geteuid() == 0, let probe = try? Tmpfs(kilobytes: 64) else { return false }
        _ = probe
        return true
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// A full disk and a read-only home give `error:` lines that say so, and change nothing.
@Suite("troupe on a full or read-only disk", .serialized, .enabled(if: Tmpfs.available, "needs root to mount a tmpfs"))
struct FileSystemFaultCLITests {
    @Test func aFullDiskIsReportedAsSuchAndLosesNothing() throws {
        let disk = try Tmpfs(kilobytes: 600)
        let (work, config) = try HostileInputCLITests.home()
        defer { CLITests.removeHome(work) }
        let home = disk.url.appendingPathComponent("home")
        let file = work.appendingPathComponent("big.jsonl")
        var text = ""
        for i in 0..<3000 { text += #"{"persona":"athena","slice":"semantic","content":"memory \#(i) \#(String(repeating: "x", count: 300))"}"# + "\n" }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let first = try CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "kept before"], home: home, config: config, in: work)
        #expect(first.status == 0, "\(first.stderr)")
        let run = try CLITests.troupe(["memory", "import", "--no-embed", file.path], home: home, config: config, in: work)
        #expect(run.status == 1)
        #expect(run.stderr.contains("error: ") && run.stderr.contains("disk full ("), "\(run.stderr)")
        #expect(!run.stderr.contains("disk I/O error"), "\(run.stderr)")
        let stats = try CLITests.troupe(["memory", "export"], home: home, config: config, in: work)
        #expect(stats.stdout.contains("kept before"))
    }

    @Test func aReadOnlyHomeCanStillBeRecalledFromAndExported() throws {
        let disk = try Tmpfs(kilobytes: 8192)
        let (work, config) = try HostileInputCLITests.home()
        defer { CLITests.removeHome(work) }
        let home = disk.url.appendingPathComponent("home")
        let added = try CLITests.troupe(
            ["memory", "add", "--persona", "athena", "--slice", "semantic", "the rover lands at dawn"], home: home, config: config, in: work)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(disk.remountReadOnly())
        let recalled = try CLITests.troupe(["memory", "recall", "--persona", "athena", "rover"], home: home, config: config, in: work)
        #expect(recalled.status == 0 && recalled.stdout.contains("the rover lands at dawn"), "\(recalled.stderr)")
        let exported = try CLITests.troupe(["memory", "export"], home: home, config: config, in: work)
        #expect(exported.status == 0 && exported.stdout.contains("the rover lands at dawn"))
        let write = try CLITests.troupe(["memory", "add", "--persona", "athena", "--slice", "semantic", "x"], home: home, config: config, in: work)
        #expect(write.status == 1 && write.stderr.contains("error: ") && write.stderr.contains("read-only"), "\(write.stderr)")
        #expect(!write.stderr.contains("Error Domain"))
        let doctor = try CLITests.troupe(["doctor"], home: home, config: config, in: work)
        #expect(doctor.stdout.contains("read-only"), "\(doctor.stdout)")
    }
}
