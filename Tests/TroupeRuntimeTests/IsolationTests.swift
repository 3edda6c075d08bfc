import Foundation
import Testing
import TroupeCore
import TroupeRuntime
import TroupeStore

/// A persona cannot read or write another persona's private slices, nor a shared slice it is not
/// a member of: each way in is tried and each must be denied, leaving the record as it was.
@Suite("Persona isolation")
struct IsolationTests {
    func denied(_ operation: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("\(operation) was allowed")
        } catch let error as TroupeError {
            #expect(error.code == .denied, "\(operation): \(error)")
        } catch {
            Issue.record("\(operation): unexpected \(error)")
        }
    }

    @Test func anotherPersonasPrivateMemoryIsOutOfReach() async throws {
        let team = try await Team()
        let (owner, other) = (try await team.persona("p0"), try await team.persona("p5"))
        let secret = try await owner.remember("The launch code is swordfish", in: .semantic, importance: 0.9)

        await denied("read") { _ = try await other.record(secret.id) }
        await denied("history") { _ = try await other.history(secret.id) }
        await denied("update") { _ = try await other.update(secret.id, basedOn: 1, change: MemoryChange(content: "changed")) }
        await denied("forget") { _ = try await other.forget(secret.id) }
        // Recall never reaches it, however well the query matches.
        let hits = try await other.recall("launch code swordfish", limit: 50)
        #expect(!hits.contains { $0.record.id == secret.id })
        #expect(hits.allSatisfy { other.readableOwners.contains($0.record.owner) })

        // Untouched, and still the owner's.
        #expect(try await owner.record(secret.id) == secret)
        #expect(try await owner.recall("launch code swordfish").first?.record.id == secret.id)
        #expect(try await owner.history(secret.id).versions.count == 1)
    }

    @Test func sharedSlicesAreForTheirMembersOnly() async throws {
        let team = try await Team()
        let (member, outsider) = (try await team.persona("p1"), try await team.persona("p6"))
        let shared = try await member.share("Only p0 and p1 read this", in: "inner").current

        await denied("write to a shared slice") { _ = try await outsider.share("let me in", in: "inner") }
        await denied("read") { _ = try await outsider.record(shared.id) }
        await denied("update") { _ = try await outsider.update(shared.id, basedOn: 1, change: MemoryChange(content: "mine now")) }
        await denied("forget") { _ = try await outsider.forget(shared.id) }
        await denied("history") { _ = try await outsider.history(shared.id) }
        #expect(try await outsider.recall("only p0 and p1 read this", limit: 50).allSatisfy { $0.record.id != shared.id })

        // Members read, write and find it.
        let p0 = try await team.persona("p0")
        #expect(try await p0.record(shared.id).content == "Only p0 and p1 read this")
        #expect(try await p0.update(shared.id, basedOn: 1, change: MemoryChange(content: "p0 and p1 only")).kind == .applied)
        #expect(try await member.recall("p0 and p1 only").first?.record.id == shared.id)
        #expect(member.memberships.contains("inner") && !outsider.memberships.contains("inner"))
    }

    @Test func unknownPersonasAndSlicesAreNamed() async throws {
        let team = try await Team()
        let missing = await #expect(throws: TroupeError.self) { _ = try await team.coordinator.persona("p9") }
        #expect(missing?.code == .notFound && missing?.message.contains("known personas: p0") == true)
        let p0 = try await team.persona("p0")
        let slice = await #expect(throws: TroupeError.self) { _ = try await p0.share("x", in: "nowhere") }
        #expect(slice?.code == .notFound && slice?.message.contains("shared slices:") == true)
    }
}
