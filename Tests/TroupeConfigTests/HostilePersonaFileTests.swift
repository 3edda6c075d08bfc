import Foundation
import TroupeStoreConformance
import Testing
import TroupeConfig
import TroupeCore

/// Persona files that are not what they seem: bytes that are not text, CRLF line breaks, huge
/// lines, things that are not files at all. Each gets a diagnostic with its place, fast.
@Suite("Hostile persona files")
struct HostilePersonaFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The errors of a persona file of `bytes`, written and validated off the cooperative pool
    /// (a write that syncs, and for the larger files seconds of parsing in a debug build).
    func diagnostics(_ name: String, _ bytes: [UInt8]) async throws -> [Diagnostic] {
        let url = directory.appendingPathComponent(name)
        return try await offThePool("troupe-test.validate") {
            try Data(bytes).writeUnsynced(to: url)
            return Configuration.validate(personaFiles: [url], runtime: RuntimeConfig()).diagnostics.filter { $0.severity == .error }
        }
    }

    static let valid = "name: nike\ndisplay_name: Nike\nrole: r\ndescription: d\nsystem_prompt: s\n"

    @Test func nonUTF8AndNULBytesAreNamedWithTheirPlace() async throws {
        var bytes = Array(Self.valid.utf8)
        bytes.insert(contentsOf: [0xFF, 0xFE], at: 18)  // line 2, column 8
        let bad = try await diagnostics("nike.yaml", bytes)
        #expect(bad.map { "\($0.line):\($0.column)" } == ["2:8"])
        #expect(bad.first?.message.contains("not valid UTF-8: byte 0xFF") == true)

        var nul = Array(Self.valid.utf8)
        nul.insert(0, at: 40)
        let zero = try await diagnostics("nike.yaml", nul)
        let where_ = Array(Self.valid.utf8)[..<40].split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(zero.map { "\($0.line):\($0.column)" } == ["\(where_.count):\(where_.last!.count + 1)"])
        #expect(zero.first?.message.contains("NUL") == true)
    }

    @Test func aCRLFFileShowsOnlyTheOffendingLine() async throws {
        let text = "name: nike\r\ndisplay_name: Nike\r\nrole: r\r\ndescription: d\r\nsystem_prompt: s\r\nmemroy: {}\r\n"
        let bad = try await diagnostics("nike.yaml", Array(text.utf8))
        let unknown = try #require(bad.first { $0.message.hasPrefix("unknown key 'memroy'") })
        #expect(unknown.line == 6 && unknown.sourceLine == "memroy: {}")
        #expect(unknown.rendered.split(separator: "\n").count == 3)
    }

    @Test func loneCarriageReturnsCountAsLineBreaksAndCrashNothing() async throws {
        // Found by the fuzzer: a duplicate key after a run of lone CRs (which YAML counts as line
        // breaks) once pointed past the last line the excerpt knew.
        let text = "name:\r\r\r\r athena\ndisplay_name: A\nrole: r\ndescription: d\nsystem_prompt: s\ndescription: again\n"
        let bad = try await diagnostics("athena.yaml", Array(text.utf8))
        let duplicate = try #require(bad.first { $0.message.hasPrefix("duplicate key 'description'") })
        #expect(duplicate.line == 10 && duplicate.sourceLine == "description: again")
    }

    @Test func aHugeLineIsClippedInTheExcerpt() async throws {
        let long = "description: " + String(repeating: "x", count: 200_000) + "\nmemroy: " + String(repeating: "y", count: 200_000) + "\n"
        let text = "name: nike\ndisplay_name: Nike\nrole: r\nsystem_prompt: s\n" + long
        let bad = try await diagnostics("nike.yaml", Array(text.utf8))
        let unknown = try #require(bad.first { $0.message.hasPrefix("unknown key 'memroy'") })
        #expect(unknown.rendered.count < 600, "\(unknown.rendered.count) characters")
    }

    @Test func aNameListedTwiceInSharedIsAnError() throws {
        var config = RuntimeConfig()
        config.sharedSlices = [.init(name: "team", kind: .semantic, members: ["nike"], policy: .keepBoth)]
        let url = directory.appendingPathComponent("nike.yaml")
        try (Self.valid + "shared: [team, team]\n").writeUnsynced(to: url)
        let bad = Configuration.validate(personaFiles: [url], runtime: config).diagnostics.filter { $0.severity == .error }
        #expect(bad.map { "\($0.line):\($0.column): \($0.message)" } == ["6:16: 'team' is listed twice in 'shared'"])
    }

    @Test func devicesFIFOsAndDirectoriesAreNotReadAsFiles() throws {
        let fifo = directory.appendingPathComponent("pipe.yaml")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let folder = directory.appendingPathComponent("folder.yaml")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let zero = directory.appendingPathComponent("zero.yaml")
        try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
        let result = Configuration.validate(personaFiles: [fifo, folder, zero], runtime: RuntimeConfig())
        let messages = result.diagnostics.map { "\(URL(fileURLWithPath: $0.file).lastPathComponent): \($0.message)" }
        #expect(messages.contains("pipe.yaml: is a FIFO, not a YAML file"))
        #expect(messages.contains("folder.yaml: is a directory, not a YAML file"))
        #expect(messages.contains("zero.yaml: is a device, not a YAML file"))
        #expect(!messages.contains { $0.contains("permission") })
    }
}
