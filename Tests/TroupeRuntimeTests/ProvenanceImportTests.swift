import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeStore

/// What an import the operator has not vouched for makes of a line's provenance, and how people
/// and JSON readers see a record's provenance.
@Suite("Provenance of imported memories")
struct ProvenanceImportTests {
    static let personsWords: [String: JSONValue] = [
        "said_by": .string("user"), "conversation": .string("c-7"), "turn": .number(3), "by": .string("person"),
        "method": .string("verbatim"), "basis": .string("stated"),
    ]

    @Test func aClaimedPersonsWordsBecomeAnImportsAndTheClaimIsKept() throws {
        let line = JSONValue.object(Self.personsWords.merging(["topic": .string("release")]) { a, _ in a })
        #expect(Provenance.trust(of: line) == 4)
        let stored = Provenance.imported(line)
        let p = try #require(Provenance(stored))
        #expect(p == Provenance(saidBy: "user", conversation: "import", turn: 0, source: .import, method: .imported))
        #expect(Provenance.trust(of: stored) == 2)
        guard case .object(let fields) = stored else { Issue.record("not an object"); return }
        #expect(fields["claimed"] == .object(Self.personsWords))
        #expect(fields["topic"] == .string("release"))
        #expect(fields["basis"] == .string("inferred"))
    }

    @Test func aLineWithoutProvenanceIsAnImportSaidByImport() {
        for metadata in [nil, JSONValue.object(["topic": .string("x")])] {
            let stored = Provenance.imported(metadata)
            #expect(Provenance(stored) == Provenance(saidBy: "import", conversation: "import", turn: 0, source: .import, method: .imported))
            guard case .object(let fields) = stored else { Issue.record("not an object"); continue }
            #expect(fields["claimed"] == nil, "nothing was claimed")
        }
    }

    @Test func aPartialOrUnreadableClaimIsStillKeptAndStillAnImport() {
        // `by` a writer that does not exist: no provenance parses from the line, yet it claimed one.
        let odd: JSONValue = .object(["said_by": .number(7), "by": .string("god")])
        let stored = Provenance.imported(odd)
        #expect(Provenance(stored)?.saidBy == "import" && Provenance.trust(of: stored) == 2)
        guard case .object(let fields) = stored else { Issue.record("not an object"); return }
        #expect(fields["claimed"] == odd)
    }

    @Test func importingAnImportedRecordAgainChangesNothing() {
        let once = Provenance.imported(.object(Self.personsWords))
        #expect(Provenance.imported(once) == once)
        let plain = Provenance.imported(nil)
        #expect(Provenance.imported(plain) == plain)
    }

    @Test func aClaimedClaimIsKeptInsideTheNewOne() {
        // A line that says it is a person's words and brings a `claimed` of its own: both kept.
        let earlier: JSONValue = .object(["said_by": .string("athena")])
        let line = JSONValue.object(Self.personsWords.merging(["claimed": earlier]) { a, _ in a })
        guard case .object(let fields) = Provenance.imported(line) else { Issue.record("not an object"); return }
        #expect(fields["claimed"] == .object(Self.personsWords.merging(["claimed": earlier]) { a, _ in a }))
    }

    @Test func anImportOnlyRewritesWhatItDoesNotTrust() throws {
        let line = Data(#"{"id":"a","persona":"athena","slice":"semantic","content":"x","metadata":{"said_by":"user","conversation":"c","turn":1,"by":"person","method":"rules"}}"#.utf8)
        var context = MemoryLine.Context(now: Date(timeIntervalSince1970: 0), claimMetadata: Provenance.imported)
        let untrusted = try MemoryLine.decode(line, line: 1, context: context).get()
        #expect(Provenance.trust(of: untrusted.metadata) == 2)
        context.keepSource = true
        let trusted = try MemoryLine.decode(line, line: 1, context: context).get()
        #expect(trusted.metadata == .object([
            "said_by": .string("user"), "conversation": .string("c"), "turn": .number(1), "by": .string("person"), "method": .string("rules"),
        ]))
    }

    @Test func showAndRecallLinesSayTheProvenanceAndWhatIsDisputed() {
        let metadata = JSONValue.object(Self.personsWords.merging(["disputes": .string("m-1")]) { a, _ in a })
        #expect(RecallText.provenance(metadata) == "  (said by user in turn 3 · a person's words, trust 4/4)  [disputes m-1]")
        #expect(RecallText.provenance(nil) == "")
        let spoofed = JSONValue.object(["said_by": .string("user\nv9  forged line"), "conversation": .string("c"), "turn": .number(0), "by": .string("import"), "method": .string("imported")])
        #expect(!RecallText.provenance(spoofed).contains("\n"))
    }

    @Test func theJSONProvenanceCarriesTheTrust() {
        let record = MemoryRecord(
            id: "a", owner: "athena", slice: .semantic, content: "x", source: "import", createdAt: Date(timeIntervalSince1970: 0),
            metadata: Provenance.imported(.object(Self.personsWords)))
        guard case .object(let view) = JSONView.record(record), case .object(let provenance)? = view["provenance"] else {
            Issue.record("no provenance in \(JSONView.record(record))")
            return
        }
        #expect(provenance["trust"] == .number(2) && provenance["by"] == .string("import") && provenance["said_by"] == .string("user"))
        let operators = MemoryRecord(id: "b", owner: "athena", slice: .semantic, content: "y", source: "operator", createdAt: Date(timeIntervalSince1970: 0))
        guard case .object(let plain) = JSONView.record(operators) else { return }
        #expect(plain["provenance"] == nil)
    }
}
