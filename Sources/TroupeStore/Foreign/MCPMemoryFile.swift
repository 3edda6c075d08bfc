import Foundation
import TroupeCore

/// The MCP memory server's file (modelcontextprotocol/servers, src/memory): JSON lines of
/// `{"type":"entity","name","entityType","observations":[…]}` and
/// `{"type":"relation","from","to","relationType"}`, read into ``KnowledgeGraphRecords`` of
/// one persona or shared slice (semantic memory).
///
/// A line that is not JSON is an error naming it (nothing is imported); a line that is JSON
/// but not an entity or a relation is reported and left out, as are the observations that are
/// not text. The names are the graph's ids, so a second import of the file adds nothing.
public enum MCPMemoryFile {
    public static func read(_ bytes: [UInt8], file: String, context: ForeignContext) throws -> ForeignRecords {
        let owner = try context.requiredOwner(.mcpMemory)
        if let refusal = context.refusal(.semantic, for: owner) { throw TroupeError(.invalidInput, refusal + " (a knowledge graph is semantic)") }
        var out = ForeignRecords()
        var seen: [String: String] = [:]
        var extra: [String: JSONValue] = ["imported_from": .string(ForeignFormat.mcpMemory.rawValue)]
        if let claim = context.claimMetadata, case .object(let fields)? = claim(.object(extra)) { extra = fields }

        var number = 0
        for slice in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let line = Array(slice)
            guard line.contains(where: { !Set<UInt8>([0x20, 0x09, 0x0D]).contains($0) }) else { continue }
            let value: JSONValue
            do {
                value = try JSONValue.parse(line)
            } catch let error as JSONValue.ParseError {
                throw TroupeError(.invalidInput, "not valid JSON: \(error.reason)", context: "\(file):\(number):\(error.offset + 1)")
            }
            out.items += 1
            let at = "line \(number)"
            guard case .object(let object) = value else {
                out.skipped.append(.init(at, "expected a JSON object with a \"type\" of entity or relation"))
                continue
            }
            func text(_ key: String) -> String? { ForeignJSON.string(object[key]) }
            switch text("type") {
            case "entity":
                guard let name = text("name"), !name.isEmpty else {
                    out.skipped.append(.init(at, field: "name", "an entity needs a name (text)"))
                    continue
                }
                let type = text("entityType") ?? ""
                if object["entityType"] != nil, text("entityType") == nil {
                    out.skipped.append(.init(at, field: "entityType", "expected text; the entity is imported without a type"))
                }
                out.add(KnowledgeGraphRecords.record(.entity(name: name, type: type), owner: owner, source: "mcp-memory", at: context.now, extra: extra), at: at, seen: &seen)
                guard case .array(let list)? = object["observations"] else {
                    if object["observations"] != nil { out.skipped.append(.init(at, field: "observations", "expected a list of text")) }
                    continue
                }
                for (i, observation) in list.enumerated() {
                    guard let value = ForeignJSON.text(observation) else {
                        out.skipped.append(.init(at, field: "observations[\(i)]", "expected non-empty text"))
                        continue
                    }
                    let item = KnowledgeGraphRecords.Item.observation(entity: name, text: value, position: i)
                    out.add(KnowledgeGraphRecords.record(item, owner: owner, source: "mcp-memory", at: context.now, extra: extra), at: at, seen: &seen)
                }
            case "relation":
                guard let from = text("from"), let to = text("to"), let type = text("relationType"), !from.isEmpty, !to.isEmpty, !type.isEmpty else {
                    let field = ["from", "to", "relationType"].first { (text($0) ?? "").isEmpty }
                    out.skipped.append(.init(at, field: field, "a relation needs from, to and relationType (text)"))
                    continue
                }
                let relation = KnowledgeGraphRecords.Relation(from: from, to: to, relationType: type)
                out.add(KnowledgeGraphRecords.record(.relation(relation), owner: owner, source: "mcp-memory", at: context.now, extra: extra), at: at, seen: &seen)
            case let other:
                out.skipped.append(.init(at, field: "type", other.map { "'\($0)' is not entity or relation" } ?? "missing: expected entity or relation"))
            }
        }
        return out
    }
}
