import Foundation
import Testing
import TroupeCore
import TroupeServiceTestSupport
import TroupeStoreConformance

/// `troupe vault` and `memory forget --shred` on real homes: encrypting one in place, rotating
/// its keys, each killed (SIGKILL) at chosen moments and run again, and shredding a persona.
@Suite("troupe vault", .serialized, .cleanups)
struct VaultCLITests {
    static let phrases = ["PAPAYAFLAMINGO", "WOMBATSECRET", "KIWIHARBOUR"]

    /// A plain home holding memories of two personas and a shared slice, one of them updated
    /// (a history), with tags; its export, to compare with after each step.
    static func filledHome() async throws -> (URL, String) {
        let home = try CLITests.tempHome(encrypted: false)
        for n in 0..<12 {
            let add = try await CLITests.troupe(
                ["memory", "add", "--persona", n % 2 == 0 ? "athena" : "hestia", "--slice", "semantic", "--tag", "batch",
                 "Fact \(n): the \(phrases[n % 3]) note number \(n)"], home: home)
            try #require(add.status == 0, "\(add.stderr)")
        }
        let shared = try await CLITests.troupe(
            ["memory", "add", "--persona", "hestia", "--shared", "team-decisions", "--json", "We keep the KIWIHARBOUR runbook"], home: home)
        try #require(shared.status == 0, "\(shared.stderr)")
        let id = try #require(Self.json(shared.stdout)?["id"]?.text)
        let update = try await CLITests.troupe(
            ["memory", "update", id, "--persona", "hestia", "--base-version", "1", "We keep the KIWIHARBOUR runbook in the wiki"], home: home)
        try #require(update.status == 0, "\(update.stderr)")
        return (home, try await export(home))
    }

    static func export(_ home: URL) async throws -> String {
        let run = try await CLITests.troupe(["memory", "export"], home: home)
        try #require(run.status == 0, "\(run.stderr)")
        return run.stdout
    }

