import Foundation
import TroupeCore
import TroupeRuntime

extension GraphAnswer {
    /// `troupe graph --json`: the entity asked about, its edges (or all), and the graph's size.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "edges": .array(edges.map(Self.json)), "entities": .number(Double(entityCount)), "edge_count": .number(Double(edgeCount)),
            "owners": owners.map { .array($0.map { .string($0.rawValue) }) } ?? .null,
            "build_ms": .number((buildSeconds * 1e6).rounded() / 1000), "answer_ms": .number((answerSeconds * 1e6).rounded() / 1000),
        ]
        if let entity {
            object["entity"] = .object([
                "name": .string(entity.name), "kind": .string(entity.kind.rawValue), "type": entity.type.map(JSONValue.string) ?? .null,
                "neighbours": .array(neighbours.map(JSONValue.string)),
            ])
        }
        return .object(object)
    }

    static func json(_ e: BeliefGraph.Edge) -> JSONValue {
        .object([
            "kind": .string(e.kind.rawValue), "subject": .string(e.subject), "attribute": .string(e.attribute), "value": .string(e.value),
            "ends": .bool(e.ends), "owner": .string(e.owner.rawValue), "record": .string(e.recordID), "version": .number(Double(e.version)),
            "valid_from": .string(Timestamp.format(e.validFrom)), "valid_to": e.validTo.map { .string(Timestamp.format($0)) } ?? .null,
            "said_by": e.saidBy.map(JSONValue.string) ?? .null, "trust": .number(Double(e.trust)), "method": e.method.map(JSONValue.string) ?? .null,
            "conversation": e.conversation.map(JSONValue.string) ?? .null, "turn": e.turn.map { .number(Double($0)) } ?? .null,
            "labelled_by_model": .bool(e.labelledByModel), "disputed": .bool(e.disputed), "sentence": .string(e.sentence),
        ])
    }

    /// One line per edge: `ana —employer→ fabrikam  (athena, since …, said by user, trust 4/4)`.
    public var lines: [String] {
        var out: [String] = []
        if let entity {
            let type = entity.type.flatMap { $0.lowercased() == entity.kind.rawValue ? nil : ", \($0)" } ?? ""
            var head = "\(entity.name) (\(entity.kind.rawValue)\(type)): \(edges.count) edge\(edges.count == 1 ? "" : "s")"
            if !neighbours.isEmpty { head += "; one hop: " + neighbours.joined(separator: ", ") }
            out.append(head)
        }
        for e in edges {
            let arrow = e.kind == .observation ? "\(e.subject): \(e.value)" : "\(e.subject) —\(e.attribute)→ \(e.value)"
            var notes = [e.owner.rawValue, "since " + Timestamp.format(e.validFrom)]
            if let to = e.validTo { notes.append("until " + Timestamp.format(to)) }
            if let saidBy = e.saidBy { notes.append("from \(saidBy)" + (e.turn.map { $0 > 0 ? " in turn \($0)" : "" } ?? "")) }
            notes.append("trust \(e.trust)/4")
            if e.ends { notes.append("no longer") }
            if e.disputed { notes.append("disputed") }
            out.append("  \(arrow)  (\(notes.joined(separator: ", ")))  [\(e.recordID) v\(e.version)]")
        }
        return out
    }
}
