import Foundation
import Testing

/// The retrieval-quality set is data other figures depend on: check that it is what it claims.
@Suite("Retrieval-quality set")
struct QualitySetTests {
    struct Memory: Decodable { var id: String; var persona: String; var slice: String; var content: String }
    struct Question: Decodable { var id: String; var persona: String; var question: String; var relevant: [String]; var kind: String }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Quality")

    func read<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    @Test func sizesIdsAndReadability() throws {
        let memories = try read("memories.jsonl", as: Memory.self)
        let questions = try read("questions.jsonl", as: Question.self)
        #expect(memories.count >= 300 && questions.count >= 100)
        #expect(Set(memories.map(\.id)).count == memories.count && Set(questions.map(\.id)).count == questions.count)
        let owner = Dictionary(uniqueKeysWithValues: memories.map { ($0.id, $0.persona) })
        // Shared-slice members, as Config/troupe.yaml declares them.
        let members = [
            "team-decisions": ["athena", "artemis", "hestia", "bellona", "seshat"], "incident-log": ["artemis", "hestia", "bellona"],
            "style-guide": ["athena", "hestia", "seshat"],
        ]
        for q in questions {
            #expect(!q.relevant.isEmpty, "\(q.id)")
            for id in q.relevant {
                let o = try #require(owner[id], "\(q.id) names a memory that does not exist: \(id)")
                #expect(o == q.persona || members[o]?.contains(q.persona) == true, "\(q.id): \(q.persona) cannot read \(id)")
            }
        }
        #expect(questions.filter { $0.kind == "paraphrase" }.count >= 35)
    }
}
