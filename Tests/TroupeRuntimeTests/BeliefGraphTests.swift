import Foundation
import Testing
import TroupeConfig
import TroupeCore
import TroupeRuntime
import TroupeStore
import TroupeStoreConformance
import TroupeStoreDriverSupport

/// The belief graph: edges from formed facts (a model's reading, else the rules'), and from
/// knowledge-graph records; what was believed at a past time, read from a real store's
/// history on SQLite and on PostgreSQL.
@Suite("Belief graph")
struct BeliefGraphTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    /// A fact as formation writes it: a person's provenance, and a model's reading unless
    /// `rulesOnly` (then the rules' attribute and value).
    static func fact(
        _ id: String, owner: PersonaID = "athena", _ content: String, subject: String, attribute: String, value: String,
        saidBy: String = "user", turn: Int = 1, at time: Date = t0, rulesOnly: Bool = false
    ) -> MemoryRecord {
        var metadata: [String: JSONValue] = [
            "said_by": .string(saidBy), "conversation": .string("c1"), "turn": .number(Double(turn)), "by": .string("person"),
            "method": .string("rules"), "basis": .string("stated"), "subject": .string(subject),
        ]
        if rulesOnly {
            metadata["attribute"] = .string(attribute)
            metadata["value"] = .string(value)
        } else {
            metadata["reading"] = .object([
                "subject": .string(subject), "attribute": .string(attribute), "value": .string(value), "ends": .bool(false), "by": .string("model"),
            ])
        }
        return MemoryRecord(id: id, owner: owner, slice: .semantic, content: content, source: "athena", createdAt: time, metadata: .object(metadata))
    }

    @Test func edgesComeFromReadingsRulesAndKnowledgeGraphRecordsAndAreFoundByEitherEnd() {
        let relation = KnowledgeGraphRecords.Relation(from: "Ana", to: "Fabrikam", relationType: "works_at")
        let records = [
            Self.fact("f1", "Ana works at Fabrikam.", subject: "ana", attribute: "employer", value: "fabrikam"),
            Self.fact("f2", "Ana lives in Lyon.", subject: "ana", attribute: "location", value: "lyon", turn: 2, rulesOnly: true),
            Self.fact("f3", "Athena's favourite editor is Helix.", subject: "athena", attribute: "editor", value: "helix", saidBy: "athena"),
            MemoryRecord(id: "e1", owner: "athena", slice: .episodic, content: "Ana said hello.", source: "user", createdAt: Self.t0),
            MemoryRecord(id: "s1", owner: "athena", slice: .semantic, content: "The sky is blue.", source: "cli", createdAt: Self.t0),
            KnowledgeGraphRecords.record(.entity(name: "Fabrikam", type: "organization"), owner: "hestia", source: "mcp", at: Self.t0),
            KnowledgeGraphRecords.record(.relation(relation), owner: "hestia", source: "mcp", at: Self.t0),
            KnowledgeGraphRecords.record(.observation(entity: "Fabrikam", text: "Makes widgets", position: 0), owner: "hestia", source: "mcp", at: Self.t0),
        ]
        let graph = BeliefGraph.derive(from: records, personas: ["athena", "hestia"])
        #expect(graph.edges.count == 5, "no edge from an episode nor from an unlabelled fact")

        let ana = graph.about("ANA")
        #expect(ana.map(\.attribute) == ["employer", "location", "works_at"])
        #expect(ana[0].labelledByModel && !ana[1].labelledByModel)
        #expect(ana[0].saidBy == "user" && ana[0].trust == 4 && ana[0].turn == 1 && ana[0].owner == "athena")
        #expect(ana[2].kind == .relation && ana[2].owner == "hestia")
        #expect(graph.entity("ana")?.kind == .thing)
        #expect(graph.entity("athena")?.kind == .persona)
        #expect(graph.entity("fabrikam")?.type == "organization")

        let fabrikam = graph.about("Fabrikam")
        #expect(Set(fabrikam.map(\.recordID)) == ["f1", records[6].id, records[7].id], "as value, as relation end, and its observation")
        #expect(Set(graph.neighbours(of: "fabrikam").map(BeliefGraph.key)) == ["ana"])
        #expect(Set(graph.neighbours(of: "ana").map(BeliefGraph.key)) == ["fabrikam", "lyon"])
        #expect(graph.about("nobody").isEmpty && graph.entity("nobody") == nil)
    }

    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A fact superseded in the store: the graph now holds the new value; as of a time before
    /// the change it holds the old one, with the validity the store gave each version.
    @Test(arguments: Backend.allCases)
    func asOfATimeBeforeAChangeTheOldValueIsBelieved(_ backend: Backend) async throws {
        let directory = try TemporaryDirectory()
        let held: LockedBox<(any MemoryStore)?>
        switch backend {
        case .sqlite: held = LockedBox(try await TestSQLite.open(directory.url.appendingPathComponent("memory.sqlite").path))
        case .postgres: held = LockedBox(try await TestPostgres.freshStore())
        }
        try await withCleanup {
            try await Self.checkAsOf(held.value!)
        } cleanup: {
            // The box holds the last reference: dropped off the pool (closing a store syncs its file).
            _ = try? await offThePool("troupe-test.store.close") { _ = held.withLock { $0.take() } }
        }
        _ = directory
    }

    static func checkAsOf(_ store: any MemoryStore) async throws {
        let t1 = Self.t0.addingTimeInterval(3600)
        _ = try await store.upsert(
            [Self.fact("job", "Ana works at Fabrikam.", subject: "ana", attribute: "employer", value: "fabrikam"),
             Self.fact("city", owner: "hestia", "Ana lives in Lyon.", subject: "ana", attribute: "city", value: "lyon")],
            writer: "test", at: Self.t0)
        _ = try await store.upsert(
            [Self.fact("job", "Ana now works at Contoso.", subject: "ana", attribute: "employer", value: "contoso", turn: 5, at: t1)],
            writer: "test", at: t1)

        let now = try await BeliefGraph.load(from: store, owners: ["athena"], history: false, personas: ["athena", "hestia"])
        #expect(now.about("ana").map(\.value) == ["contoso"], "only athena's, and only what holds now")
        let full = try await BeliefGraph.load(from: store, owners: nil, history: true, personas: ["athena", "hestia"])
        let before = full.about("ana", at: Self.t0.addingTimeInterval(60))
        #expect(Set(before.map(\.value)) == ["fabrikam", "lyon"])
        let old = try #require(before.first { $0.value == "fabrikam" })
        #expect(old.version == 1 && old.validTo == t1)
        #expect(full.about("ana", at: t1.addingTimeInterval(1)).map(\.value).sorted() == ["contoso", "lyon"])
        #expect(full.about("ana", at: Self.t0.addingTimeInterval(-1)).isEmpty, "nothing was believed before the first fact")
        #expect(full.about("ana").first { $0.attribute == "employer" }?.turn == 5)
    }
}
