import Foundation
import Testing
import TroupeCore
import TroupeStoreConformance

/// The CLI with input an attacker chose: control characters in memories and persona files,
/// oversized flags, paths that are not what they should be, a persona probing for ids.
@Suite("troupe with hostile input", .serialized, .cleanups)
struct HostileInputCLITests {
    /// A home with its own config (Redis off: these tests need no server) and the shipped personas.
    static func home() throws -> (home: URL, config: URL) {
        let home = try CLITests.tempHome()
        let config = home.appendingPathComponent("troupe.yaml")
        let shipped = try String(contentsOf: CLITests.repo.appendingPathComponent("Config/troupe.yaml"), encoding: .utf8)
        try shipped.replacingOccurrences(of: "mode: managed", with: "mode: off")
            .replacingOccurrences(of: "personas: ../Personas", with: "personas: \(CLITests.repo.appendingPathComponent("Personas").path)")
            .writeUnsynced(to: config)
        return (home, config)
    }

    static func raw(_ run: CLITests.Run) -> [UInt8] { Array((run.stdout + run.stderr).utf8) }

    /// Bytes that act on a terminal: ESC, BEL, BS, CR, DEL, CSI.
    static func actsOnTerminal(_ run: CLITests.Run) -> Bool {
        (run.stdout + run.stderr).unicodeScalars.contains { [0x1B, 0x07, 0x08, 0x0D, 0x7F, 0x9B].contains($0.value) }
    }

    @Test func storedControlCharactersNeverReachTheTerminal() async throws {
        let (home, config) = try Self.home()
        func troupe(_ args: String...) async throws -> CLITests.Run { try await CLITests.troupe(args, home: home, config: config) }
        let hostile = "deploy notes \u{1B}]0;pwned\u{07}\u{1B}[2J\rfake line\u{08}\u{9B}31m"
        let added = try await troupe("memory", "add", "--persona", "athena", "--slice", "semantic", "--json", hostile)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])["id"] as! String
        #expect(!Self.actsOnTerminal(added))
        for run in [
            try await troupe("memory", "show", id), try await troupe("memory", "history", id),
            try await troupe("memory", "recall", "--persona", "athena", "deploy notes"),
            try await troupe("memory", "recall", "--persona", "athena", "--why", "deploy notes"),
            try await troupe("memory", "show", "\u{1B}[2Jno-such-id"),
            try await troupe("personas", "show", "\u{1B}]0;x\u{07}"),
        ] {
            #expect(!Self.actsOnTerminal(run), "\(run.stdout)\(run.stderr)")
        }
        let shown = try await troupe("memory", "show", id)
        #expect(shown.stdout.contains("deploy notes \\e]0;pwned\\a\\e[2J\\rfake line\\b\\u{9b}31m"))
        // Export keeps the content exact, as JSON escapes.
        let export = try await troupe("memory", "export", "--persona", "athena", "--slice", "semantic")
        #expect(export.stdout.contains(#"\u001b]0;pwned\u0007\u001b[2J\rfake line\u0008\u009b31m"#) && !Self.actsOnTerminal(export))
    }

    @Test func aPersonaFileCannotDrawOnTheTerminal() async throws {
        let (home, config) = try Self.home()
        let personas = home.appendingPathComponent("personas")
        try FileManager.default.createDirectory(at: personas, withIntermediateDirectories: true)
        try """
            name: nike
            display_name: "Nike\\e[2J\\e]0;owned\\a"
            role: "runner\\r\\e[31m"
            description: d
            system_prompt: s

            """.writeUnsynced(to: personas.appendingPathComponent("nike.yaml"))
        try "personas: personas\nredis:\n  mode: off\n".writeUnsynced(to: config)
        for args in [["personas", "list"], ["personas", "show", "nike"], ["personas", "list", "--json"]] {
            let run = try await CLITests.troupe(args, home: home, config: config)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(!Self.actsOnTerminal(run), "\(args): \(run.stdout)")
        }
    }

    @Test func oversizedNumericFlagsAreUsageErrors() async throws {
        let (home, config) = try Self.home()
        let file = home.appendingPathComponent("m.jsonl")
        try #"{"persona":"athena","slice":"semantic","content":"x"}"#.writeUnsynced(to: file)
        for (args, flag) in [
            (["memory", "import", "--batch-size", "99999999999", file.path], "--batch-size"),
            (["memory", "recall", "--persona", "athena", "--limit", "99999999999", "x"], "--limit"),
            (["audit", "--limit", "99999999999"], "--limit"), (["bench", "store", "--records", "99999999999"], "--records"),
            (["memory", "update", "m-1", "--persona", "athena", "--base-version", "99999999999", "x"], "--base-version"),
            (["memory", "add", "--persona", "athena", "--slice", "semantic", "--importance", "nan", "x"], "--importance"),
            (["bench", "retrieval", "--rows", "99999999999"], "--rows"),
        ] {
            let run = try await CLITests.troupe(args, home: home, config: config)
            #expect(run.status == 2, "\(args): status \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("\(flag) must be between"), "\(args): \(run.stderr)")
        }
    }

    @Test func pathsThatAreNotWhatTheyShouldBeGiveErrorLines() async throws {
        let (home, config) = try Self.home()
        let file = home.appendingPathComponent("plain-file")
        try "x".writeUnsynced(to: file)
        for (args, runHome, expected) in [
            (["memory", "stats"], file, "is a file, not a directory"),
            (["memory", "stats"], file.appendingPathComponent("sub"), "is a file, not a directory"),
            (["memory", "import", home.path], home, "is a directory, not a JSONL file"),
        ] {
            let run = try await CLITests.troupe(args, home: runHome, config: config, in: home)
            #expect(run.status == 1, "\(args) in \(runHome.path): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("error: ") && run.stderr.contains(expected), "\(run.stderr)")
            #expect(!run.stderr.contains("NSCocoaErrorDomain") && !run.stderr.contains("Error Domain"), "\(run.stderr)")
        }
        let doctor = try await CLITests.troupe(["doctor"], home: file, config: config, in: home)
        #expect(doctor.status == 1 && doctor.stdout.contains("[FAIL] home"), "\(doctor.stdout)")
    }

    @Test func aPersonaGetsOneAnswerForRecordsItCannotReach() async throws {
        let (home, config) = try Self.home()
        let added = try await CLITests.troupe(
            ["memory", "add", "--persona", "athena", "--slice", "semantic", "--json", "the vault code is 4711"], home: home, config: config)
        let id = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])["id"] as! String
        for verb in ["show", "history", "forget"] {
            let theirs = try await CLITests.troupe(["memory", verb, id, "--persona", "hestia"], home: home, config: config)
            let none = try await CLITests.troupe(["memory", verb, "m-does-not-exist", "--persona", "hestia"], home: home, config: config)
            #expect(theirs.status == 1 && none.status == 1)
            #expect(theirs.stderr.replacingOccurrences(of: id, with: "ID") == none.stderr.replacingOccurrences(of: "m-does-not-exist", with: "ID"),
                    "\(verb): '\(theirs.stderr)' vs '\(none.stderr)'")
        }
    }
}