    /// Files under `home` holding any of the phrases.
    static func plaintextFiles(_ home: URL) throws -> [String] {
        let files = FileManager.default.enumerator(at: home, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return try files.filter { url in
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { return false }
            let bytes = try Data(contentsOf: url)
            return phrases.contains { bytes.range(of: Data($0.utf8)) != nil }
        }.map(\.lastPathComponent)
    }

    @Test func encryptingAHomeInPlaceSurvivesAKillAndLeavesNoPlaintext() async throws {
        let (home, before) = try await Self.filledHome()
        #expect(try !Self.plaintextFiles(home).isEmpty, "the control: a plain home holds the phrases")
        let killed = try await CLITests.troupe(
            ["vault", "init", "--batch-size", "10"], home: home, environment: ["TROUPE_FAILPOINT": "vault.init.batch-2"])
        #expect(killed.status == SIGKILL && killed.stderr.contains("failpoint vault.init.batch-2"))
        // Half-sealed: the home refuses to open, and says what to do.
        let refused = try await CLITests.troupe(["memory", "export"], home: home)
        #expect(refused.status != 0 && refused.stderr.contains("troupe vault init"))
        let finished = try await CLITests.troupe(["vault", "init", "--json"], home: home)
        try #require(finished.status == 0, "\(finished.stderr)")
        let report = try #require(Self.json(finished.stdout))
        #expect(report["resumed"] == .bool(true) && (report["verified"].flatMap(Self.number) ?? 0) > 0)
        #expect(try await Self.export(home) == before)
        #expect(try Self.plaintextFiles(home) == [])
        let again = try await CLITests.troupe(["vault", "init"], home: home)
        #expect(again.status != 0 && again.stderr.contains("encrypted already"))
    }

    @Test(arguments: ["vault.rotate.keys-made", "vault.rotate.batch-2", "vault.rotate.verified"])
    func aDataKeyRotationKilledAtAnyMomentFinishesWithNothingLost(failpoint: String) async throws {
        let (home, before) = try await Self.filledHome()
        try #require(try await CLITests.troupe(["vault", "init"], home: home).status == 0)
        let keysBefore = try await Self.keys(home)
        let killed = try await CLITests.troupe(
            ["vault", "rotate", "--data", "--batch-size", "5"], home: home, environment: ["TROUPE_FAILPOINT": failpoint])
        #expect(killed.status == SIGKILL && killed.stderr.contains("failpoint \(failpoint)"))
        // Mid-rotation, the home still reads: both keys open what they sealed.
        #expect(try await Self.export(home) == before)
        let status = try #require(Self.json(try await CLITests.troupe(["vault", "status", "--json"], home: home).stdout))
        #expect(status["rotating"] != .null)
        let resumed = try await CLITests.troupe(["vault", "rotate", "--data", "--json"], home: home)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        #expect(Self.json(resumed.stdout)?["resumed"] == .bool(true))
        #expect(try await Self.export(home) == before)
        let after = try await Self.keys(home)
        // Every owner that had an active key has a new one; the old ones are retired.
        #expect(Set(after.filter { $0.state == "active" }.map(\.owner)) == Set(keysBefore.filter { $0.state == "active" }.map(\.owner)))
        #expect(Set(after.filter { $0.state == "active" }.map(\.id)).isDisjoint(with: keysBefore.map(\.id)))
        #expect(try await CLITests.troupe(["vault", "verify"], home: home).status == 0)
    }

    @Test func shreddingAPersonaLeavesItUnreadableInABackupAndTheOthersReadable() async throws {
        let (home, _) = try await Self.filledHome()
        try #require(try await CLITests.troupe(["vault", "init"], home: home).status == 0)
        let backup = home.appendingPathComponent("backup.sqlite")
        try FileManager.default.copyItem(at: home.appendingPathComponent("memory.sqlite"), to: backup)
                let shred = try await CLITests.troupe(["memory", "forget", "--persona", "athena", "--shred", "--json"], home: home)
        try #require(shred.status == 0, "\(shred.stderr)")
        #expect((Self.json(shred.stdout)?["forgotten"].flatMap(Self.number) ?? 0) >= 6)
        let left = try await Self.export(home)
        #expect(!left.contains("\"owner\":\"athena\",\"slice\":\"semantic\"") && left.contains("hestia"))
        let security = try await CLITests.troupe(["audit", "--security"], home: home)
        #expect(security.stdout.contains("data-key-shredded"))
        // The backup, read with the home's vault: hestia's memories open; athena's are gone, as
        // if forgotten there too (her keys are).
        let restored = try CLITests.tempHome(encrypted: false)
        try FileManager.default.copyItem(at: home.appendingPathComponent("vault"), to: restored.appendingPathComponent("vault"))
        try FileManager.default.copyItem(at: backup, to: restored.appendingPathComponent("memory.sqlite"))
        let hestia = try await CLITests.troupe(["memory", "export", "--persona", "hestia"], home: restored)
        #expect(hestia.status == 0 && hestia.stdout.contains("Fact 1:") && hestia.stdout.contains("Fact 3:"), "\(hestia.stderr)")
        let gone = try await CLITests.troupe(["memory", "export", "--persona", "athena"], home: restored)
        #expect(gone.status == 0 && !gone.stdout.contains("Fact 0:") && !gone.stdout.contains("Fact 2:"), "\(gone.stderr)")
        let recall = try await CLITests.troupe(["memory", "recall", "--persona", "athena", "PAPAYAFLAMINGO note"], home: restored)
        #expect(recall.status == 0 && !recall.stdout.contains("Fact 0:"), "\(recall.stderr)")
    }

    static func json(_ text: String) -> JSONValue? { try? JSONValue.parse(Array(text.utf8)) }

    static func number(_ value: JSONValue) -> Double? {
        guard case .number(let n) = value else { return nil }
        return n
    }

    struct Key { var id: String; var owner: String; var state: String }

    static func keys(_ home: URL) async throws -> [Key] {
        let status = try #require(Self.json(try await CLITests.troupe(["vault", "status", "--json"], home: home).stdout))
        return (status["keys"]?.items ?? []).compactMap { key in
            guard let id = key["id"]?.text, let owner = key["owner"]?.text, let state = key["state"]?.text else { return nil }
            return Key(id: id, owner: owner, state: state)
        }
    }
}
