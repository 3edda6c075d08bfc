import Foundation
import TroupeCore

/// mem0's memories, as `Memory.get_all()` / `MemoryClient.get_all()` return them and as people
/// save them: `{"results": [memory…], "relations"?: [...]}`, a bare list of memories, or one
/// memory per line (JSONL). A memory is `{"id", "memory", "hash"?, "metadata"?, "categories"?,
/// "user_id"?, "agent_id"?, "run_id"?, "created_at", "updated_at"?…}`.
///
/// Each memory becomes a semantic record of `--persona` (mem0's memories are facts its model
/// extracted), tagged with its categories; its id, times and every other field are kept in
/// metadata (`source_id`, `mem0`). The `relations` of mem0's graph memory
/// (`{"source", "relationship", "target"|"destination"}`) become knowledge-graph relations.
public enum Mem0Export {
    public static func read(_ bytes: [UInt8], file: String, context: ForeignContext) throws -> ForeignRecords {
        let owner = try context.requiredOwner(.mem0)
        if let refusal = context.refusal(.semantic, for: owner) { throw TroupeError(.invalidInput, refusal + " (mem0's memories are facts)") }
        var out = ForeignRecords()
        var seen: [String: String] = [:]
        for (location, value) in try items(bytes, file: file) {
            out.items += 1
            guard case .object(let memory) = value else {
                out.skipped.append(.init(location, "expected a memory (a JSON object)"))
                continue
            }
            if location.hasPrefix("relations") {
                relation(memory, at: location, owner: owner, context: context, into: &out, seen: &seen)
                continue
            }
            guard let text = ForeignJSON.text(memory["memory"] ?? memory["text"]) else {
                out.skipped.append(.init(location, field: "memory", memory["memory"] == nil ? "missing: no memory text" : "expected non-empty text"))
                continue
            }
            var tags: [String] = []
            if case .array(let list)? = memory["categories"] {
                for (i, item) in list.enumerated() {
                    if let category = ForeignJSON.text(item) { tags.append(category) } else {
                        out.skipped.append(.init(location, field: "categories[\(i)]", "expected text; left out"))
                    }
                }
            }
            let id = ForeignJSON.string(memory["id"]).flatMap { $0.isEmpty ? nil : $0 }
            let created = ForeignJSON.time(memory["created_at"])
            if memory["created_at"] != nil, memory["created_at"] != .null, created == nil {
                out.skipped.append(.init(location, field: "created_at", "not a time; the memory is dated at the import"))
            }
            var updated = ForeignJSON.time(memory["updated_at"])
            if let u = updated, let c = created, u < c { updated = nil }
            var fields: [String: JSONValue] = ["mem0": .object(ForeignJSON.compact(memory, dropping: ["memory", "text"]))]
            if let id { fields["source_id"] = .string(id) }
            let saidBy = ForeignJSON.text(memory["actor_id"]) ?? ForeignJSON.text(memory["user_id"]) ?? ForeignJSON.text(memory["agent_id"])
            let key = id.map { ["id", $0] } ?? ["memory", text, ForeignJSON.string(memory["created_at"]) ?? ""]
            let record = context.record(
                .mem0, owner: owner, slice: .semantic, content: text.trimmingCharacters(in: .whitespacesAndNewlines), key: key,
                saidBy: saidBy, createdAt: created, validFrom: updated ?? created, tags: tags, metadata: fields)
            out.add(record, at: location, seen: &seen)
        }
        return out
    }

    /// One of graph memory's relations, as a knowledge-graph relation.
    private static func relation(
        _ object: [String: JSONValue], at location: String, owner: PersonaID, context: ForeignContext, into out: inout ForeignRecords,
        seen: inout [String: String]
    ) {
        guard let from = ForeignJSON.text(object["source"]), let type = ForeignJSON.text(object["relationship"] ?? object["relation"]),
            let to = ForeignJSON.text(object["target"] ?? object["destination"])
        else {
            out.skipped.append(.init(location, "a relation needs source, relationship and target (text)"))
            return
        }
        var extra: [String: JSONValue] = ["imported_from": .string(ForeignFormat.mem0.rawValue), "mem0": .object(ForeignJSON.compact(object))]
        if let claim = context.claimMetadata, case .object(let fields)? = claim(.object(extra)) { extra = fields }
        let relation = KnowledgeGraphRecords.Relation(from: from, to: to, relationType: type)
        out.add(KnowledgeGraphRecords.record(.relation(relation), owner: owner, source: "mem0", at: context.now, extra: extra), at: location, seen: &seen)
    }

    /// Each memory of the file with where it is: `results[3]`, `[3]`, `line 4`, `relations[0]`.
    static func items(_ bytes: [UInt8], file: String) throws -> [(String, JSONValue)] {
        let first = bytes.first { ![0x20, 0x09, 0x0D, 0x0A].contains($0) }
        if first == UInt8(ascii: "{"), let lines = try jsonLines(bytes, file: file) { return lines }
        switch try ForeignJSON.parse(bytes, file: file) {
        case .array(let list):
            return list.enumerated().map { ("[\($0.offset)]", $0.element) }
        case .object(let object):
            var found: [(String, JSONValue)] = []
            var known = false
            for key in ["results", "memories", "relations"] {
                guard let value = object[key] else { continue }
                guard case .array(let list) = value else {
                    throw TroupeError(.invalidInput, "'\(key)' is not a list: not a mem0 export", context: file)
                }
                known = true
                found += list.enumerated().map { ("\(key)[\($0.offset)]", $0.element) }
            }
            // One memory alone (`Memory.get(id)`'s answer).
            if !known, object["memory"] != nil { return [("the memory", .object(object))] }
            guard known else {
                throw TroupeError(.invalidInput, "not a mem0 export: expected a list of memories, or an object with \"results\"", context: file)
            }
            return found
        default:
            throw TroupeError(.invalidInput, "not a mem0 export: expected a list of memories, or an object with \"results\"", context: file)
        }
    }

    /// The file's lines as JSON values when it is JSONL (its first line is a JSON value, the
    /// whole file is not); `nil` when it is one JSON document. A line that is not JSON in a JSONL
    /// file is an error naming it.
    private static func jsonLines(_ bytes: [UInt8], file: String) throws -> [(String, JSONValue)]? {
        if (try? JSONValue.parse(bytes)) != nil { return nil }
        var out: [(String, JSONValue)] = []
        var number = 0
        for slice in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            guard slice.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { continue }
            do {
                out.append(("line \(number)", try JSONValue.parse(Array(slice))))
            } catch let error as JSONValue.ParseError {
                // A first line that is not JSON: the file is one (broken) document, reported as such.
                if out.isEmpty { return nil }
                throw TroupeError(.invalidInput, "not valid JSON: \(error.reason)", context: "\(file):\(number):\(error.offset + 1)")
            }
        }
        return out
    }
}
