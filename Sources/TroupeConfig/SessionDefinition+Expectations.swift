import Foundation
import TroupeCore
import Yams

extension SessionDefinition {
    /// The origin an expectation asks for (`said_by`, `by`), if any.
    private static func origin(_ reader: MappingReader) -> Origin? {
        let saidBy = reader.string("said_by"), by = reader.choice("by", ["person", "persona", "import"])
        return saidBy == nil && by == nil ? nil : Origin(saidBy: saidBy, by: by)
    }

    static func readExpectation(
        _ node: Node, index: Int, source: YAMLSource, personas: [PersonaID], shared: [PersonaID],
        persona: (Node?, PersonaID?, [PersonaID]?) -> PersonaID?
    ) -> Expectation? {
        guard let m = MappingReader(node, in: source, path: "expect[\(index)]") else { return nil }
        defer { m.finish() }
        let kinds = ["recalls", "holds", "untouched", "stopped_by", "conflicts"]
        let present = kinds.filter { m.node.mapping?[$0] != nil }
        guard present.count == 1, let kind = present.first else {
            source.error("an expectation is one of \(kinds.joined(separator: ", "))", at: node)
            // Said once: the keys it has are not reported again as unknown.
            for (key, _) in m.node.mapping ?? [:] { if let text = key.scalar?.string { _ = m.node(text) } }
            return nil
        }
        func slice(_ node: Node?, _ name: PersonaID?) -> PersonaID? {
            guard let name else { return nil }
            guard shared.contains(name) else {
                var message = "'\(name)' is not among this session's shared slices (shared: \(shared.map(\.rawValue).joined(separator: ", ")))"
                if let guess = Suggestion.closest(to: name.rawValue, in: shared.map(\.rawValue)) {
                    message = "'\(name)' is not among this session's shared slices (did you mean '\(guess)'?)"
                } else {
                    message += "; add it to 'shared' to check it"
                }
                source.error(message, at: node)
                return nil
            }
            return name
        }
        switch kind {
        case "recalls":
            guard let r = m.mapping("recalls") else { return nil }
            defer { r.finish() }
            let who = persona(r.node("persona", required: true), r.name("persona"), personas)
            let query = r.string("query", required: true), words = text(r, required: true)
            let kind = r.choice("slice", as: SliceKind.self)
            let origin = Self.origin(r)
            guard let who, let query, let words else { return nil }
            return .recalls(persona: who, query: query, slice: kind, contains: words, origin: origin)
        case "holds":
            guard let h = m.mapping("holds") else { return nil }
            defer { h.finish() }
            let name = slice(h.node("slice", required: true), h.name("slice"))
            let words = text(h, required: true)
            let origin = Self.origin(h)
            guard let name, let words else { return nil }
            return .holds(slice: name, contains: words, origin: origin)
        case "untouched":
            return slice(m.node("untouched"), m.name("untouched")).map { .untouched(slice: $0) }
        case "stopped_by":
            return m.choice("stopped_by", Expectation.reasons).map { .stoppedBy($0) }
        default:
            guard let c = m.mapping("conflicts") else { return nil }
            defer { c.finish() }
            return c.int("at_most", in: 0...1_000_000).map { .conflictsAtMost($0) }
        }
    }
}
